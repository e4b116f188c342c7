//go:build !unix

package audit

import "os"

// releaseFile closes f, which releases the lock bbolt took on it.
func releaseFile(f *os.File) {
	_ = f.Close()
}
