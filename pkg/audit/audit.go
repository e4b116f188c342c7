// Package audit keeps the local, append-only history of what storectl did from this machine.
package audit

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Outcomes a record can carry.
const (
	OutcomeSucceeded   = "succeeded"
	OutcomeFailed      = "failed"
	OutcomeInterrupted = "interrupted"
)

// DefaultLockTimeout is used when a caller passes a lock timeout of zero or less. bbolt itself
// would wait forever on zero, which turns a stuck process into a hung terminal.
const DefaultLockTimeout = 5 * time.Second

// formatVersion is written into the meta bucket of every file this package creates.
const formatVersion = "1"

var (
	recordsBucket = []byte("records")
	metaBucket    = []byte("storectl")
	formatKey     = []byte("format")
)

// ErrLocked reports that another process held the audit file for longer than the lock timeout.
var ErrLocked = errors.New("audit log is locked")

// ErrCorrupt reports that the audit file exists but is not a readable storectl audit log.
// The file is never modified or removed when this is returned.
var ErrCorrupt = errors.New("audit log is corrupt")

// Record is one entry of the audit log. It must never carry a secret: callers pass error
// messages and identities only, and Append scrubs anything that looks like a credential.
type Record struct {
	// ID is assigned by Append from the file's sequence; it orders records by insertion.
	ID uint64 `json:"id"`
	// Time is when the action ended; Append fills it with the current time when zero.
	Time time.Time `json:"time"`
	// Actor is the Kubernetes identity (from a SelfSubjectReview) or, failing that, the OS user.
	Actor string `json:"actor"`
	// Server is the API server URL of the cluster the action ran against.
	Server string `json:"server,omitempty"`
	// Context is the kubeconfig context used.
	Context string `json:"context,omitempty"`
	// Action is the command that ran, for example "create" or "delete".
	Action string `json:"action"`
	// Store is the store the action was about.
	Store string `json:"store,omitempty"`
	// Outcome is one of OutcomeSucceeded, OutcomeFailed or OutcomeInterrupted.
	Outcome string `json:"outcome"`
	// Error is the error message when the action did not succeed.
	Error string `json:"error,omitempty"`
	// Reason classifies how an action that did not succeed ended, from a bounded set
	// (store.OutcomeReasons: ImagePullBackOff, Timeout, Unreachable, ...).
	Reason string `json:"reason,omitempty"`
	// Duration is how long the action ran.
	Duration time.Duration `json:"duration"`
	// ChartVersion is the version of the chart the action installed or found.
	ChartVersion string `json:"chartVersion,omitempty"`
	// Artifact is the file the action wrote, if any (a backup archive).
	Artifact *Artifact `json:"artifact,omitempty"`
	// RevisionBefore and RevisionAfter are the store's release revisions before and after
	// an upgrade or a rollback (RevisionAfter is 0 when none was made).
	RevisionBefore int `json:"revisionBefore,omitempty"`
	RevisionAfter  int `json:"revisionAfter,omitempty"`
	// VersionsBefore and VersionsAfter are the component versions (WordPress, WooCommerce,
	// MariaDB) before and after an upgrade or a rollback.
	VersionsBefore *Versions `json:"versionsBefore,omitempty"`
	VersionsAfter  *Versions `json:"versionsAfter,omitempty"`
}

// Versions are a store's component versions, as an upgrade or a rollback found and left them.
type Versions struct {
	WordPress   string `json:"wordpress,omitempty"`
	WooCommerce string `json:"woocommerce,omitempty"`
	MariaDB     string `json:"mariadb,omitempty"`
}

// Filter selects records in Query. Zero fields match everything.
type Filter struct {
	// Store keeps records of this store only.
	Store string
	// Action keeps records of this action only.
	Action string
	// Since keeps records whose Time is at or after it.
	Since time.Time
	// Limit caps the number of records returned (newest first); zero or less means no cap.
	Limit int
}

// DefaultPath returns where the audit log lives when nothing else is configured:
// $XDG_STATE_HOME/storectl/audit.db, or ~/.local/state/storectl/audit.db.
func DefaultPath() string {
	return DefaultPathFor(os.LookupEnv)
}

// DefaultPathFor is DefaultPath with the environment read through lookupEnv, so that callers
// resolving configuration from an injected environment get the same answer.
func DefaultPathFor(lookupEnv func(string) (string, bool)) string {
	if dir, ok := lookupEnv("XDG_STATE_HOME"); ok && filepath.IsAbs(dir) {
		return filepath.Join(dir, "storectl", "audit.db")
	}
	home, _ := lookupEnv("HOME")
	if home == "" {
		// Without a home the best remaining choice is one the user can still find.
		if h, err := os.UserHomeDir(); err == nil {
			home = h
		} else {
			home = os.TempDir()
		}
	}
	return filepath.Join(home, ".local", "state", "storectl", "audit.db")
}

// update opens the audit log at path for writing, creating it (0600) and its directory
// (0700) when missing, holds its locks, checks that it is a storectl log and runs fn (nil:
// nothing) in one write transaction.
func update(path string, lockTimeout time.Duration, fn func(*bolt.Tx) error) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create the directory of audit log %s: %w", path, err)
	}
	// Registered first so that it runs last, after the file is closed.
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
	return db.Update(func(tx *bolt.Tx) error {
		if err := checkOwnership(tx, path); err != nil || fn == nil {
			return err
		}
		return fn(tx)
	})
}

// Append adds r to the audit log at path, creating the file (0600) and its missing parent
// directories (0700) when needed. It opens the file, appends and closes it again, so any
// number of storectl processes can append concurrently: each waits up to lockTimeout for
// the file lock and then fails with ErrLocked. Secrets-looking text in r is scrubbed.
func Append(path string, r Record, lockTimeout time.Duration) (err error) {
	if err := validate(r); err != nil {
		return err
	}
	r = scrubRecord(r)
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	r.Time = r.Time.UTC()
	if r.Actor == "" {
		r.Actor = OSUser()
	}

	err = update(path, lockTimeout, func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(metaBucket)
		if err != nil {
			return err
		}
		if meta.Get(formatKey) == nil {
			if err := meta.Put(formatKey, []byte(formatVersion)); err != nil {
				return err
			}
		}
		b, err := tx.CreateBucketIfNotExists(recordsBucket)
		if err != nil {
			return err
		}
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		r.ID = seq
		value, err := json.Marshal(r)
		if err != nil {
			return err
		}
		return b.Put(key(seq), value)
	})
	if err != nil && !errors.Is(err, ErrCorrupt) {
		return fmt.Errorf("append to audit log %s: %w", path, err)
	}
	return err
}

// Query returns the records of the audit log at path that match f, newest first.
// A log that does not exist yet holds no records and is not created.
//
//nolint:funlen // open, lock, check the format and read in one transaction, with the cleanup of each
func Query(path string, f Filter, lockTimeout time.Duration) (records []Record, err error) {
	info, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return []Record{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read audit log %s: %w", path, err)
	}
	if info.Size() == 0 {
		// A file another process has just created and not yet initialised; nothing in it.
		return []Record{}, nil
	}
	defer recoverCorrupt(path, &err)
	if lockTimeout <= 0 {
		lockTimeout = DefaultLockTimeout
	}
	release, remaining, err := lockLocal(path, lockTimeout)
	if err != nil {
		return nil, err
	}
	defer release()

	db, err := open(path, lockTimeout, remaining, true)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := db.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close audit log %s: %w", path, cerr)
		}
	}()

	records = []Record{}
	err = db.View(func(tx *bolt.Tx) error {
		if err := checkOwnership(tx, path); err != nil {
			return err
		}
		b := tx.Bucket(recordsBucket)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var r Record
			if err := json.Unmarshal(v, &r); err != nil {
				return corrupt(path, fmt.Errorf("record %x: %w", k, err))
			}
			if !f.matches(r) {
				continue
			}
			records = append(records, r)
			if f.Limit > 0 && len(records) >= f.Limit {
				break
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrCorrupt) {
			return nil, err
		}
		return nil, fmt.Errorf("read audit log %s: %w", path, err)
	}
	return records, nil
}

func (f Filter) matches(r Record) bool {
	if f.Store != "" && r.Store != f.Store {
		return false
	}
	if f.Action != "" && r.Action != f.Action {
		return false
	}
	if !f.Since.IsZero() && r.Time.Before(f.Since) {
		return false
	}
	return true
}

func validate(r Record) error {
	if r.Action == "" {
		return errors.New("audit record has no action")
	}
	switch r.Outcome {
	case OutcomeSucceeded, OutcomeFailed, OutcomeInterrupted:
		return nil
	default:
		return fmt.Errorf("audit record has outcome %q; allowed: %s, %s, %s",
			r.Outcome, OutcomeSucceeded, OutcomeFailed, OutcomeInterrupted)
	}
}

func key(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

// open opens the bbolt file, waiting at most remaining for its flock; lockTimeout is the
// caller's whole budget, named in the error.
func open(path string, lockTimeout, remaining time.Duration, readOnly bool) (db *bolt.DB, err error) {
	if remaining <= 0 {
		// bbolt reads a zero timeout as "wait forever"; the smallest positive one tries once.
		remaining = time.Nanosecond
	}
	// bbolt can panic while reading a damaged file during Open, before it hands back anything
	// to close: keep the file so that the flock on it can be released.
	var file *os.File
	defer func() {
		if p := recover(); p != nil {
			if file != nil {
				releaseFile(file)
			}
			db, err = nil, corrupt(path, fmt.Errorf("bbolt: %v", p))
		}
	}()
	openFile := func(name string, flag int, perm os.FileMode) (*os.File, error) {
		f, err := os.OpenFile(name, flag, perm)
		file = f
		return f, err
	}
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: remaining, ReadOnly: readOnly, OpenFile: openFile})
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, berrors.ErrTimeout):
		return nil, locked(path, lockTimeout)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch),
		errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrInvalidMapping):
		return nil, corrupt(path, err)
	default:
		return nil, fmt.Errorf("open audit log %s: %w", path, err)
	}
}

// checkOwnership refuses a valid bbolt file that some other program wrote, so that a
// mistyped audit path never adds buckets to somebody else's database.
func checkOwnership(tx *bolt.Tx, path string) error {
	meta := tx.Bucket(metaBucket)
	if meta != nil {
		if v := meta.Get(formatKey); v != nil && !bytes.Equal(v, []byte(formatVersion)) {
			return fmt.Errorf("audit log %s has format %q, which this storectl cannot read; upgrade storectl or point --audit-path at another file", path, v)
		}
		return nil
	}
	foreign := ""
	_ = tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		if !bytes.Equal(name, recordsBucket) && foreign == "" {
			foreign = string(name)
		}
		return nil
	})
	if foreign != "" {
		return corrupt(path, fmt.Errorf("it is a bbolt database of another program (bucket %q)", foreign))
	}
	return nil
}

func locked(path string, timeout time.Duration) error {
	return fmt.Errorf("%w: %s is held by another storectl process and was not released within %s; "+
		"wait for that process to finish (find it with `fuser %s`) and run the command again, or raise the lock timeout",
		ErrLocked, path, timeout, path)
}

func corrupt(path string, cause error) error {
	return fmt.Errorf("%w: %s is not a readable storectl audit log (%v); it was left untouched: "+
		"move it aside with `mv %s %s.corrupt` and storectl starts a new log on its next run",
		ErrCorrupt, path, cause, path, path)
}

// recoverCorrupt turns a panic inside bbolt, which it raises on some damaged pages, into ErrCorrupt.
func recoverCorrupt(path string, err *error) {
	if p := recover(); p != nil {
		*err = corrupt(path, fmt.Errorf("bbolt: %v", p))
	}
}

// tightenMode restores 0600 on a log created by hand or by an older build with wider permissions.
func tightenMode(path string) {
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
		_ = os.Chmod(path, 0o600)
	}
}

// localLocks serialises the goroutines of one process on a file before they reach flock:
// bbolt retries a held flock only every 50ms, so in-process waiters would otherwise sleep
// through most of the time the file is free.
var localLocks sync.Map // cleaned absolute path -> chan struct{}

// lockLocal returns the release function and what is left of timeout once the lock is held.
func lockLocal(path string, timeout time.Duration) (func(), time.Duration, error) {
	start := time.Now()
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = filepath.Clean(path)
	}
	v, _ := localLocks.LoadOrStore(abs, make(chan struct{}, 1))
	ch := v.(chan struct{})
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, timeout - time.Since(start), nil
	case <-timer.C:
		return nil, 0, locked(path, timeout)
	}
}
