//go:build !unix

package training

import "os"

// lockFile: no advisory lock on this platform; the lock file still names the
// last holder.
func lockFile(f *os.File) error { return nil }
