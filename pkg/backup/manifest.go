package backup

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Format is the archive format this storectl writes and reads (docs/backup.md).
const Format = "storectl.dev/backup/v1"

// The members of an archive, in the order they are written. The manifest comes first so
// that a reader learns what follows, and how long and whose checksum each member has,
// before reading it.
const (
	MemberManifest = "manifest.json"
	MemberValues   = "values.yaml"
	MemberDatabase = "database.sql.gz"
	MemberFiles    = "wp-content.tar.gz"
)

// Parts name what an archive holds, for --only.
const (
	PartDatabase = "db"
	PartFiles    = "files"
)

// Manifest describes an archive: where it came from, the versions it was taken with and,
// for every member but itself, its size and sha256.
type Manifest struct {
	Format string    `json:"format"`
	Store  string    `json:"store"`
	Time   time.Time `json:"time"`
	// URL is the store's address when it was backed up (siteurl); restore rewrites it.
	URL string `json:"url"`
	// Parts is what was saved: db, files or both.
	Parts    []string `json:"parts"`
	Versions Versions `json:"versions"`
	// TablePrefix is WordPress's table prefix in the dump.
	TablePrefix string   `json:"tablePrefix"`
	Members     []Member `json:"members"`
}

// Versions are the versions of everything the data depends on.
type Versions struct {
	Storectl    string `json:"storectl"`
	Chart       string `json:"chart"`
	WordPress   string `json:"wordpress,omitempty"`
	WooCommerce string `json:"woocommerce,omitempty"`
	MariaDB     string `json:"mariadb,omitempty"`
	// DBVersion is WordPress's database schema version (the db_version option).
	DBVersion string `json:"dbVersion,omitempty"`
	// WooCommerceDBVersion is WooCommerce's schema version (woocommerce_db_version).
	WooCommerceDBVersion string `json:"woocommerceDbVersion,omitempty"`
}

// Member is one file of the archive besides the manifest.
type Member struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Content is the uncompressed size of a compressed member, as sent or received over exec.
	Content int64 `json:"contentBytes,omitempty"`
	// Files is how many entries a files member holds.
	Files int `json:"files,omitempty"`
}

// Has reports whether the archive holds part.
func (m *Manifest) Has(part string) bool { return slices.Contains(m.Parts, part) }

// Member returns the named member's entry.
func (m *Manifest) Member(name string) (Member, bool) {
	for _, x := range m.Members {
		if x.Name == name {
			return x, true
		}
	}
	return Member{}, false
}

// memberOf is the member that holds a part.
func memberOf(part string) string {
	if part == PartDatabase {
		return MemberDatabase
	}
	return MemberFiles
}

// check is what a reader demands of a manifest before trusting anything in it.
func (m *Manifest) check() error {
	if m.Format != Format {
		return fmt.Errorf("%w: format %q, this storectl reads %q", ErrInvalidArchive, m.Format, Format)
	}
	if m.Store == "" || len(m.Parts) == 0 {
		return fmt.Errorf("%w: the manifest names no store or no parts", ErrInvalidArchive)
	}
	want := []string{MemberValues}
	for _, p := range m.Parts {
		if p != PartDatabase && p != PartFiles {
			return fmt.Errorf("%w: unknown part %q", ErrInvalidArchive, p)
		}
		want = append(want, memberOf(p))
	}
	for _, name := range want {
		if _, ok := m.Member(name); !ok {
			return fmt.Errorf("%w: the manifest lists no member %s", ErrInvalidArchive, name)
		}
	}
	return nil
}

func parseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: manifest: %w", ErrInvalidArchive, err)
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Errors of archives and of the data path; the CLI maps them to exit codes.
var (
	// ErrInvalidArchive: not a storectl archive, a member missing, or a checksum that fails.
	ErrInvalidArchive = errors.New("invalid backup archive")
	// ErrNewerSchema: the archive's data is newer than what the target store runs.
	ErrNewerSchema = errors.New("backup is newer than the store")
	// ErrIncomplete: a stream ended early, a command failed, or a completion check did not pass.
	ErrIncomplete = errors.New("backup data incomplete")
)

// compareVersions compares dotted numeric versions ("7.1", "10.3.0", "60717"); a
// component that is not a number compares by its leading digits. Missing components
// count as 0, so "7.1" equals "7.1.0".
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		x, y := leadingNumber(as, i), leadingNumber(bs, i)
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func leadingNumber(parts []string, i int) int {
	if i >= len(parts) {
		return 0
	}
	s := parts[i]
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, _ := strconv.Atoi(s[:end])
	return n
}
