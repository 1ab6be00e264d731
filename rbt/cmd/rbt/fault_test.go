package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gomlx/gomlx/ml/model"

	"github.com/rbt-project/rbt/rbt/training"
)

// killPoint is a place where the fault hook pauses the binary for a kill.
type killPoint struct{ fault, marker string }

// allKillPoints lists every pause point of the reference run: each of its 28
// checkpoint writes (2 models x (12 regular + 2 best)) at each of the four
// phases of a write, and after each of the first model's 12 steps.
func allKillPoints() []killPoint {
	var pts []killPoint
	for w := 1; w <= 28; w++ {
		for _, ph := range []string{"vars", "state", "manifest", "renamed"} {
			pts = append(pts, killPoint{fmt.Sprintf("pause:ckpt:%d:%s", w, ph), "rbt-fault: paused in checkpoint write"})
		}
	}
	for s := 1; s <= 12; s++ {
		pts = append(pts, killPoint{fmt.Sprintf("pause:step:%d", s), "rbt-fault: paused after step"})
	}
	return pts
}

// killPoints is FAULT_TRIALS points (default 20) spread evenly over allKillPoints.
func killPoints(t *testing.T) []killPoint {
	all := allKillPoints()
	n := 20
	if v := os.Getenv("FAULT_TRIALS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("FAULT_TRIALS=%q: want a positive number", v)
		}
	}
	if n > len(all) {
		t.Logf("FAULT_TRIALS=%d: the run has %d kill points; trying all", n, len(all))
		n = len(all)
	}
	pts := make([]killPoint, n)
	for i := range pts {
		pts[i] = all[i*len(all)/n]
	}
	return pts
}

// killAt runs the training in dir until the fault point, kills it with
// SIGKILL and checks that every checkpoint left verifies.
func killAt(t *testing.T, dir string, pt killPoint) {
	t.Helper()
	p, ok := runUntil(t, trainCmd(t, dir, "RBT_FAULT="+pt.fault), pt.marker, syscall.SIGKILL)
	if !ok || !p.signaled {
		t.Fatalf("%s: did not pause (exit %d):\n%s", pt.fault, p.code, p.stderr)
	}
	verifyAll(t, dir)
}

// resume runs the training in dir to its end and compares it with the
// uninterrupted run.
func resume(t *testing.T, dir string) proc {
	t.Helper()
	p := run(t, trainCmd(t, dir))
	if p.code != 0 {
		t.Fatalf("resume: exit %d\n%s\n%s", p.code, p.stdout, p.stderr)
	}
	assertSame(t, reference(t), snapshot(t, dir))
	return p
}

// TestKillResume: rbt train killed with SIGKILL at FAULT_TRIALS points
// (default 20; inside checkpoint writes at every phase, and between steps),
// then run again: it takes over the dead process's lock, resumes, and ends
// bit-identical to an uninterrupted run (every checkpoint's weights, optimizer
// state and RNG, the loop state and learning curve, results.json). Two cases
// are killed a second time while resuming. Every pause point of the run:
// FAULT_TRIALS=124.
func TestKillResume(t *testing.T) {
	reference(t)
	pts := killPoints(t)
	cases := make([][]killPoint, 0, len(pts)+2)
	for _, pt := range pts {
		cases = append(cases, []killPoint{pt})
	}
	all := allKillPoints()
	// Between a validation step's best checkpoint and its regular one (a case
	// FAULT_TRIALS=124 found), then two runs killed twice.
	cases = append(cases, []killPoint{all[4*12+3]}, []killPoint{all[9], all[len(all)-5]}, []killPoint{all[60], {"pause:ckpt:2:renamed", "rbt-fault: paused"}})
	tried, resumed := 0, 0
	for _, kills := range cases {
		var names []string
		for _, k := range kills {
			names = append(names, k.fault)
		}
		t.Run(strings.Join(names, "+"), func(t *testing.T) {
			tried++
			dir := filepath.Join(t.TempDir(), "run")
			for _, k := range kills {
				killAt(t, dir, k)
			}
			p := resume(t, dir)
			if !strings.Contains(p.stdout, "ended without releasing its lock (killed?): taken over") {
				t.Errorf("resume does not report the stale lock:\n%s", p.stdout)
			}
			if !t.Failed() {
				resumed++
			}
		})
	}
	t.Logf("kill runs: %d tried (the last two killed twice), %d resumed bit-identical to the uninterrupted run", tried, resumed)
}

// TestSignalSaves: SIGINT and SIGTERM stop the run at a step with its
// checkpoint, the message says how to resume, the exit status is 1; the
// resumed run ends bit-identical.
func TestSignalSaves(t *testing.T) {
	reference(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			p, ok := runUntil(t, trainCmd(t, dir, "RBT_FAULT=sleep:step:4:3000"), "rbt-fault: sleeping", sig)
			if !ok || p.signaled || p.code != exitFailed {
				t.Fatalf("exit %d (signaled %v), want %d:\n%s", p.code, p.signaled, exitFailed, p.stderr)
			}
			for _, want := range []string{"stopped at step 4", "run the same command again to resume"} {
				if !strings.Contains(p.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, p.stderr)
				}
			}
			latest, step, ok, err := training.LatestCheckpoint(filepath.Join(dir, "bn-binary"))
			if err != nil || !ok || step != 4 {
				t.Fatalf("latest checkpoint %s step %d (%v, %v), want step 4", latest, step, ok, err)
			}
			verifyAll(t, dir)
			resume(t, dir)
		})
	}
}

// TestWriteErrors: a checkpoint write that fails (an I/O error injected at
// each phase of a write, or RLIMIT_FSIZE on the process: a full disk as far
// as the writer can tell) stops the run with an error naming the checkpoint
// and exit status 1; the checkpoints before it are intact and loadable, and a
// later run resumes to the same end.
func TestWriteErrors(t *testing.T) {
	reference(t)
	type tc struct {
		name   string
		fault  string   // RBT_FAULT of the failing run
		prefix []string // command prefix (ulimit)
		pre    string   // kill point before the failing run ("": none)
		want   []string // in stderr
	}
	var cases []tc
	for _, w := range []struct {
		n    int
		name string
	}{{3, "ckpt-00000003"}, {6, "best-00000006"}, {7, "ckpt-00000006"}, {16, "ckpt-00000002"}} {
		for _, ph := range []string{"vars", "state", "manifest", "renamed"} {
			cases = append(cases, tc{name: fmt.Sprintf("inject-%d-%s", w.n, ph), fault: fmt.Sprintf("fail:ckpt:%d:%s", w.n, ph),
				want: []string{"writing checkpoint ", string(filepath.Separator) + w.name, "injected I/O error"}})
		}
	}
	// 64 KiB: less than one checkpoint's variables file.
	cases = append(cases, tc{name: "rlimit-fsize", prefix: []string{"bash", "-c", `ulimit -f 64 && exec "$0" "$@"`},
		pre: "pause:step:5", want: []string{"writing checkpoint ", "bn-binary" + string(filepath.Separator) + "ckpt-00000005", "the write was cut short"}})
	passed := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if !t.Failed() {
					passed++
				}
			}()
			dir := filepath.Join(t.TempDir(), "run")
			if c.pre != "" {
				killAt(t, dir, killPoint{c.pre, "rbt-fault: paused"})
			}
			cmd := trainCmd(t, dir, "RBT_FAULT="+c.fault)
			if c.prefix != nil {
				cmd.Args = append(append([]string(nil), c.prefix...), cmd.Args...)
				cmd.Path = "/bin/bash"
			}
			p := run(t, cmd)
			if p.code != exitFailed {
				t.Fatalf("exit %d, want %d:\n%s", p.code, exitFailed, p.stderr)
			}
			for _, want := range c.want {
				if !strings.Contains(p.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, p.stderr)
				}
			}
			if verifyAll(t, dir) == 0 {
				t.Fatal("no checkpoint left")
			}
			for _, m := range []string{"bn-binary", "bn-ternary"} {
				if path, _, ok, _ := training.LatestCheckpoint(filepath.Join(dir, m)); ok {
					if _, err := training.LoadCheckpoint(model.NewStore(), path); err != nil {
						t.Errorf("previous checkpoint not loadable: %v", err)
					}
				}
			}
			resume(t, dir)
		})
	}
	t.Logf("write errors: %d of %d cases stopped with the path named, kept their checkpoints and resumed bit-identical", passed, len(cases))
}

// damage helpers: each changes one file of a checkpoint directory.
func truncateHalf(t *testing.T, p string) {
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, st.Size()/2); err != nil {
		t.Fatal(err)
	}
}

func flipByte(t *testing.T, p string) {
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)*2/3] ^= 0x10
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// gomlxFile returns the checkpoint's GoMLX file with the extension.
func gomlxFile(t *testing.T, ckpt, ext string) string {
	m, _ := filepath.Glob(filepath.Join(ckpt, "checkpoint-*"+ext))
	if len(m) != 1 {
		t.Fatalf("%s: %d %s files", ckpt, len(m), ext)
	}
	return m[0]
}

// TestDamagedCheckpoints: a checkpoint truncated, with flipped bytes, or
// with files missing or added is detected (its SHA-256 manifest), the resume
// says so, moves it aside and falls back to the newest intact checkpoint, and
// ends bit-identical; with every checkpoint damaged the run refuses to start
// (exit 1) and moves nothing.
func TestDamagedCheckpoints(t *testing.T) {
	reference(t)
	const newest, older, best = "ckpt-00000008", "ckpt-00000007", "best-00000006"
	type tc struct {
		name   string
		damage func(t *testing.T, m string) // m: the first model's directory
		moved  []string                     // moved aside, as damaged-*
	}
	cases := []tc{
		{"truncated-variables", func(t *testing.T, m string) { truncateHalf(t, gomlxFile(t, filepath.Join(m, newest), ".bin")) }, []string{newest}},
		{"flipped-variables", func(t *testing.T, m string) { flipByte(t, gomlxFile(t, filepath.Join(m, newest), ".bin")) }, []string{newest}},
		{"truncated-index", func(t *testing.T, m string) { os.Truncate(gomlxFile(t, filepath.Join(m, newest), ".json"), 0) }, []string{newest}},
		{"flipped-loop-state", func(t *testing.T, m string) { flipByte(t, filepath.Join(m, newest, training.StateFile)) }, []string{newest}},
		{"truncated-loop-state", func(t *testing.T, m string) { truncateHalf(t, filepath.Join(m, newest, training.StateFile)) }, []string{newest}},
		{"missing-manifest", func(t *testing.T, m string) { os.Remove(filepath.Join(m, newest, training.ManifestFile)) }, []string{newest}},
		{"flipped-manifest", func(t *testing.T, m string) { flipByte(t, filepath.Join(m, newest, training.ManifestFile)) }, []string{newest}},
		{"missing-variables", func(t *testing.T, m string) { os.Remove(gomlxFile(t, filepath.Join(m, newest), ".bin")) }, []string{newest}},
		{"extra-file", func(t *testing.T, m string) { os.WriteFile(filepath.Join(m, newest, "stray"), []byte("x"), 0o644) }, []string{newest}},
		{"damaged-best", func(t *testing.T, m string) { flipByte(t, gomlxFile(t, filepath.Join(m, best), ".bin")) }, []string{best}},
		{"two-newest-damaged", func(t *testing.T, m string) {
			flipByte(t, gomlxFile(t, filepath.Join(m, newest), ".bin"))
			truncateHalf(t, filepath.Join(m, older, training.StateFile))
		}, []string{newest, older}},
	}
	detected := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			killAt(t, dir, killPoint{"pause:step:9", "rbt-fault: paused"})
			m := filepath.Join(dir, "bn-binary")
			c.damage(t, m)
			p := run(t, trainCmd(t, dir))
			if p.code != 0 {
				t.Fatalf("resume: exit %d\n%s\n%s", p.code, p.stdout, p.stderr)
			}
			if !strings.Contains(p.stdout, "is damaged") {
				t.Errorf("the resume does not report the damage:\n%s", p.stdout)
			}
			for _, name := range c.moved {
				if _, err := os.Stat(filepath.Join(m, training.DamagedPrefix+name)); err != nil {
					t.Errorf("damaged %s not moved aside: %v", name, err)
				}
				os.RemoveAll(filepath.Join(m, training.DamagedPrefix+name))
			}
			assertSame(t, reference(t), snapshot(t, dir))
			if !t.Failed() {
				detected++
			}
		})
	}
	t.Run("all-damaged", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "run")
		killAt(t, dir, killPoint{"pause:step:9", "rbt-fault: paused"})
		m := filepath.Join(dir, "bn-binary")
		for _, name := range []string{newest, older, best} {
			flipByte(t, filepath.Join(m, name, training.StateFile))
		}
		p := run(t, trainCmd(t, dir))
		if p.code != exitFailed || !strings.Contains(p.stderr, "no intact checkpoint to resume from") || !strings.Contains(p.stderr, "start afresh") {
			t.Fatalf("exit %d, want %d with a clear error:\n%s", p.code, exitFailed, p.stderr)
		}
		for _, name := range []string{newest, older, best} {
			if _, err := os.Stat(filepath.Join(m, name)); err != nil {
				t.Errorf("%s moved: %v", name, err)
			}
		}
		if !t.Failed() {
			detected++
		}
	})
	t.Run("damaged-results", func(t *testing.T) {
		// results.json is derived from the checkpoints: a rerun finds the
		// training done and writes it again.
		dir := filepath.Join(t.TempDir(), "run")
		if p := run(t, trainCmd(t, dir)); p.code != 0 {
			t.Fatalf("exit %d\n%s", p.code, p.stderr)
		}
		truncateHalf(t, filepath.Join(dir, "results.json"))
		if p := run(t, trainCmd(t, dir)); p.code != 0 {
			t.Fatalf("rerun: exit %d\n%s", p.code, p.stderr)
		}
		assertSame(t, reference(t), snapshot(t, dir))
	})
	t.Logf("damaged checkpoints: %d of %d cases detected with a clear message", detected, len(cases)+1)
}

// TestSecondProcessRefused: a second rbt train on a directory in use exits
// with status 1 and names the first process; the first's files are
// untouched; after the first is killed, a third run takes over its stale
// lock and ends bit-identical.
func TestSecondProcessRefused(t *testing.T) {
	reference(t)
	dir := filepath.Join(t.TempDir(), "run")
	first, ok := startUntil(t, trainCmd(t, dir, "RBT_FAULT=pause:step:3"), "rbt-fault: paused")
	if !ok {
		t.Fatalf("first run did not pause:\n%s", first.se.String())
	}
	before := rawFiles(t, dir)
	p := run(t, trainCmd(t, dir))
	want := fmt.Sprintf("is in use by pid %d on ", first.cmd.Process.Pid)
	if p.code != exitFailed || !strings.Contains(p.stderr, want) {
		t.Errorf("second process: exit %d, want %d and %q:\n%s", p.code, exitFailed, want, p.stderr)
	}
	after := rawFiles(t, dir)
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Errorf("the second process changed the first's files")
	}
	if p := first.stop(syscall.SIGKILL); !p.signaled {
		t.Fatalf("first run: exit %d", p.code)
	}
	p = resume(t, dir)
	if !strings.Contains(p.stdout, "taken over") {
		t.Errorf("no stale-lock note:\n%s", p.stdout)
	}
}

func rawFiles(t *testing.T, dir string) map[string]string {
	out := map[string]string{}
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			data, _ := os.ReadFile(p)
			out[p] = string(data)
		}
		return nil
	})
	return out
}

// TestNaNWeights: NaN written into a weight after step 8 stops that model's
// training naming the step and the variable, keeps its last good checkpoint
// (step 7), scores it, writes the results and exits with status 3.
func TestNaNWeights(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	p := run(t, trainCmd(t, dir, "RBT_FAULT=nan:step:8"))
	if p.code != exitDiverged {
		t.Fatalf("exit %d, want %d:\n%s", p.code, exitDiverged, p.stderr)
	}
	for _, want := range []string{"bn-binary: training diverged at step 8", "variable /rnn/layer_0/qw_x has a non-finite value NaN",
		"last good checkpoint: " + filepath.Join(dir, "bn-binary", "ckpt-00000007")} {
		if !strings.Contains(p.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, p.stderr)
		}
	}
	for _, m := range []string{"bn-binary", "bn-ternary"} {
		if _, step, ok, err := training.LatestCheckpoint(filepath.Join(dir, m)); !ok || err != nil || step != 7 {
			t.Errorf("%s: latest checkpoint at step %d (%v %v), want 7", m, step, ok, err)
		}
	}
	verifyAll(t, dir)
	if _, err := os.Stat(filepath.Join(dir, "results.json")); err != nil {
		t.Error(err)
	}
}
