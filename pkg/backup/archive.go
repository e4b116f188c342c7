package backup

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
)

// An archive is a plain tar (docs/backup.md): manifest.json first, then values.yaml and
// the members of the parts saved. Every member but the manifest is listed in the manifest
// with its size and sha256, so a reader checks each one before using it.

// maxManifest bounds the manifest a reader accepts.
const maxManifest = 1 << 20

// spooled is a member waiting in a local file to be written into an archive.
type spooled struct {
	Member
	path string
}

// writeArchive writes the manifest and the spooled members as a tar to w.
func writeArchive(w io.Writer, m *Manifest, members []spooled) error {
	m.Members = nil
	for _, s := range members {
		m.Members = append(m.Members, s.Member)
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	hdr := func(name string, size int64) *tar.Header {
		return &tar.Header{Name: name, Size: size, Mode: 0o600, ModTime: m.Time, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	}
	if err := tw.WriteHeader(hdr(MemberManifest, int64(len(data)))); err != nil {
		return err
	}
	if _, err := tw.Write(data); err != nil {
		return err
	}
	for _, s := range members {
		if err := tw.WriteHeader(hdr(s.Name, s.Size)); err != nil {
			return err
		}
		if err := copyFile(tw, s.path); err != nil {
			return err
		}
	}
	return tw.Close()
}

func copyFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// ReadManifest reads the manifest of the archive at path without checking the members.
func ReadManifest(path string) (*Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	return nextManifest(tr)
}

func nextManifest(tr *tar.Reader) (*Manifest, error) {
	h, err := tr.Next()
	if err != nil {
		return nil, fmt.Errorf("%w: not a tar archive: %w", ErrInvalidArchive, err)
	}
	if h.Name != MemberManifest {
		return nil, fmt.Errorf("%w: the first member is %q, not %s", ErrInvalidArchive, h.Name, MemberManifest)
	}
	if h.Size > maxManifest {
		return nil, fmt.Errorf("%w: the manifest is %d bytes, more than %d", ErrInvalidArchive, h.Size, maxManifest)
	}
	data, err := io.ReadAll(io.LimitReader(tr, maxManifest))
	if err != nil {
		return nil, fmt.Errorf("%w: manifest: %w", ErrInvalidArchive, err)
	}
	return parseManifest(data)
}

// Verify checks the archive at path as Extract does, keeping nothing but the user values,
// and returns its manifest and those values.
func Verify(path string) (*Manifest, map[string]any, error) {
	var values bytes.Buffer
	m, _, err := walk(path, func(name string, _ Member) (io.Writer, func() error, error) {
		if name == MemberValues {
			return &values, func() error { return nil }, nil
		}
		return io.Discard, func() error { return nil }, nil
	})
	if err != nil {
		return nil, nil, err
	}
	v, err := parseValues(values.Bytes())
	return m, v, err
}

// Extract checks the archive at path and copies its members into dir: every member the
// manifest lists must be there once, with its size and sha256, and nothing else may be.
// It returns the manifest and the path of each member's copy.
func Extract(path, dir string) (*Manifest, map[string]string, error) {
	return walk(path, func(name string, _ Member) (io.Writer, func() error, error) {
		f, err := os.OpenFile(filepath.Join(dir, filepath.Base(name)), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, nil, err
		}
		return f, f.Close, nil
	})
}

// sink gives where a member's bytes go, and how to finish writing them.
type sink func(name string, m Member) (io.Writer, func() error, error)

func walk(path string, open sink) (*Manifest, map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	m, err := nextManifest(tr)
	if err != nil {
		return nil, nil, err
	}
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrInvalidArchive, err)
		}
		want, ok := m.Member(h.Name)
		if _, seen := out[h.Name]; !ok || seen {
			return nil, nil, fmt.Errorf("%w: unexpected member %q", ErrInvalidArchive, h.Name)
		}
		w, finish, err := open(h.Name, want)
		if err != nil {
			return nil, nil, err
		}
		if err := copyMember(tr, w, finish, want); err != nil {
			return nil, nil, err
		}
		out[h.Name] = ""
		if fw, ok := w.(*os.File); ok {
			out[h.Name] = fw.Name()
		}
	}
	for _, x := range m.Members {
		if _, ok := out[x.Name]; !ok {
			return nil, nil, fmt.Errorf("%w: member %s is missing", ErrInvalidArchive, x.Name)
		}
	}
	return m, out, nil
}

func copyMember(r io.Reader, w io.Writer, finish func() error, want Member) error {
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), r)
	if ferr := finish(); err == nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("%w: member %s: %w", ErrInvalidArchive, want.Name, err)
	}
	if n != want.Size || hexSum(h) != want.SHA256 {
		return fmt.Errorf("%w: member %s does not match its checksum in the manifest (%d bytes, sha256 %s; the manifest says %d bytes, sha256 %s)",
			ErrInvalidArchive, want.Name, n, hexSum(h), want.Size, want.SHA256)
	}
	return nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }
