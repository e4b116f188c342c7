package audit

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestScrub(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"install failed: password=hunter2 rejected", "install failed: password=[REDACTED] rejected"},
		{"PASSWORD: hunter2", "PASSWORD: [REDACTED]"},
		{`{"mariadb-root-password":"s3cr3t","user":"wp"}`, `{"mariadb-root-password":"[REDACTED]","user":"wp"}`},
		{"db_passwd='abc def'", "db_passwd='[REDACTED] def'"},
		{"token=abc.def&x=1", "token=[REDACTED]&x=1"},
		{"api-key: k1, other", "api-key: [REDACTED], other"},
		{"Authorization: Bearer eyJhbGciOi.abc-123", "Authorization: Bearer [REDACTED]"},
		{"dial https://admin:pa55@db.example:443/x", "dial https://admin:[REDACTED]@db.example:443/x"},
		{"--user_pass=abc --admin_user=wp", "--user_pass=[REDACTED] --admin_user=wp"},
		// Ordinary messages pass unchanged.
		{"namespace store-shop is still terminating", "namespace store-shop is still terminating"},
		{`secrets "shop-credentials" not found`, `secrets "shop-credentials" not found`},
		{"https://127.0.0.1:6443", "https://127.0.0.1:6443"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Scrub(tt.in); got != tt.want {
			t.Errorf("Scrub(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

// TestAppendNeverStoresSecretLookingText checks the bytes of the file, not just what Query
// decodes, for the values Scrub must remove.
func TestAppendNeverStoresSecretLookingText(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.db")
	secrets := []string{"Xq9-hunter2-zZ", "tok-7f3a9b", "pa55w0rd-url"}
	r := Record{
		Action:  "create",
		Store:   "shop",
		Outcome: OutcomeFailed,
		Server:  "https://ops:" + secrets[2] + "@k8s.example:6443",
		Error:   "setup failed: wp user create --user_pass=" + secrets[0] + " token: " + secrets[1],
	}
	if err := Append(path, r, time.Second); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the audit file contains %q", s)
		}
	}
	got, err := Query(path, Filter{}, time.Second)
	if err != nil || len(got) != 1 {
		t.Fatalf("Query = %v, %v", got, err)
	}
	if !strings.Contains(got[0].Error, "setup failed") || !strings.Contains(got[0].Error, Redacted) {
		t.Errorf("scrubbed error lost its meaning: %q", got[0].Error)
	}
	if got[0].Server != "https://ops:"+Redacted+"@k8s.example:6443" {
		t.Errorf("server = %q", got[0].Server)
	}
}

// FuzzScrub checks that scrubbing is stable and that a password written after a credential
// key never survives, whatever text surrounds it.
func FuzzScrub(f *testing.F) {
	f.Add("install failed", "hunter2X")
	f.Add(`{"mariadb-password":"`, "s3cr3tVal")
	f.Add("https://u:p@h/ ", "Zz9zZz9z")
	f.Fuzz(func(t *testing.T, text, secret string) {
		once := Scrub(text)
		if twice := Scrub(once); twice != once {
			t.Fatalf("Scrub is not stable:\n%q\n%q", once, twice)
		}
		if len(secret) < 6 || strings.ContainsAny(secret, " \t\r\n\"'&,;") || strings.Contains(text, secret) ||
			strings.Contains(Redacted, secret) {
			return
		}
		for _, line := range []string{text + " password=" + secret, text + "\npassword: " + secret + "\n"} {
			if got := Scrub(line); strings.Contains(got, secret) {
				t.Fatalf("Scrub(%q) = %q keeps the password", line, got)
			}
		}
	})
}
