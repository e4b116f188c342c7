// Package input reads the files storectl is given (config, kubeconfig, chart values) within a size limit.
package input

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Limits of the files storectl reads. Each is far above any real file of its kind and far
// below what could exhaust memory; docs/security.md lists them.
const (
	// MaxConfigFile bounds the config file (a few dozen settings).
	MaxConfigFile = 1 << 20
	// MaxValuesFile bounds a --values file of chart values.
	MaxValuesFile = 1 << 20
	// MaxKubeconfig bounds each kubeconfig file, and each file a kubeconfig refers to
	// (certificates, keys, token files). Kubeconfigs with hundreds of contexts stay well below.
	MaxKubeconfig = 16 << 20
)

// ErrTooLarge is wrapped by the error of a file longer than its limit.
var ErrTooLarge = errors.New("file too large")

// TooLargeError is a file longer than the limit for its kind.
type TooLargeError struct {
	// What names the file's role, such as "--values file".
	What string
	// Path is the file.
	Path string
	// Limit is the most bytes allowed.
	Limit int64
}

// Error says which file, and what the limit is.
func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s %s is larger than %s, the most storectl reads; is it the right file?", e.What, e.Path, Size(e.Limit))
}

// Unwrap makes errors.Is(err, ErrTooLarge) hold.
func (e *TooLargeError) Unwrap() error { return ErrTooLarge }

// ReadFile reads at most limit bytes of path. A longer file, or a device or pipe that never
// ends (/dev/zero), is a *TooLargeError after limit+1 bytes, whatever the file's stated size.
// Errors opening the file are returned as os.Open returns them, so fs.ErrNotExist holds.
func ReadFile(path, what string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path, what, limit)
}

// Read reads r to its end, or fails with a *TooLargeError when it holds more than limit bytes.
func Read(r io.Reader, path, what string, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", what, path, err)
	}
	if int64(len(data)) > limit {
		return nil, &TooLargeError{What: what, Path: path, Limit: limit}
	}
	return data, nil
}

// CheckFile makes sure a file that a library will read itself is small enough: it must be a
// regular file of at most limit bytes. Devices and pipes are refused, since their size says
// nothing about how much they yield. A missing file is left for the reader to report.
func CheckFile(path, what string, limit int64) error {
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, path, err)
	}
	if !st.Mode().IsRegular() {
		return &NotRegularError{What: what, Path: path}
	}
	if st.Size() > limit {
		return &TooLargeError{What: what, Path: path, Limit: limit}
	}
	return nil
}

// NotRegularError is a device, pipe or directory where a file was expected.
type NotRegularError struct {
	What string
	Path string
}

// Error names the file.
func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s %s is not a regular file", e.What, e.Path)
}

// Size renders a byte count in the largest binary unit that divides it: 1 MiB, 16 MiB.
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
