// Package download fetches dataset files over HTTP and accepts them only when
// they match a known size and checksum.
//
// A [File] describes one file as it must end up on disk: its name, its size,
// its SHA-256 and/or its git blob id (sha1("blob <size>\x00" + content), the id
// GitHub shows for a file, useful when only that is known), and the places it
// can be fetched from, in order: the canonical URL first, then mirrors. A
// [Source] is either the file itself or a member of a .tar.gz/.tgz or .zip
// archive.
//
// [Fetcher.Fetch] guarantees:
//
//   - a cached file that already verifies is used as is (no network);
//   - a download goes to a temporary file in the destination directory and is
//     renamed into place only after it verified, so an interrupted or corrupted
//     download leaves nothing half-written and never replaces a good file;
//   - each source is tried in turn; when all fail, the error lists every
//     attempt. There is never a fallback to other data: only bytes that match
//     the File's checksums are accepted;
//   - for files whose SHA-256 is not published (text8, the Linux corpus), the
//     SHA-256 of the first verified download is recorded beside the file in
//     "<name>.sha256" and checked from then on (trust on first use);
//   - progress of large downloads is reported as throttled single lines on
//     Fetcher.Progress (os.Stderr by default).
package download

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Source is one place a File can be fetched from.
type Source struct {
	// URL of the file itself, or of an archive (.tar.gz, .tgz or .zip, told by
	// the URL's suffix) when Member is set.
	URL string
	// Member is the path of the file inside the archive ("" = URL is the file).
	// A leading "./" in archive entries is ignored.
	Member string
	// ArchiveSize is the archive's size in bytes when known (0 = unknown); a
	// different size rejects the archive before it is opened.
	ArchiveSize int64
}

// File is one dataset file and how to get and check it.
type File struct {
	Name        string   // file name inside the destination directory
	Size        int64    // exact size in bytes; 0 = unknown
	SHA256      string   // lower-case hex; "" = unknown
	GitBlobSHA1 string   // lower-case hex git blob id; "" = unknown
	Sources     []Source // canonical first, then mirrors
}

// Fetcher downloads Files. The zero value is usable: http.DefaultClient,
// progress on os.Stderr every second for files over 1 MiB.
type Fetcher struct {
	// Client is the HTTP client (nil = http.DefaultClient).
	Client *http.Client
	// Progress receives one line per ProgressEvery while a large file downloads
	// and a final line; nil = os.Stderr. Use io.Discard to silence it.
	Progress io.Writer
	// ProgressEvery throttles progress lines (0 = 1s).
	ProgressEvery time.Duration
	// ProgressMin is the size from which progress is shown (0 = 1 MiB).
	ProgressMin int64
	// StallTimeout aborts a transfer when no byte (nor the response headers)
	// arrives for that long (0 = DefaultStallTimeout). A stalled server is
	// then an error like any other: the next source is tried.
	StallTimeout time.Duration

	mu       sync.Mutex
	archives map[string]string // archive URL -> downloaded temp path, reused within one Fetcher
	tmpDir   string
}

// DefaultStallTimeout is Fetcher.StallTimeout's default.
const DefaultStallTimeout = 60 * time.Second

// errStalled is the cause of a transfer cancelled by the stall timer.
var errStalled = errors.New("stalled")

// stallReader resets the stall timer at every byte received.
type stallReader struct {
	r     io.Reader
	timer *time.Timer
	d     time.Duration
}

func (s stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		s.timer.Reset(s.d)
	}
	return n, err
}

// Close removes archives kept by the Fetcher between Fetch calls.
func (f *Fetcher) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.archives = nil
	if f.tmpDir == "" {
		return nil
	}
	err := os.RemoveAll(f.tmpDir)
	f.tmpDir = ""
	return err
}

// ChecksumError reports a file whose content does not match its File.
type ChecksumError struct {
	Path, What, Want, Got string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("%s: %s mismatch: want %s, got %s", e.Path, e.What, e.Want, e.Got)
}

// Sums holds the checksums of a file's content.
type Sums struct {
	Size        int64
	SHA256      string
	GitBlobSHA1 string
}

// Compute reads r to the end and returns its size, SHA-256 and git blob id.
// The blob id's header needs the size before the content, so r is first
// buffered in a temporary file.
func Compute(r io.Reader) (Sums, error) {
	tmp, err := os.CreateTemp("", "rbt-sums-*")
	if err != nil {
		return Sums{}, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	n, err := io.Copy(tmp, r)
	if err != nil {
		return Sums{}, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return Sums{}, err
	}
	return sumsOf(tmp, n)
}

// sumsOf hashes exactly n bytes of r.
func sumsOf(r io.Reader, n int64) (Sums, error) {
	s256 := sha256.New()
	blob := sha1.New()
	fmt.Fprintf(blob, "blob %d\x00", n)
	got, err := io.Copy(io.MultiWriter(s256, blob), r)
	if err != nil {
		return Sums{}, err
	}
	if got != n {
		return Sums{}, fmt.Errorf("read %d bytes, expected %d", got, n)
	}
	return Sums{Size: n, SHA256: hexSum(s256), GitBlobSHA1: hexSum(blob)}, nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// FileSums returns the size, SHA-256 and git blob id of the file at path.
func FileSums(p string) (Sums, error) {
	fh, err := os.Open(p)
	if err != nil {
		return Sums{}, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return Sums{}, err
	}
	s, err := sumsOf(bufio.NewReaderSize(fh, 1<<20), st.Size())
	if err != nil {
		return Sums{}, fmt.Errorf("%s: %w", p, err)
	}
	return s, nil
}

// Verify checks the file at p against f: size, SHA-256 and git blob id, each
// when known, and the recorded "<p>.sha256" when f.SHA256 is unknown. It
// returns a *ChecksumError for content that does not match.
func Verify(p string, f File) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", p)
	}
	if f.Size > 0 && st.Size() != f.Size {
		return &ChecksumError{Path: p, What: "size", Want: strconv.FormatInt(f.Size, 10), Got: strconv.FormatInt(st.Size(), 10)}
	}
	sums, err := FileSums(p)
	if err != nil {
		return err
	}
	return check(p, f, sums, p+".sha256")
}

// check compares sums with f and, when f.SHA256 is unknown, with the sha256
// recorded in the file sidecar (if it exists). p names the data in errors.
func check(p string, f File, sums Sums, sidecar string) error {
	if f.Size > 0 && sums.Size != f.Size {
		return &ChecksumError{Path: p, What: "size", Want: strconv.FormatInt(f.Size, 10), Got: strconv.FormatInt(sums.Size, 10)}
	}
	if f.SHA256 != "" && !strings.EqualFold(sums.SHA256, f.SHA256) {
		return &ChecksumError{Path: p, What: "sha256", Want: f.SHA256, Got: sums.SHA256}
	}
	if f.GitBlobSHA1 != "" && !strings.EqualFold(sums.GitBlobSHA1, f.GitBlobSHA1) {
		return &ChecksumError{Path: p, What: "git blob sha1", Want: f.GitBlobSHA1, Got: sums.GitBlobSHA1}
	}
	if f.SHA256 == "" && sidecar != "" {
		if rec, err := os.ReadFile(sidecar); err == nil {
			want := strings.TrimSpace(strings.Fields(string(rec) + " ")[0])
			if !strings.EqualFold(want, sums.SHA256) {
				return &ChecksumError{Path: p, What: "sha256 (recorded in " + filepath.Base(sidecar) + ")", Want: want, Got: sums.SHA256}
			}
		}
	}
	return nil
}

// Fetch makes dir/f.Name a verified copy of f and returns its path. A file
// already there that verifies is kept without any network access. Otherwise
// each source is tried in order; the first download that verifies is renamed
// into place. If none does, the error lists every attempt and dir/f.Name is
// left as it was.
func (fe *Fetcher) Fetch(ctx context.Context, f File, dir string) (string, error) {
	if f.Name == "" || f.Name != filepath.Base(f.Name) {
		return "", fmt.Errorf("download: invalid file name %q", f.Name)
	}
	dst := filepath.Join(dir, f.Name)
	if err := Verify(dst, f); err == nil {
		return dst, nil
	}
	if f.Size == 0 && f.SHA256 == "" && f.GitBlobSHA1 == "" {
		return "", fmt.Errorf("download %s: no size or checksum known, refusing to accept unverifiable data", f.Name)
	}
	if len(f.Sources) == 0 {
		return "", fmt.Errorf("download %s: no source URL known", f.Name)
	}
	if _, err := os.Stat(dir); err != nil {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("download %s: %w", f.Name, err)
		}
		defer os.Remove(dir) // removes only a directory left empty by a failed fetch
	}
	var errs []string
	for _, src := range f.Sources {
		if err := ctx.Err(); err != nil {
			return "", fmt.Errorf("download %s: %w", f.Name, err)
		}
		err := fe.fetchFrom(ctx, f, src, dir, dst)
		if err == nil {
			return dst, nil
		}
		where := src.URL
		if src.Member != "" {
			where += " (member " + src.Member + ")"
		}
		errs = append(errs, fmt.Sprintf("  %s: %v", where, err))
	}
	return "", fmt.Errorf("download %s: every source failed, %s left unchanged:\n%s", f.Name, dst, strings.Join(errs, "\n"))
}

// fetchFrom downloads f from one source into a temp file, verifies and renames it.
func (fe *Fetcher) fetchFrom(ctx context.Context, f File, src Source, dir, dst string) error {
	tmp, err := os.CreateTemp(dir, "."+f.Name+".*.part")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	if src.Member == "" {
		limit := int64(-1)
		if f.Size > 0 {
			limit = f.Size
		}
		if err := fe.get(ctx, src.URL, f.Name, limit, tmp); err != nil {
			return err
		}
	} else {
		arch, err := fe.archive(ctx, src)
		if err != nil {
			return err
		}
		if err := extract(arch, src, tmp); err != nil {
			return err
		}
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	st, err := tmp.Stat()
	if err != nil {
		return err
	}
	sums, err := sumsOf(bufio.NewReaderSize(tmp, 1<<20), st.Size())
	if err != nil {
		return err
	}
	// A download must also match a sha256 recorded by an earlier one.
	if err := check(src.URL, f, sums, dst+".sha256"); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmpName, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmpName, dst); err != nil {
		return err
	}
	ok = true
	if f.SHA256 == "" {
		// Trust on first use: record what was accepted.
		rec := sums.SHA256 + "  " + f.Name + "\n"
		if err := os.WriteFile(dst+".sha256", []byte(rec), 0o644); err != nil {
			return fmt.Errorf("recording %s.sha256: %w", dst, err)
		}
	}
	return nil
}

// get streams url into w, failing on a non-200 status, on a body longer than
// limit (when limit >= 0), and on a body shorter than announced.
func (fe *Fetcher) get(ctx context.Context, url, name string, limit int64, w io.Writer) (err error) {
	stall := fe.StallTimeout
	if stall <= 0 {
		stall = DefaultStallTimeout
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(stall, func() { cancel(errStalled) })
	defer timer.Stop()
	defer func() {
		if err != nil && errors.Is(context.Cause(ctx), errStalled) {
			err = fmt.Errorf("stalled: nothing received for %v (%w)", stall, err)
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	client := fe.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	if limit >= 0 && resp.ContentLength >= 0 && resp.ContentLength != limit {
		return fmt.Errorf("server announces %d bytes, expected %d", resp.ContentLength, limit)
	}
	total := resp.ContentLength
	if limit >= 0 {
		total = limit
	}
	var body io.Reader = stallReader{resp.Body, timer, stall}
	if limit >= 0 {
		body = io.LimitReader(body, limit+1)
	}
	pw := fe.progress(name, total)
	n, err := io.Copy(w, io.TeeReader(body, pw))
	pw.done(err)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("truncated transfer after %d bytes: %w", n, err)
		}
		return err
	}
	if limit >= 0 && n > limit {
		return fmt.Errorf("server sent more than the expected %d bytes", limit)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return fmt.Errorf("truncated transfer: got %d of %d bytes", n, resp.ContentLength)
	}
	return nil
}

// archive downloads (once per Fetcher) the archive of src and returns its path.
func (fe *Fetcher) archive(ctx context.Context, src Source) (string, error) {
	fe.mu.Lock()
	defer fe.mu.Unlock()
	if p, ok := fe.archives[src.URL]; ok {
		return p, nil
	}
	if fe.tmpDir == "" {
		d, err := os.MkdirTemp("", "rbt-download-*")
		if err != nil {
			return "", err
		}
		fe.tmpDir = d
	}
	fh, err := os.CreateTemp(fe.tmpDir, "archive-*"+archiveExt(src.URL))
	if err != nil {
		return "", err
	}
	limit := int64(-1)
	if src.ArchiveSize > 0 {
		limit = src.ArchiveSize
	}
	err = fe.get(ctx, src.URL, path.Base(src.URL), limit, fh)
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err == nil && src.ArchiveSize > 0 {
		if st, serr := os.Stat(fh.Name()); serr != nil || st.Size() != src.ArchiveSize {
			err = fmt.Errorf("archive size mismatch: want %d", src.ArchiveSize)
		}
	}
	if err != nil {
		os.Remove(fh.Name())
		return "", err
	}
	if fe.archives == nil {
		fe.archives = map[string]string{}
	}
	fe.archives[src.URL] = fh.Name()
	return fh.Name(), nil
}

func archiveExt(url string) string {
	u := strings.ToLower(url)
	switch {
	case strings.HasSuffix(u, ".zip"):
		return ".zip"
	case strings.HasSuffix(u, ".tar.gz"), strings.HasSuffix(u, ".tgz"):
		return ".tgz"
	}
	return ""
}

func cleanMember(name string) string {
	return strings.TrimPrefix(path.Clean("/"+strings.TrimPrefix(name, "./")), "/")
}

// extract copies src.Member of the archive at p into w.
func extract(p string, src Source, w io.Writer) error {
	want := cleanMember(src.Member)
	switch archiveExt(src.URL) {
	case ".zip":
		zr, err := zip.OpenReader(p)
		if err != nil {
			return fmt.Errorf("bad zip archive: %w", err)
		}
		defer zr.Close()
		for _, zf := range zr.File {
			if cleanMember(zf.Name) != want {
				continue
			}
			rc, err := zf.Open()
			if err != nil {
				return fmt.Errorf("zip member %s: %w", src.Member, err)
			}
			defer rc.Close()
			if _, err := io.Copy(w, rc); err != nil {
				return fmt.Errorf("zip member %s: %w", src.Member, err)
			}
			return nil
		}
		return fmt.Errorf("zip archive has no member %s", src.Member)
	case ".tgz":
		fh, err := os.Open(p)
		if err != nil {
			return err
		}
		defer fh.Close()
		gz, err := gzip.NewReader(bufio.NewReader(fh))
		if err != nil {
			return fmt.Errorf("bad gzip archive: %w", err)
		}
		tr := tar.NewReader(gz)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				return fmt.Errorf("tar archive has no member %s", src.Member)
			}
			if err != nil {
				return fmt.Errorf("bad tar archive (truncated?): %w", err)
			}
			if h.Typeflag != tar.TypeReg || cleanMember(h.Name) != want {
				continue
			}
			if _, err := io.Copy(w, tr); err != nil {
				return fmt.Errorf("tar member %s: %w", src.Member, err)
			}
			return nil
		}
	}
	return fmt.Errorf("cannot tell the archive type of %s (want .zip, .tar.gz or .tgz)", src.URL)
}

// progressWriter prints throttled progress lines.
type progressWriter struct {
	out         io.Writer
	name        string
	total, n    int64
	every       time.Duration
	start, last time.Time
	enabled     bool
}

func (fe *Fetcher) progress(name string, total int64) *progressWriter {
	out := fe.Progress
	if out == nil {
		out = os.Stderr
	}
	every := fe.ProgressEvery
	if every <= 0 {
		every = time.Second
	}
	minSize := fe.ProgressMin
	if minSize <= 0 {
		minSize = 1 << 20
	}
	now := time.Now()
	return &progressWriter{out: out, name: name, total: total, every: every, start: now, last: now,
		enabled: total < 0 || total >= minSize}
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	if p.enabled {
		if now := time.Now(); now.Sub(p.last) >= p.every {
			p.last = now
			p.line("")
		}
	}
	return len(b), nil
}

func (p *progressWriter) line(suffix string) {
	mib := func(n int64) float64 { return float64(n) / (1 << 20) }
	rate := mib(p.n) / max(time.Since(p.start).Seconds(), 1e-3)
	if p.total > 0 {
		fmt.Fprintf(p.out, "download %s: %.1f/%.1f MiB (%.0f%%) %.1f MiB/s%s\n",
			p.name, mib(p.n), mib(p.total), 100*float64(p.n)/float64(p.total), rate, suffix)
	} else {
		fmt.Fprintf(p.out, "download %s: %.1f MiB %.1f MiB/s%s\n", p.name, mib(p.n), rate, suffix)
	}
}

func (p *progressWriter) done(err error) {
	if !p.enabled {
		return
	}
	if err != nil {
		p.line(" failed: " + err.Error())
		return
	}
	p.line(" done")
}
