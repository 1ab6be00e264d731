package main

// Process-level tests: they build the real rbt binary and run it as a
// subprocess at the smoke budget (fixed seeds), the way a user's machine
// hurts it: kill -9, signals, write errors, damaged files, two processes on one
// directory, NaN weights, bad input. Each case asserts what is on disk after.
// The test-only fault hook training.FaultEnv stops the binary at chosen points
// (inside a checkpoint write, after a step) so that kill points are exact.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rbt-project/rbt/rbt/training"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// rbtBinary builds rbt once per test process.
func rbtBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("process-level test: builds and runs the rbt binary (skipped with -short)")
	}
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rbt-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "rbt")
		goCmd, err := exec.LookPath("go")
		if err != nil {
			goCmd = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		}
		out, err := exec.Command(goCmd, "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// dataRoot is the shared data directory (../shared/data beside the repository).
func dataRoot(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("../../../../shared/data")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(p, "ptb-char")); err != nil {
		t.Skipf("process-level test needs the PTB characters in %s: %v", p, err)
	}
	return p
}

type proc struct {
	code           int
	signaled       bool
	stdout, stderr string
}

// rbtCmd is the rbt command line run in a fresh working directory cwd, with
// RBT_DATA set and RBT_BUDGET / RBT_FAULT from env only.
func rbtCmd(t *testing.T, cwd string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(rbtBinary(t), args...)
	cmd.Dir = cwd
	cmd.Env = append(filteredEnv(), "RBT_DATA="+dataRoot(t))
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

func filteredEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "RBT_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// run runs cmd to its end (at most two minutes).
func run(t *testing.T, cmd *exec.Cmd) proc {
	t.Helper()
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	return finish(cmd, cmd.Wait(), so.String(), se.String())
}

func finish(cmd *exec.Cmd, err error, so, se string) proc {
	p := proc{stdout: so, stderr: se}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		p.signaled, p.code = true, -1
	} else if err != nil {
		p.code = cmd.ProcessState.ExitCode()
	}
	return p
}

// started is a process started by startUntil.
type started struct {
	cmd  *exec.Cmd
	so   bytes.Buffer
	se   strings.Builder
	done chan struct{}
	p    proc
}

// startUntil starts cmd and returns once a line of its stderr contains
// marker (ok true) or the process has ended (ok false).
func startUntil(t *testing.T, cmd *exec.Cmd, marker string) (s *started, ok bool) {
	t.Helper()
	s = &started{cmd: cmd, done: make(chan struct{})}
	cmd.Stdout = &s.so
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	seen := make(chan bool, 1)
	go func() {
		defer close(s.done)
		defer timer.Stop()
		sc := bufio.NewScanner(pipe)
		found := false
		for sc.Scan() {
			s.se.WriteString(sc.Text() + "\n")
			if !found && strings.Contains(sc.Text(), marker) {
				found = true
				seen <- true
			}
		}
		if !found {
			seen <- false
		}
		s.p = finish(cmd, cmd.Wait(), s.so.String(), s.se.String())
	}()
	return s, <-seen
}

// stop sends sig and waits for the end.
func (s *started) stop(sig syscall.Signal) proc {
	s.cmd.Process.Signal(sig)
	<-s.done
	return s.p
}

// runUntil starts cmd, waits for a line of its stderr containing marker, then
// sends it sig and waits for its end. ok is false when the process ended
// before printing marker.
func runUntil(t *testing.T, cmd *exec.Cmd, marker string, sig syscall.Signal) (proc, bool) {
	t.Helper()
	s, ok := startUntil(t, cmd, marker)
	return s.stop(sig), ok
}

// The run every fault test reproduces: two models, 12 steps each, a
// checkpoint after every step, validation at steps 6 and 12.
var trainArgs = []string{"train", "-budget", "smoke", "-model", "bn-binary,bn-ternary"}

func trainCmd(t *testing.T, dir string, env ...string) *exec.Cmd {
	return rbtCmd(t, t.TempDir(), env, append(append([]string(nil), trainArgs...), "-dir", dir)...)
}

var (
	refOnce sync.Once
	refSnap map[string]string
	refErr  string
)

// reference is the snapshot of an uninterrupted run.
func reference(t *testing.T) map[string]string {
	t.Helper()
	refOnce.Do(func() {
		dir := filepath.Join(t.TempDir(), "ref")
		p := run(t, trainCmd(t, dir))
		if p.code != 0 {
			refErr = fmt.Sprintf("uninterrupted run: exit %d\n%s%s", p.code, p.stdout, p.stderr)
			return
		}
		refSnap = snapshot(t, dir)
	})
	if refErr != "" {
		t.Fatal(refErr)
	}
	return refSnap
}

var gomlxName = regexp.MustCompile(`checkpoint-n\d+-\d{8}-\d{6}-`)

// snapshot reads what a run leaves on disk, in a form equal between two runs
// of the same settings: every checkpoint's variables (the .bin bytes, the
// GoMLX index), its loop state (position, optimizer-free state, learning
// curve) with wall times zeroed, the settings files, results.json with wall
// times zeroed. Checkpoint file names lose GoMLX's timestamp. Every checkpoint
// must verify against its manifest (which hashes the wall times, so is not
// compared itself), and no temporary or damaged checkpoint may be left.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		base := filepath.Base(p)
		if info.IsDir() {
			if strings.HasPrefix(base, ".tmp-") || strings.HasPrefix(base, training.DamagedPrefix) {
				t.Errorf("left on disk: %s", rel)
				return filepath.SkipDir
			}
			if strings.HasPrefix(base, training.CkptPrefix) || strings.HasPrefix(base, training.BestPrefix) {
				if err := training.VerifyCheckpoint(p); err != nil {
					t.Errorf("checkpoint does not verify: %v", err)
				}
			}
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch {
		case base == training.ManifestFile || base == training.LockFile:
			return nil
		case base == training.StateFile:
			data = zeroTimes(t, p, data, func(k string) bool { return k == "seconds" })
		case base == "results.json":
			data = zeroTimes(t, p, data, func(k string) bool { return strings.HasSuffix(k, "Seconds") || k == "Elapsed" })
		case strings.HasSuffix(base, ".json") && !strings.HasPrefix(base, "checkpoint-") && base != "charlm.json":
			return nil
		case strings.HasSuffix(base, ".bin") || strings.HasSuffix(base, ".json"):
		default:
			return nil // figures and results.md: derived from results.json
		}
		out[gomlxName.ReplaceAllString(rel, "checkpoint-")] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func zeroTimes(t *testing.T, p string, data []byte, isTime func(string) bool) []byte {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Errorf("%s: %v", p, err)
		return data
	}
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			for k, e := range x {
				if isTime(k) {
					x[k] = 0
				} else {
					walk(e)
				}
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	out, _ := json.MarshalIndent(v, "", " ")
	return out
}

// assertSame reports every file of got that differs from want.
func assertSame(t *testing.T, want, got map[string]string) {
	t.Helper()
	var names []string
	for k := range want {
		names = append(names, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	bad := 0
	for _, k := range names {
		w, wok := want[k]
		g, gok := got[k]
		switch {
		case !gok:
			t.Errorf("missing after resume: %s", k)
		case !wok:
			t.Errorf("extra after resume: %s", k)
		case w != g:
			t.Errorf("differs from the uninterrupted run: %s", k)
		default:
			continue
		}
		if bad++; bad > 8 {
			t.Fatal("too many differences")
		}
	}
	if len(want) < 10 {
		t.Fatalf("reference snapshot has only %d files", len(want))
	}
}

// verifyAll checks every checkpoint left in dir (recursively) against its manifest.
func verifyAll(t *testing.T, dir string) (n int) {
	t.Helper()
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.IsDir() && (strings.HasPrefix(info.Name(), training.CkptPrefix) || strings.HasPrefix(info.Name(), training.BestPrefix)) {
			n++
			if err := training.VerifyCheckpoint(p); err != nil {
				t.Errorf("after the fault: %v", err)
			}
		}
		return nil
	})
	return n
}
