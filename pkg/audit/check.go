package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// CheckWritable opens the audit log at path for writing, as Append would, and commits an
// empty transaction, without adding a record. A missing file is created (an empty log); an
// error says why the log cannot be opened or written: ErrLocked, ErrCorrupt or the
// file system's reason.
func CheckWritable(path string, lockTimeout time.Duration) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create the directory of audit log %s: %w", path, err)
	}
	defer recoverCorrupt(path, &err)
	if lockTimeout <= 0 {
		lockTimeout = DefaultLockTimeout
	}
	release, remaining, err := lockLocal(path, lockTimeout)
	if err != nil {
		return err
	}
	defer release()
	db, err := open(path, lockTimeout, remaining, false)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close audit log %s: %w", path, cerr)
		}
	}()
	tightenMode(path)
	if err := db.Update(func(tx *bolt.Tx) error { return checkOwnership(tx, path) }); err != nil {
		return fmt.Errorf("write audit log %s: %w", path, err)
	}
	return nil
}
