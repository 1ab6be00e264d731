package training

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ManifestFile is written last inside every checkpoint directory: one line
// per other file, "sha256-hex size name" (sorted by name). A checkpoint whose
// files do not match it (truncated, bytes flipped, a file missing or added)
// is damaged: LoadCheckpoint refuses it and a resuming loop falls back to the
// newest intact checkpoint. The rename into place already makes a checkpoint
// complete-or-absent against crashes; the manifest catches what happens to the
// files afterwards (a bad disk, a copy cut short, an editor).
const ManifestFile = "MANIFEST.sha256"

// DamagedError reports a checkpoint whose files do not match its manifest.
type DamagedError struct {
	Path   string // the checkpoint directory.
	File   string // the file at fault ("" for the directory as a whole).
	Reason string
}

func (e *DamagedError) Error() string {
	where := e.Path
	if e.File != "" {
		where = filepath.Join(e.Path, e.File)
	}
	return fmt.Sprintf("training: checkpoint %s is damaged: %s: %s", e.Path, where, e.Reason)
}

type manifestEntry struct {
	name string
	size int64
	sum  string
}

// writeManifest hashes every regular file of dir and writes ManifestFile.
func writeManifest(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("training: writing the manifest of %s: %w", dir, err)
	}
	var buf bytes.Buffer
	for _, e := range entries { // ReadDir sorts by name.
		if !e.Type().IsRegular() || e.Name() == ManifestFile {
			continue
		}
		sum, size, err := hashFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return fmt.Errorf("training: writing the manifest of %s: %w", dir, err)
		}
		fmt.Fprintf(&buf, "%s %d %s\n", sum, size, e.Name())
	}
	p := filepath.Join(dir, ManifestFile)
	if err := writeFileSync(p, buf.Bytes()); err != nil {
		return fmt.Errorf("training: writing %s: %w", p, err)
	}
	return nil
}

// writeFileSync writes data to a new file at p, checking the close (where a
// full disk often shows).
func writeFileSync(p string, data []byte) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func hashFile(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// VerifyCheckpoint checks the files of a checkpoint directory against its
// manifest; the error is a *DamagedError when they do not match.
func VerifyCheckpoint(path string) error {
	data, err := os.ReadFile(filepath.Join(path, ManifestFile))
	if errors.Is(err, os.ErrNotExist) {
		return &DamagedError{Path: path, File: ManifestFile, Reason: "missing (the checkpoint is incomplete, or was written by an rbt without checksums)"}
	}
	if err != nil {
		return fmt.Errorf("training: reading the manifest of %s: %w", path, err)
	}
	want, err := parseManifest(data)
	if err != nil {
		return &DamagedError{Path: path, File: ManifestFile, Reason: err.Error()}
	}
	listed := map[string]bool{}
	for _, m := range want {
		listed[m.name] = true
		p := filepath.Join(path, m.name)
		sum, size, err := hashFile(p)
		switch {
		case errors.Is(err, os.ErrNotExist):
			return &DamagedError{Path: path, File: m.name, Reason: "missing"}
		case err != nil:
			return fmt.Errorf("training: verifying %s: %w", p, err)
		case size != m.size:
			return &DamagedError{Path: path, File: m.name, Reason: fmt.Sprintf("%d bytes, the manifest says %d (truncated or overwritten)", size, m.size)}
		case sum != m.sum:
			return &DamagedError{Path: path, File: m.name, Reason: "SHA-256 differs from the manifest (bytes changed)"}
		}
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return fmt.Errorf("training: verifying %s: %w", path, err)
	}
	for _, e := range entries {
		if e.Name() != ManifestFile && !listed[e.Name()] {
			return &DamagedError{Path: path, File: e.Name(), Reason: "not listed in the manifest"}
		}
	}
	return nil
}

// parseManifest parses ManifestFile's lines "sha256-hex size name".
func parseManifest(data []byte) ([]manifestEntry, error) {
	var out []manifestEntry
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		fields := strings.SplitN(sc.Text(), " ", 3)
		if len(fields) != 3 {
			return nil, fmt.Errorf("line %d: want \"sha256 size name\"", line)
		}
		sum, sizeText, name := fields[0], fields[1], fields[2]
		if b, err := hex.DecodeString(sum); err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("line %d: %q is not a SHA-256", line, sum)
		}
		size, err := strconv.ParseInt(sizeText, 10, 64)
		if err != nil || size < 0 {
			return nil, fmt.Errorf("line %d: bad size %q", line, sizeText)
		}
		if name == "" || name == ManifestFile || name != filepath.Base(name) || name == "." || name == ".." {
			return nil, fmt.Errorf("line %d: bad file name %q", line, name)
		}
		if seen[name] {
			return nil, fmt.Errorf("line %d: %s listed twice", line, name)
		}
		seen[name] = true
		out = append(out, manifestEntry{name, size, sum})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("lists no files")
	}
	if !sort.SliceIsSorted(out, func(i, j int) bool { return out[i].name < out[j].name }) {
		return nil, errors.New("not sorted by name")
	}
	return out, nil
}

// checkSaved checks what GoMLX's checkpoint.Handler.Save left in dir: its
// index (.json) lists want variables and its data file (.bin) is exactly as
// long as they are. Save can return no error after a short write (measured:
// under RLIMIT_FSIZE it left a 64 KiB .bin and an index of the variables that
// fit), so the loop checks before the checkpoint is renamed into place.
func checkSaved(dir string, want int) error {
	jsons, _ := filepath.Glob(filepath.Join(dir, "checkpoint-*.json"))
	bins, _ := filepath.Glob(filepath.Join(dir, "checkpoint-*.bin"))
	if len(jsons) != 1 || len(bins) != 1 {
		return fmt.Errorf("want one checkpoint-*.json and one .bin in %s, found %d and %d", dir, len(jsons), len(bins))
	}
	data, err := os.ReadFile(jsons[0])
	if err != nil {
		return err
	}
	var index struct {
		Variables []struct {
			Pos, Length int64
		}
	}
	if err := json.Unmarshal(data, &index); err != nil {
		return fmt.Errorf("%s is not complete JSON (disk full?): %w", jsons[0], err)
	}
	var end int64
	for _, v := range index.Variables {
		end = max(end, v.Pos+v.Length)
	}
	st, err := os.Stat(bins[0])
	if err != nil {
		return err
	}
	if len(index.Variables) != want || st.Size() != end {
		return fmt.Errorf("%s holds %d of the %d variables in %d bytes (want %d): the write was cut short (disk full, or a file size limit?)",
			bins[0], len(index.Variables), want, st.Size(), end)
	}
	return nil
}
