package training

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// LockFile guards a run directory against two processes: the holder keeps an
// exclusive lock on it (flock(2), released by the kernel when the process
// ends, also by kill -9) and writes who it is into it.
const LockFile = ".rbt.lock"

// LockInfo is what a lock file says about its holder.
type LockInfo struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
	Command string    `json:"command"`
}

func (i LockInfo) String() string {
	return fmt.Sprintf("pid %d on %s, started %s (%s)", i.PID, i.Host, i.Started.Format(time.RFC3339), i.Command)
}

// LockedError reports a run directory held by another process.
type LockedError struct {
	Dir    string
	Holder LockInfo // zero when the lock file could not be read.
}

func (e *LockedError) Error() string {
	who := "another process"
	if e.Holder.PID != 0 {
		who = e.Holder.String()
	}
	return fmt.Sprintf("run directory %s is in use by %s: wait for it to finish (or stop it), or use another directory (lock file %s)",
		e.Dir, who, filepath.Join(e.Dir, LockFile))
}

// DirLock is a held run-directory lock.
type DirLock struct {
	f    *os.File
	path string
	// Stale is the previous holder when it ended without releasing the lock
	// (killed): its lock was taken over. Zero otherwise.
	Stale LockInfo
}

// LockDir creates dir if needed and takes its lock, or returns a
// *LockedError naming the holder. Release it with Unlock.
func LockDir(dir string) (*DirLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("training: creating run directory: %w", err)
	}
	p := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("training: opening lock file: %w", err)
	}
	if err := lockFile(f); err != nil {
		defer f.Close()
		if errors.Is(err, errLocked) {
			holder, _ := readLockInfo(f)
			return nil, &LockedError{Dir: dir, Holder: holder}
		}
		return nil, fmt.Errorf("training: locking %s: %w", p, err)
	}
	l := &DirLock{f: f, path: p}
	// A held lock with contents: its holder ended without Unlock.
	l.Stale, _ = readLockInfo(f)
	host, _ := os.Hostname()
	info := LockInfo{PID: os.Getpid(), Host: host, Started: time.Now().UTC().Truncate(time.Second), Command: strings.Join(os.Args, " ")}
	data, _ := json.Marshal(info)
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt(append(data, '\n'), 0)
	}
	if err != nil {
		l.Unlock()
		return nil, fmt.Errorf("training: writing lock file %s: %w", p, err)
	}
	return l, nil
}

// Unlock empties the lock file (a clean end) and releases the lock.
func (l *DirLock) Unlock() {
	if l == nil || l.f == nil {
		return
	}
	_ = l.f.Truncate(0)
	_ = l.f.Close() // closing releases the flock.
	l.f = nil
}

func readLockInfo(f *os.File) (LockInfo, error) {
	var info LockInfo
	buf := make([]byte, 4096)
	n, err := f.ReadAt(buf, 0)
	if n == 0 {
		return info, err
	}
	return info, json.Unmarshal([]byte(strings.TrimSpace(string(buf[:n]))), &info)
}

var errLocked = errors.New("locked")
