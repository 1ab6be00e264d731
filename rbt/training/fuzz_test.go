package training

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseManifest: any bytes give a manifest or an error, never a panic,
// and an accepted manifest names only plain files of the directory.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 0 a.bin\n"))
	f.Add([]byte("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 12 a\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 3 b\n"))
	f.Add([]byte("zz 1 ../x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := parseManifest(data)
		if err != nil {
			return
		}
		for _, e := range entries {
			if e.name != filepath.Base(e.name) || e.name == ".." || e.size < 0 {
				t.Fatalf("accepted entry %+v", e)
			}
		}
	})
}

// FuzzReadState: a checkpoint's loop.json with any contents reads as a state
// or gives an error naming the file, never a panic.
func FuzzReadState(f *testing.F) {
	f.Add([]byte(`{"version":1,"step":12,"history":{"metric":"BPC","points":[{"step":6,"valid":5.4,"has_valid":true}]},"variables":[{"path":"/w","trainable":true}]}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{"version":1,"schedule":{"x":[1,2]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, StateFile), data, 0o644); err != nil {
			t.Fatal(err)
		}
		st, err := ReadState(dir)
		if err == nil && st.Version != stateVersion {
			t.Fatalf("accepted version %d", st.Version)
		}
	})
}
