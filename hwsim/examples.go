package hwsim

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
)

//go:embed configs/*.json
var configFS embed.FS

// ExampleConfigNames lists the shipped designs (configs/*.json, without
// extension): "binary", "fp12", "fp12-offchip", "fp16", "ternary".
func ExampleConfigNames() []string {
	ents, _ := fs.ReadDir(configFS, "configs")
	var names []string
	for _, e := range ents {
		names = append(names, e.Name()[:len(e.Name())-len(path.Ext(e.Name()))])
	}
	sort.Strings(names)
	return names
}

// ExampleConfig returns one of the shipped designs by name (see
// ExampleConfigNames), validated.
func ExampleConfig(name string) (Config, error) {
	p := "configs/" + name + ".json"
	data, err := configFS.ReadFile(p)
	if err != nil {
		return Config{}, fmt.Errorf("hwsim: no example config %q (have %v)", name, ExampleConfigNames())
	}
	return ParseConfig("hwsim/"+p, data)
}

// MustExampleConfig is ExampleConfig for the shipped names; it panics on an
// unknown name (a programming error).
func MustExampleConfig(name string) Config {
	c, err := ExampleConfig(name)
	if err != nil {
		panic(err)
	}
	return c
}
