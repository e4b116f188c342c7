package input

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	exact := filepath.Join(dir, "exact")
	over := filepath.Join(dir, "over")
	if err := os.WriteFile(exact, []byte(strings.Repeat("x", 1024)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(over, []byte(strings.Repeat("x", 1025)), 0o600); err != nil {
		t.Fatal(err)
	}
	if data, err := ReadFile(exact, "values file", 1024); err != nil || len(data) != 1024 {
		t.Errorf("a file of exactly the limit: %d bytes, %v", len(data), err)
	}
	for _, p := range []string{over, "/dev/zero", "/dev/urandom"} {
		_, err := ReadFile(p, "values file", 1024)
		var tl *TooLargeError
		if !errors.Is(err, ErrTooLarge) || !errors.As(err, &tl) || tl.Path != p {
			t.Errorf("%s: err = %v, want a TooLargeError", p, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "values file "+p) || !strings.Contains(msg, "1 KiB") {
			t.Errorf("%s: message %q names neither the file nor the limit", p, msg)
		}
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), "values file", 1024); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
}

func TestCheckFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(small, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(big, []byte(strings.Repeat("x", 2048)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := CheckFile(small, "kubeconfig", 1024); err != nil {
		t.Errorf("small file: %v", err)
	}
	if err := CheckFile(filepath.Join(dir, "missing"), "kubeconfig", 1024); err != nil {
		t.Errorf("a missing file is the reader's to report: %v", err)
	}
	if err := CheckFile(big, "kubeconfig", 1024); !errors.Is(err, ErrTooLarge) {
		t.Errorf("big file: %v, want ErrTooLarge", err)
	}
	for _, p := range []string{"/dev/zero", dir} {
		var nr *NotRegularError
		if err := CheckFile(p, "kubeconfig", 1024); !errors.As(err, &nr) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v, want a NotRegularError naming it", p, err)
		}
	}
}

func TestSize(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{MaxConfigFile: "1 MiB", MaxKubeconfig: "16 MiB", 2048: "2 KiB", 1000: "1000 bytes"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}
