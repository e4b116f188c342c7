package audit

import (
	"fmt"
	"time"
)

// CheckWritable opens the audit log at path for writing, as Append would, and commits an
// empty transaction, without adding a record. A missing file is created (an empty log); an
// error says why the log cannot be opened or written: ErrLocked, ErrCorrupt or the
// file system's reason.
func CheckWritable(path string, lockTimeout time.Duration) error {
	if err := update(path, lockTimeout, nil); err != nil {
		return fmt.Errorf("write audit log %s: %w", path, err)
	}
	return nil
}
