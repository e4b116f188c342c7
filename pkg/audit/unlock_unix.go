//go:build unix

package audit

import (
	"os"
	"syscall"
)

// releaseFile drops the flock bbolt took on f and closes f. The lock belongs to the open file,
// which a memory mapping left behind by a failed open keeps alive after Close; unlocking
// first releases it for other processes anyway.
func releaseFile(f *os.File) {
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	_ = f.Close()
}
