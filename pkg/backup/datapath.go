package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Executor runs a command in a container of a store's pod, streaming its standard
// streams, and returns an error when it could not run or did not exit 0; kube.Exec
// implements it over the API server. A nil stdin gives the command none.
type Executor interface {
	Run(ctx context.Context, namespace, pod, container string, cmd []string, stdin io.Reader, stdout, stderr io.Writer) error
}

// Target is one container commands run in.
type Target struct {
	Namespace, Pod, Container string
}

// The commands run in the store's containers. The database ones read the database, the
// user and the password from the MariaDB container's own environment (the chart sets them
// from the store's Secret), so no password is ever on storectl's side of an exec, in an
// argument or in a stream. MYSQL_PWD is read by the client itself and never shows on a
// command line. The WordPress ones run in the image's working directory, /var/www/html.
const (
	mysqlClient = `MYSQL_PWD="$MARIADB_PASSWORD" exec mariadb --user="$MARIADB_USER" --batch --skip-column-names --default-character-set=utf8mb4 "$MARIADB_DATABASE"`
	// The dump is of the store's database only (never the mysql schema, so the target's
	// own users and passwords stay), consistent (--single-transaction), with full column
	// lists so that restore can tell columns apart, and binary data as hex.
	dumpScript = `MYSQL_PWD="$MARIADB_PASSWORD" exec mariadb-dump --user="$MARIADB_USER" --single-transaction --quick ` +
		`--complete-insert --hex-blob --triggers --no-tablespaces --default-character-set=utf8mb4 "$MARIADB_DATABASE"`
	// queryScript runs the SQL given as its argument.
	queryScript = mysqlClient + ` -e "$1"`
	// loadScript reads exactly the number of bytes given as its argument and runs them:
	// a stream that ends early or late cannot pass for a whole one.
	loadScript = `head -c "$1" | ` + mysqlClient
	// filesScript sends wp-content as a compressed tar.
	filesScript = `[ -d wp-content ] || { echo "no wp-content in $(pwd)" >&2; exit 1; }; exec tar -czf - wp-content`
	// unpackScript unpacks exactly the given number of bytes of a compressed tar of
	// wp-content next to the live one, and swaps it in only once tar has succeeded.
	unpackScript = `set -e
rm -rf .storectl-restore .storectl-previous
mkdir .storectl-restore
head -c "$1" | tar -xzf - -C .storectl-restore
[ -d .storectl-restore/wp-content ]
if [ -e wp-content ]; then mv wp-content .storectl-previous; fi
mv .storectl-restore/wp-content wp-content
rm -rf .storectl-previous .storectl-restore
echo ` + doneMarker
	// versionScript prints the WordPress version the files are of.
	versionScript = `sed -n "s/^\$wp_version = '\([^']*\)';.*/\1/p" wp-includes/version.php`
	// doneMarker is printed last by restore's commands: without it, they did not finish.
	doneMarker = "storectl-restore-complete"
	// dumpTrailer starts the last line mariadb-dump writes when it has dumped everything.
	dumpTrailer = "-- Dump completed"
)

func sh(script string, args ...string) []string {
	return append([]string{"sh", "-c", script, "sh"}, args...)
}

// tail keeps the last bytes written to it: enough of stderr to say why a command failed,
// or of a dump to find its trailer.
type tail struct {
	buf []byte
	max int
}

func (t *tail) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tail) String() string { return strings.TrimSpace(string(t.buf)) }

// counter counts bytes and reports the running total.
type counter struct {
	n      int64
	report func(int64)
}

func (c *counter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	if c.report != nil {
		c.report(c.n)
	}
	return len(p), nil
}

// run runs a command and wraps its failure with the end of its stderr.
func run(ctx context.Context, ex Executor, t Target, what string, cmd []string, stdin io.Reader, stdout io.Writer) error {
	stderr := &tail{max: 2048}
	if err := ex.Run(ctx, t.Namespace, t.Pod, t.Container, cmd, stdin, stdout, stderr); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if msg := stderr.String(); msg != "" {
			return fmt.Errorf("%w: %s in %s/%s: %w: %s", ErrIncomplete, what, t.Namespace, t.Pod, err, msg)
		}
		return fmt.Errorf("%w: %s in %s/%s: %w", ErrIncomplete, what, t.Namespace, t.Pod, err)
	}
	return nil
}

// query runs SQL in the MariaDB container and returns its rows, tab-separated.
func query(ctx context.Context, ex Executor, t Target, sql string) ([][]string, error) {
	var out bytes.Buffer
	if err := run(ctx, ex, t, "query the database", sh(queryScript, sql), nil, &out); err != nil {
		return nil, err
	}
	var rows [][]string
	for line := range strings.SplitSeq(strings.TrimRight(out.String(), "\n"), "\n") {
		if line != "" {
			rows = append(rows, strings.Split(line, "\t"))
		}
	}
	return rows, nil
}

// spoolDump dumps the database into a compressed local file and checks that the dump
// is whole: the command exited 0 and the stream ends with mariadb-dump's trailer.
func spoolDump(ctx context.Context, ex Executor, t Target, dst string, report func(int64)) (Member, error) {
	m := Member{Name: MemberDatabase}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return m, err
	}
	defer f.Close()
	sum, size := sha256.New(), &counter{}
	gz := gzip.NewWriter(io.MultiWriter(f, sum, size))
	raw, end := &counter{report: report}, &tail{max: 256}
	if err := run(ctx, ex, t, "dump the database", sh(dumpScript), nil, io.MultiWriter(gz, raw, end)); err != nil {
		return m, err
	}
	if err := gz.Close(); err != nil {
		return m, err
	}
	if err := f.Close(); err != nil {
		return m, err
	}
	lines := strings.Split(end.String(), "\n")
	if !strings.HasPrefix(lines[len(lines)-1], dumpTrailer) {
		return m, fmt.Errorf("%w: the database dump ended after %d bytes without mariadb-dump's completion line", ErrIncomplete, raw.n)
	}
	m.Size, m.SHA256, m.Content = size.n, hexSum(sum), raw.n
	return m, nil
}

// spoolFiles copies wp-content as the compressed tar the WordPress container sends, and
// checks it while it arrives: the gzip stream must be whole (its length and CRC) and the
// tar in it must end with tar's end-of-archive blocks.
func spoolFiles(ctx context.Context, ex Executor, t Target, dst string, report func(int64)) (Member, error) {
	m := Member{Name: MemberFiles}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return m, err
	}
	defer f.Close()
	pr, pw := io.Pipe()
	checked := make(chan tarCheck, 1)
	go func() { checked <- checkTarGz(pr) }()
	sum, size := sha256.New(), &counter{report: report}
	err = run(ctx, ex, t, "archive wp-content", sh(filesScript), nil, io.MultiWriter(f, sum, size, pw))
	_ = pw.Close()
	c := <-checked
	if err != nil {
		return m, err
	}
	if c.err != nil {
		return m, fmt.Errorf("%w: the wp-content archive is not whole after %d bytes: %w", ErrIncomplete, size.n, c.err)
	}
	if err := f.Close(); err != nil {
		return m, err
	}
	m.Size, m.SHA256, m.Content, m.Files = size.n, hexSum(sum), c.bytes, c.files
	return m, nil
}

type tarCheck struct {
	files int
	bytes int64
	err   error
}

// checkTarGz reads a compressed tar to its end. It always drains r, so that the writer
// never blocks on a reader that gave up.
func checkTarGz(r io.Reader) (c tarCheck) {
	defer func() { _, _ = io.Copy(io.Discard, r) }()
	gz, err := gzip.NewReader(r)
	if err != nil {
		return tarCheck{err: err}
	}
	z := &zeroTail{r: gz}
	tr := tar.NewReader(z)
	for {
		_, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return tarCheck{files: c.files, err: err}
		}
		c.files++
	}
	// archive/tar also reports io.EOF for a stream that simply stops between two
	// members; only the two zero blocks tar writes last mean the archive is complete.
	if z.zeros < 1024 {
		return tarCheck{files: c.files, err: errors.New("tar's end-of-archive blocks are missing")}
	}
	// Reading on to the end checks the gzip trailer (length and CRC).
	if _, err := io.Copy(io.Discard, z); err != nil {
		return tarCheck{files: c.files, err: err}
	}
	c.bytes = z.n
	return c
}

// zeroTail counts the bytes read and how many of the last of them were zeros.
type zeroTail struct {
	r     io.Reader
	n     int64
	zeros int
}

func (z *zeroTail) Read(p []byte) (int, error) {
	n, err := z.r.Read(p)
	for _, b := range p[:n] {
		if b == 0 {
			z.zeros++
		} else {
			z.zeros = 0
		}
	}
	z.n += int64(n)
	return n, err
}

// send runs a restore command that reads exactly size bytes of file from its stdin and
// prints doneMarker when it has finished.
func send(ctx context.Context, ex Executor, t Target, what, script, file string, size int64, report func(int64)) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	var out tail
	out.max = 4096
	in := io.TeeReader(f, &counter{report: report})
	if err := run(ctx, ex, t, what, sh(script, strconv.FormatInt(size, 10)), in, &out); err != nil {
		return err
	}
	if !strings.HasSuffix(out.String(), doneMarker) {
		return fmt.Errorf("%w: %s in %s/%s ended without finishing", ErrIncomplete, what, t.Namespace, t.Pod)
	}
	return nil
}
