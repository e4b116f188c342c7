package serve

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
)

// MinTokenLength is the shortest bearer token a token file may hold.
const MinTokenLength = 16

// localCaller is the caller's name when a loopback server runs without tokens.
const localCaller = "local"

var tokenNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,62}$`)

// ParseTokens reads a token file: one token a line, either "name:token" or a bare token
// (named "token", "token-2", ...); blank lines and lines starting with # are skipped. The
// name is the caller the audit log records. The tokens never appear in an error.
func ParseTokens(data []byte) (map[string]string, error) {
	tokens := map[string]string{}
	names := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, tok, named := strings.Cut(line, ":")
		if !named {
			name, tok = fmt.Sprintf("token-%d", len(tokens)+1), line
			if len(tokens) == 0 {
				name = "token"
			}
		}
		name, tok = strings.TrimSpace(name), strings.TrimSpace(tok)
		switch {
		case !tokenNameRE.MatchString(name):
			return nil, fmt.Errorf("token file line %d: the name must be 1-63 letters, digits, '.', '_', '@' or '-'", n)
		case len(tok) < MinTokenLength || strings.ContainsAny(tok, " \t"):
			return nil, fmt.Errorf("token file line %d: a token is at least %d characters, without spaces", n, MinTokenLength)
		case names[name]:
			return nil, fmt.Errorf("token file line %d: the name %q is given twice", n, name)
		case tokens[tok] != "":
			return nil, fmt.Errorf("token file line %d: the same token is given twice", n)
		}
		tokens[tok], names[name] = name, true
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("token file: %w", err)
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("token file holds no token")
	}
	return tokens, nil
}

// IsLocal reports whether a listen address serves this machine only without a token:
// localhost, 127.0.0.1 or ::1. Every other address, other 127.x addresses included, needs
// a token file: they can be routed to, forwarded or shared in ways 127.0.0.1 is not.
func IsLocal(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// authenticator checks bearer tokens against the token file's, comparing digests in
// constant time so that neither a token's content nor its length shows in the timing.
type authenticator struct {
	digests [][32]byte
	names   []string
}

func newAuthenticator(listen string, tokens map[string]string) (*authenticator, error) {
	if len(tokens) == 0 && !IsLocal(listen) {
		return nil, fmt.Errorf("listening on %s needs --token-file: only localhost, 127.0.0.1 and ::1 are served without a token", listen)
	}
	a := &authenticator{}
	for tok, name := range tokens {
		a.digests = append(a.digests, sha256.Sum256([]byte(tok)))
		a.names = append(a.names, name)
	}
	return a, nil
}

// same says b accepts the same tokens under the same names.
func (a *authenticator) same(b *authenticator) bool {
	if b == nil || len(a.digests) != len(b.digests) {
		return false
	}
	have := map[[32]byte]string{}
	for i, d := range b.digests {
		have[d] = b.names[i]
	}
	for i, d := range a.digests {
		if n, ok := have[d]; !ok || n != a.names[i] {
			return false
		}
	}
	return true
}

func (a *authenticator) mode() string {
	if len(a.digests) == 0 {
		return "none (loopback)"
	}
	return "bearer"
}

// caller returns the name of the token of r, "" when it has none or a wrong one.
func (a *authenticator) caller(r *http.Request) string {
	if len(a.digests) == 0 {
		return localCaller
	}
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	d := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	found := -1
	for i := range a.digests {
		if subtle.ConstantTimeCompare(d[:], a.digests[i][:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return ""
	}
	return a.names[found]
}

// localHost reports whether a request's Host names this machine. A server without tokens
// answers only those, so that a web page whose name resolves to 127.0.0.1 cannot use it
// from a visitor's browser (DNS rebinding).
func localHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

type callerKey struct{}

// callerOf returns the name of the request's caller, set by the authentication.
func callerOf(ctx context.Context) string {
	c, _ := ctx.Value(callerKey{}).(string)
	return c
}
