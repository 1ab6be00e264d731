package hwsim

import (
	"os/exec"
	"strings"
	"testing"
)

// The simulator and the packed engine must build without GoMLX (the design
// rule of issue 14): they run trained models on machines that have no
// training stack. This lists their non-test dependencies with the go tool
// and names the chain that brings a GoMLX package in, if any.
func TestNoGoMLXDependency(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH")
	}
	roots := []string{"github.com/rbt-project/rbt/hwsim", "github.com/rbt-project/rbt/rbt/packed"}
	args := append([]string{"list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`}, roots...)
	out, err := exec.Command(goTool, args...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 {
			imports[f[0]] = f[1:]
		}
	}
	if len(imports) < 3 {
		t.Fatalf("go list returned %d packages: %q", len(imports), out)
	}
	forbidden := func(p string) bool {
		return strings.HasPrefix(p, "github.com/gomlx/gomlx") || strings.HasPrefix(p, "github.com/gomlx/compute")
	}
	for _, root := range roots {
		if chain := findChain(imports, root, forbidden, map[string]bool{}); chain != nil {
			t.Errorf("%s depends on GoMLX: %s", root, strings.Join(chain, " -> "))
		}
	}
}

// findChain returns an import path from p to a package for which bad is true, or nil.
func findChain(imports map[string][]string, p string, bad func(string) bool, seen map[string]bool) []string {
	if bad(p) {
		return []string{p}
	}
	if seen[p] {
		return nil
	}
	seen[p] = true
	for _, q := range imports[p] {
		if c := findChain(imports, q, bad, seen); c != nil {
			return append([]string{p}, c...)
		}
	}
	return nil
}

func TestFindChain(t *testing.T) {
	imports := map[string][]string{"a": {"b", "c"}, "b": {"d"}, "c": {"github.com/gomlx/gomlx/core/tensors"}}
	bad := func(p string) bool { return strings.HasPrefix(p, "github.com/gomlx/") }
	if got := strings.Join(findChain(imports, "a", bad, map[string]bool{}), " -> "); got != "a -> c -> github.com/gomlx/gomlx/core/tensors" {
		t.Fatalf("chain %q", got)
	}
	if findChain(imports, "b", bad, map[string]bool{}) != nil {
		t.Fatal("clean package reported")
	}
}
