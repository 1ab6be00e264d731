package training

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLockDir: a second holder is refused with the first's pid; an unlocked
// directory can be taken again; a lock file left with contents by a holder
// that did not unlock (killed) is taken over and reported as stale.
func TestLockDir(t *testing.T) {
	dir := t.TempDir()
	first, err := LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LockDir(dir)
	var le *LockedError
	if !errors.As(err, &le) || le.Holder.PID != os.Getpid() || !strings.Contains(err.Error(), "in use by pid") {
		t.Fatalf("second lock: %v", err)
	}
	first.Unlock()
	again, err := LockDir(dir)
	if err != nil || again.Stale.PID != 0 {
		t.Fatalf("after unlock: %v, stale %+v", err, again.Stale)
	}
	again.f.Close() // as a killed process: released, contents left.
	again.f = nil
	taken, err := LockDir(dir)
	if err != nil || taken.Stale.PID != os.Getpid() {
		t.Fatalf("stale lock: %v, stale %+v", err, taken.Stale)
	}
	taken.Unlock()
	if data, _ := os.ReadFile(filepath.Join(dir, LockFile)); len(data) != 0 {
		t.Errorf("lock file after Unlock: %q", data)
	}
}
