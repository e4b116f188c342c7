package backup

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Restore moves a store to another address by rewriting its dump on the way into the
// database, the way WP-CLI's search-replace does it: every string value of every column of
// the tables with WordPress's prefix, except posts' guid (a post's permanent identity), has
// each old form of the address replaced, and PHP-serialized values are rewritten inside,
// with every string's length recomputed, so that they still unserialize. It is done here
// rather than by WP-CLI in the store because the WordPress container has no WP-CLI and the
// setup image runs only as a Job; docs/backup.md says more.

// Replacer rewrites old strings to new ones in SQL dump lines.
type Replacer struct {
	pairs  [][2]string
	prefix string
	cont   *insertStatement
	// Values counts the values changed.
	Values int
}

// NewReplacer replaces the address of oldHost with newHost, in the forms WordPress stores
// it: "//host" (after any scheme) and its JSON-escaped form "\/\/host".
func NewReplacer(oldHost, newHost, tablePrefix string) *Replacer {
	r := &Replacer{prefix: tablePrefix}
	if oldHost != "" && oldHost != newHost {
		r.pairs = [][2]string{{"//" + oldHost, "//" + newHost}, {`\/\/` + oldHost, `\/\/` + newHost}}
	}
	return r
}

// skipColumn says which columns keep their values.
func (r *Replacer) skipColumn(table, column string) bool {
	return table == r.prefix+"posts" && column == "guid"
}

// Copy copies a dump from src to dst, rewriting the INSERT statements of the prefix's
// tables. String values never hold a raw newline (they are escaped), so a line holds whole
// rows: mariadb-dump writes a statement on one line, or (since 10.x) one row a line.
func (r *Replacer) Copy(dst io.Writer, src io.Reader) error {
	br := bufio.NewReaderSize(src, 1<<20)
	bw := bufio.NewWriterSize(dst, 1<<20)
	for {
		line, err := br.ReadString('\n')
		if len(line) > 0 {
			out, rerr := r.Line(line)
			if rerr != nil {
				return rerr
			}
			if _, werr := bw.WriteString(out); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return bw.Flush()
		}
		if err != nil {
			return err
		}
	}
}

// Line rewrites one line of a dump.
func (r *Replacer) Line(line string) (string, error) {
	const insert = "INSERT INTO `"
	if len(r.pairs) == 0 {
		return line, nil
	}
	if r.cont != nil {
		// A row of the statement the previous line began.
		in := r.cont
		r.continues(line)
		body, err := r.values(line, in.table, in.cols)
		if err != nil {
			return "", fmt.Errorf("insert into %s: %w", in.table, err)
		}
		return body, nil
	}
	if !strings.HasPrefix(line, insert) {
		return line, nil
	}
	rest := line[len(insert):]
	end := strings.IndexByte(rest, '`')
	if end < 0 {
		return line, nil
	}
	table := rest[:end]
	if !strings.HasPrefix(table, r.prefix) {
		return line, nil
	}
	open := strings.Index(rest, " (")
	values := strings.Index(rest, ") VALUES ")
	if open < 0 || values < open {
		return "", fmt.Errorf("insert into %s without a column list: the dump was not made with --complete-insert", table)
	}
	cols := strings.Split(rest[open+2:values], ", ")
	for i, c := range cols {
		cols[i] = strings.Trim(c, "`")
	}
	head := len(insert) + values + len(") VALUES ")
	r.cont = &insertStatement{table: table, cols: cols}
	r.continues(line)
	body, err := r.values(line[head:], table, cols)
	if err != nil {
		return "", fmt.Errorf("insert into %s: %w", table, err)
	}
	return line[:head] + body, nil
}

// insertStatement is an INSERT whose rows go on over the next lines: mariadb-dump writes
// one row a line.
type insertStatement struct {
	table string
	cols  []string
}

// continues ends the statement in progress when line ends it.
func (r *Replacer) continues(line string) {
	if strings.HasSuffix(strings.TrimRight(line, "\r\n"), ";") {
		r.cont = nil
	}
}

// values walks "(v, v, ...),(...);" and rewrites the quoted strings of the columns that
// are not skipped.
func (r *Replacer) values(s, table string, cols []string) (string, error) {
	var b strings.Builder
	b.Grow(len(s))
	col := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case '(':
			col = 0
		case ',':
			col++
		case '\'':
			raw, n, err := sqlString(s[i:])
			if err != nil {
				return "", err
			}
			if col < len(cols) && !r.skipColumn(table, cols[col]) {
				if v := r.Value(raw); v != raw {
					r.Values++
					b.WriteString(quoteSQL(v))
					i += n
					continue
				}
			}
			b.WriteString(s[i : i+n])
			i += n
			continue
		}
		b.WriteByte(c)
		i++
	}
	return b.String(), nil
}

// Value rewrites one value: inside it when it is PHP-serialized, else as plain text. A
// value that looks serialized but does not parse is replaced as plain text, as WP-CLI does.
func (r *Replacer) Value(v string) string {
	if looksSerialized(v) {
		if s, n, ok := r.serialized(v); ok && n == len(v) {
			return s
		}
	}
	return r.plain(v)
}

func (r *Replacer) plain(v string) string {
	for _, p := range r.pairs {
		v = strings.ReplaceAll(v, p[0], p[1])
	}
	return v
}

func looksSerialized(v string) bool {
	if v == "N;" {
		return true
	}
	return len(v) >= 4 && v[1] == ':' && strings.ContainsRune("abdiOsCE", rune(v[0]))
}

// serialized rewrites the PHP-serialized value at the start of v and returns it with the
// number of bytes of v it took.
func (r *Replacer) serialized(v string) (string, int, bool) {
	if strings.HasPrefix(v, "N;") {
		return "N;", 2, true
	}
	if len(v) < 2 || v[1] != ':' {
		return "", 0, false
	}
	switch v[0] {
	case 'b', 'i', 'd', 'r', 'R':
		end := strings.IndexByte(v, ';')
		if end < 0 {
			return "", 0, false
		}
		return v[:end+1], end + 1, true
	case 's', 'E':
		n, body, ok := lengthPrefixed(v)
		if !ok || len(v) < body+n+2 || v[body+n:body+n+2] != `";` {
			return "", 0, false
		}
		inner := v[body : body+n]
		if v[0] == 's' {
			// A serialized string may hold serialized data itself.
			inner = r.Value(inner)
		}
		return fmt.Sprintf(`%c:%d:"%s";`, v[0], len(inner), inner), body + n + 2, true
	case 'a':
		return r.container(v, 2)
	case 'O', 'C':
		return r.object(v)
	}
	return "", 0, false
}

// lengthPrefixed parses `x:N:"` and returns N and where the N bytes start.
func lengthPrefixed(v string) (n, start int, ok bool) {
	colon := strings.IndexByte(v[2:], ':')
	if colon < 0 {
		return 0, 0, false
	}
	n, err := strconv.Atoi(v[2 : 2+colon])
	start = 2 + colon + 1
	if err != nil || n < 0 || start >= len(v) || v[start] != '"' {
		return 0, 0, false
	}
	return n, start + 1, true
}

// container rewrites `a:N:{...}` (from offset at, after "a:"): N key/value pairs.
func (r *Replacer) container(v string, at int) (string, int, bool) {
	colon := strings.IndexByte(v[at:], ':')
	if colon < 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(v[at : at+colon])
	pos := at + colon + 1
	if err != nil || n < 0 || pos >= len(v) || v[pos] != '{' {
		return "", 0, false
	}
	var b strings.Builder
	b.WriteString(v[:pos+1])
	pos++
	for range 2 * n {
		s, used, ok := r.serialized(v[pos:])
		if !ok {
			return "", 0, false
		}
		b.WriteString(s)
		pos += used
	}
	if pos >= len(v) || v[pos] != '}' {
		return "", 0, false
	}
	b.WriteByte('}')
	return b.String(), pos + 1, true
}

// object rewrites `O:N:"class":M:{...}` like an array; `C:N:"class":M:{...}` (M bytes in
// the class's own format) is kept as it is, since only the class can read it.
func (r *Replacer) object(v string) (string, int, bool) {
	n, start, ok := lengthPrefixed(v)
	if !ok || len(v) < start+n+2 || v[start+n:start+n+2] != `":` {
		return "", 0, false
	}
	at := start + n + 2
	if v[0] == 'O' {
		return r.container(v, at)
	}
	colon := strings.IndexByte(v[at:], ':')
	if colon < 0 {
		return "", 0, false
	}
	m, err := strconv.Atoi(v[at : at+colon])
	body := at + colon + 1
	end := body + 1 + m
	if err != nil || m < 0 || end >= len(v) || v[body] != '{' || v[end] != '}' {
		return "", 0, false
	}
	return v[:end+1], end + 1, true
}

// sqlString reads the single-quoted SQL literal at the start of s and returns its value
// and the number of bytes it took.
func sqlString(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 >= len(s) {
				return "", 0, fmt.Errorf("unterminated string")
			}
			i++
			b.WriteByte(unescape(s[i]))
		case '\'':
			if i+1 < len(s) && s[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			return b.String(), i + 1, nil
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("unterminated string")
}

func unescape(c byte) byte {
	switch c {
	case '0':
		return 0
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'Z':
		return 0x1a
	case 'b':
		return '\b'
	}
	return c
}

// quoteSQL quotes v as mariadb-dump does.
func quoteSQL(v string) string {
	var b bytes.Buffer
	b.Grow(len(v) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case 0:
			b.WriteString(`\0`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case 0x1a:
			b.WriteString(`\Z`)
		case '\\', '\'', '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
