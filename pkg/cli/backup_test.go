package cli

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storectl/storectl/pkg/backup"
	"github.com/storectl/storectl/pkg/store"
)

// fakeBackups writes a fixed archive, or fails after writing part of one.
type fakeBackups struct {
	archive []byte
	fail    error
	checked []backup.RestoreOptions
}

func (b *fakeBackups) Backup(_ context.Context, name string, w io.Writer, _ backup.BackupOptions) (*backup.Manifest, error) {
	if b.fail != nil {
		_, _ = w.Write(b.archive[:len(b.archive)/2])
		return nil, b.fail
	}
	_, err := w.Write(b.archive)
	return &backup.Manifest{Store: name, Parts: []string{backup.PartDatabase}}, err
}

func (b *fakeBackups) Check(_ context.Context, _ string, o backup.RestoreOptions) (*backup.Plan, error) {
	b.checked = append(b.checked, o)
	return nil, errors.New("not used")
}

func (b *fakeBackups) Restore(context.Context, string, backup.RestoreOptions) (*store.Store, error) {
	return nil, errors.New("not used")
}

// validArchive is the smallest archive backup.Verify accepts.
func validArchive(t *testing.T) []byte {
	t.Helper()
	values := []byte("{}\n")
	sum := sha256.Sum256(values)
	m := backup.Manifest{Format: backup.Format, Store: "shop", Parts: []string{backup.PartDatabase}}
	m.Members = []backup.Member{{Name: backup.MemberValues, Size: int64(len(values)), SHA256: hex.EncodeToString(sum[:])}}
	db := []byte("dump")
	dsum := sha256.Sum256(db)
	m.Members = append(m.Members, backup.Member{Name: backup.MemberDatabase, Size: int64(len(db)), SHA256: hex.EncodeToString(dsum[:])})
	data, _ := json.Marshal(m)
	return tarOf(t, map[string][]byte{backup.MemberManifest: data, backup.MemberValues: values, backup.MemberDatabase: db},
		[]string{backup.MemberManifest, backup.MemberValues, backup.MemberDatabase})
}

func TestBackupFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{},
		{"a", "b", "-f", "x.tar"},
		{"--all", "a"},
		{"a", "-f", "-", "-o", "json"},
		{"a", "-f", "x.tar", "--dir", "d"},
		{"a", "--only", "everything"},
		{"Bad_Name"},
	} {
		err := execute(t, NewCmdBackup(&Factory{}, func(*BackupOptions) error { t.Errorf("%v: run called", args); return nil }), args...)
		if ExitCode(err) != ExitUsage {
			t.Errorf("backup %v: %v (exit %d), want a usage error", args, err, ExitCode(err))
		}
	}
	var got *BackupOptions
	if err := execute(t, NewCmdBackup(&Factory{}, func(o *BackupOptions) error { got = o; return nil }), "a", "b", "--dir", "d", "--only", "db"); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.Names, ",") != "a,b" || got.Dir != "d" || got.Only != "db" {
		t.Errorf("parsed %+v", got)
	}
}

func TestRestoreWithForceNeedsConfirmation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	if code := h.run("restore", "x.tar", "--force"); code != ExitUsage || !strings.Contains(h.stderr(), "--yes") {
		t.Errorf("exit %d\n%s", code, h.stderr())
	}
}

func TestBackupWritesTheFileOnlyWhenComplete(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	bk := &fakeBackups{archive: validArchive(t)}
	h.f.Backups = func() (Backups, error) { return bk, nil }
	dir := t.TempDir()
	if code := h.run("backup", "shop", "--dir", dir, "-o", "json"); code != 0 {
		t.Fatalf("exit %d\n%s", code, h.stderr())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "shop-"+testNow.UTC().Format("20060102T150405Z")+".storectl.tar" {
		t.Fatalf("the directory holds %v", entries)
	}
	path := filepath.Join(dir, entries[0].Name())
	fi, _ := os.Stat(path)
	data, _ := os.ReadFile(path)
	sum := sha256.Sum256(data)
	if fi.Mode().Perm() != 0o600 || !bytes.Equal(data, bk.archive) {
		t.Errorf("archive mode %v, %d bytes", fi.Mode().Perm(), len(data))
	}
	recs := h.audit.records
	if len(recs) != 1 || recs[0].Action != "backup" || recs[0].Artifact == nil ||
		recs[0].Artifact.File != path || recs[0].Artifact.SHA256 != hex.EncodeToString(sum[:]) || recs[0].Artifact.Size != int64(len(data)) {
		t.Errorf("audit records %+v", recs)
	}
	if !strings.Contains(h.stdout(), hex.EncodeToString(sum[:])) {
		t.Errorf("-o json lacks the sha256:\n%s", h.stdout())
	}

	// A failure half way leaves nothing, not even the temporary file.
	bk.fail = backup.ErrIncomplete
	failed := t.TempDir()
	if code := h.run("backup", "shop", "--dir", failed); code != ExitError {
		t.Errorf("a failed backup exits %d", code)
	}
	if entries, _ := os.ReadDir(failed); len(entries) != 0 {
		t.Errorf("a failed backup left %v", entries)
	}
}

func TestBackupToStdout(t *testing.T) {
	t.Parallel()
	h := newHarness(t, false)
	bk := &fakeBackups{archive: validArchive(t)}
	h.f.Backups = func() (Backups, error) { return bk, nil }
	if code := h.run("backup", "shop", "-f", "-"); code != 0 {
		t.Fatalf("exit %d\n%s", code, h.stderr())
	}
	if !bytes.Equal([]byte(h.stdout()), bk.archive) {
		t.Errorf("stdout holds %d bytes, not the archive's %d", len(h.stdout()), len(bk.archive))
	}
	if !strings.Contains(h.stderr(), "customer data") {
		t.Errorf("no warning about customer data:\n%s", h.stderr())
	}
}

func tarOf(t *testing.T, members map[string][]byte, order []string) []byte {
	t.Helper()
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for _, name := range order {
		if err := tw.WriteHeader(&tar.Header{Name: name, Size: int64(len(members[name])), Mode: 0o600, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write(members[name])
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
