package hwsim

import (
	"encoding/json"
	"testing"
)

// FuzzParseConfig: a design file with any contents (JSON or YAML) parses into
// a config that validates, or gives an error naming the file; never a panic.
// Seeds: every shipped design as JSON, and testdata/fuzz/FuzzParseConfig.
func FuzzParseConfig(f *testing.F) {
	for _, name := range ExampleConfigNames() {
		c, err := ExampleConfig(name)
		if err != nil {
			f.Fatal(err)
		}
		data, err := json.Marshal(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(false, data)
	}
	f.Add(true, []byte("name: x\nweights: binary\n"))
	f.Fuzz(func(t *testing.T, yaml bool, data []byte) {
		name := "design.json"
		if yaml {
			name = "design.yaml"
		}
		c, err := ParseConfig(name, data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("ParseConfig accepted an invalid config: %v", err)
		}
	})
}
