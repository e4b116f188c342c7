package charts

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeMariaDB speaks just enough of the MySQL protocol for PHP's mysqli: the handshake, an OK
// for any login, and an answer to "SELECT VERSION()". version returns the server's release
// for each query, counted from 1.
type fakeMariaDB struct {
	l       net.Listener
	version func(query int) string
	mu      sync.Mutex
	queries int
}

func startFakeMariaDB(t *testing.T, version func(query int) string) *fakeMariaDB {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeMariaDB{l: l, version: version}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	t.Cleanup(func() { _ = l.Close() })
	return s
}

func (s *fakeMariaDB) queryCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries
}

func writePacket(w io.Writer, seq byte, payload []byte) error {
	h := []byte{byte(len(payload)), byte(len(payload) >> 8), byte(len(payload) >> 16), seq}
	_, err := w.Write(append(h, payload...))
	return err
}

func readPacket(r io.Reader) (byte, []byte, error) {
	h := make([]byte, 4)
	if _, err := io.ReadFull(r, h); err != nil {
		return 0, nil, err
	}
	p := make([]byte, int(h[0])|int(h[1])<<8|int(h[2])<<16)
	_, err := io.ReadFull(r, p)
	return h[3], p, err
}

func lenenc(s string) []byte { return append([]byte{byte(len(s))}, s...) }

// handshake is a protocol 10 greeting offering mysql_native_password, without TLS.
func handshake() []byte {
	const caps = 1 | 2 | 4 | 8 | 0x200 | 0x2000 | 0x8000 | 0x20000 | 0x80000
	p := []byte{10}
	p = append(p, "5.5.5-11.8.3-MariaDB"...)
	p = append(p, 0, 1, 0, 0, 0)
	p = append(p, "abcdefgh"...)
	p = append(p, 0)
	p = binary.LittleEndian.AppendUint16(p, caps&0xffff)
	p = append(p, 33)
	p = binary.LittleEndian.AppendUint16(p, 2)
	p = binary.LittleEndian.AppendUint16(p, caps>>16)
	p = append(p, 21)
	p = append(p, make([]byte, 10)...)
	p = append(p, "ijklmnopqrst"...)
	p = append(p, 0)
	p = append(p, "mysql_native_password"...)
	return append(p, 0)
}

var (
	okPacket  = []byte{0, 0, 0, 2, 0, 0, 0}
	eofPacket = []byte{0xfe, 0, 0, 2, 0}
)

func (s *fakeMariaDB) serve(c net.Conn) {
	defer func() { _ = c.Close() }()
	if writePacket(c, 0, handshake()) != nil {
		return
	}
	seq, _, err := readPacket(c)
	if err != nil || writePacket(c, seq+1, okPacket) != nil {
		return
	}
	for {
		_, p, err := readPacket(c)
		if err != nil || len(p) == 0 || p[0] == 1 { // COM_QUIT
			return
		}
		if p[0] != 3 || !strings.EqualFold(string(p[1:]), "SELECT VERSION()") {
			_ = writePacket(c, 1, append([]byte{0xff, 0x28, 0x04}, "#42000unsupported"...))
			continue
		}
		s.mu.Lock()
		s.queries++
		v := s.version(s.queries)
		s.mu.Unlock()
		col := append(append(append(append(append(lenenc("def"), lenenc("")...), lenenc("")...), lenenc("")...), lenenc("VERSION()")...), lenenc("")...)
		col = append(col, 0x0c, 33, 0, 92, 0, 0, 0, 0xfd, 0, 0, 0x27, 0, 0)
		for i, pkt := range [][]byte{{1}, col, eofPacket, lenenc(v), eofPacket} {
			if writePacket(c, byte(i+1), pkt) != nil {
				return
			}
		}
	}
}

func requirePHPMySQLi(t *testing.T) string {
	t.Helper()
	php, err := exec.LookPath("php")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("php is not installed (apt-get install php-cli php-mysql); CI runs this check")
		}
		t.Fatal("php is not installed, and CI is set: install the Debian packages php-cli and php-mysql")
	}
	if out, err := exec.Command(php, "-r", "exit(function_exists('mysqli_init') ? 0 : 1);").CombinedOutput(); err != nil {
		t.Fatalf("php has no mysqli (install php-mysql): %v %s", err, out)
	}
	return php
}

// runDBReady runs the chart's db-ready.php with the real PHP against addr.
func runDBReady(t *testing.T, php, addr string, env ...string) (stdout, stderr string, err error) {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("woocommerce", "files", "db-ready.php"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, php, script)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "WORDPRESS_DB_HOST=" + addr, "WORDPRESS_DB_USER=wordpress",
		"WORDPRESS_DB_PASSWORD=db-password-unused-by-fakes", "WORDPRESS_DB_NAME=wordpress", "DB_CHECK_TIMEOUT=2"}, env...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("db-ready.php still running after 60s:\n%s%s", o.String(), e.String())
	}
	return o.String(), e.String(), err
}

// TestDatabaseCheckWaitsForTheExpectedMariaDBRelease runs db-ready.php with the real PHP and
// mysqli against a server that reports a MariaDB version, as WordPress's wait-database step
// and the setup Job run it.
func TestDatabaseCheckWaitsForTheExpectedMariaDBRelease(t *testing.T) {
	t.Parallel()
	php := requirePHPMySQLi(t)
	tests := []struct {
		name, server, expect string
		wantOK               bool
		wantQueries          int
	}{
		{"the expected release", "11.8.3-MariaDB-ubu2404", "11.8", true, 1},
		{"the exact version", "11.8.3-MariaDB-ubu2404", "11.8.3", true, 1},
		{"the release before an upgrade", "11.4.5-MariaDB-ubu2404", "11.8", false, 1},
		{"a release sharing the prefix", "11.80.1-MariaDB", "11.8", false, 1},
		{"no release expected", "10.6.1-MariaDB", "", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startFakeMariaDB(t, func(int) string { return tt.server })
			_, stderr, err := runDBReady(t, php, srv.l.Addr().String(), "DB_EXPECT_VERSION="+tt.expect)
			if (err == nil) != tt.wantOK {
				t.Fatalf("err = %v, want ready %v\n%s", err, tt.wantOK, stderr)
			}
			if !tt.wantOK && !strings.Contains(stderr, "runs MariaDB "+tt.server+", not yet "+tt.expect) {
				t.Errorf("stderr does not say which release runs:\n%s", stderr)
			}
			if got := srv.queryCount(); got != tt.wantQueries {
				t.Errorf("%d version queries, want %d", got, tt.wantQueries)
			}
		})
	}

	t.Run("waits while the server upgrades", func(t *testing.T) {
		t.Parallel()
		srv := startFakeMariaDB(t, func(q int) string {
			if q < 3 {
				return "11.4.5-MariaDB"
			}
			return "11.8.3-MariaDB"
		})
		stdout, stderr, err := runDBReady(t, php, srv.l.Addr().String(), "DB_EXPECT_VERSION=11.8", "DB_WAIT_INTERVAL=1")
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		if srv.queryCount() != 3 || !strings.Contains(stdout, "is ready (MariaDB 11.8)") {
			t.Errorf("%d queries, stdout:\n%s", srv.queryCount(), stdout)
		}
		// The same reason is printed once, not on every try.
		if n := strings.Count(stderr, "not yet 11.8"); n != 1 {
			t.Errorf("the reason was printed %d times:\n%s", n, stderr)
		}
	})
}
