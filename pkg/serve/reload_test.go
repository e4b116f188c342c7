package serve_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storectl/storectl/pkg/serve"
	"github.com/storectl/storectl/pkg/serve/servetest"
)

// tokenFile stands in for the token file the CLI reads again.
type tokenFile struct {
	mu     sync.Mutex
	tokens map[string]string
	err    error
}

func (f *tokenFile) set(tokens map[string]string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens, f.err = tokens, err
}

func (f *tokenFile) read() (map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokens, f.err
}

// syncBuffer is a log sink the server's goroutines may write to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

const (
	aliceToken = "s3cret-token-for-alice"
	bobToken   = "s3cret-token-for-bob!!"
	carolToken = "s3cret-token-for-carol"
)

// A reload serves the file's new tokens from the next request on, and a file that does not
// parse leaves the tokens in force. No token reaches the log.
func TestTokensReload(t *testing.T) {
	t.Parallel()
	file := &tokenFile{tokens: map[string]string{aliceToken: "alice"}}
	var logs syncBuffer
	h := newHarness(t, func(o *serve.Options) {
		o.Listen = "127.0.0.2:0"
		o.Tokens = map[string]string{aliceToken: "alice"}
		o.ReloadTokens = file.read
		o.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	status := func(token string) int {
		h.c.Token = token
		return h.do(t, "GET", "/api/stores", "").Status
	}
	if s := status(aliceToken); s != http.StatusOK {
		t.Fatalf("alice before the reload: %d", s)
	}
	if changed, err := h.srv.ReloadTokens(); err != nil || changed {
		t.Errorf("reload of an unchanged file: changed %v, %v", changed, err)
	}
	file.set(map[string]string{bobToken: "bob"}, nil)
	if changed, err := h.srv.ReloadTokens(); err != nil || !changed {
		t.Fatalf("reload of a rotated file: changed %v, %v", changed, err)
	}
	if s := status(aliceToken); s != http.StatusUnauthorized {
		t.Errorf("alice's removed token after the reload: %d, want 401", s)
	}
	if s := status(bobToken); s != http.StatusOK {
		t.Errorf("bob's new token after the reload: %d", s)
	}
	broken := errors.New("tokens: token file line 2: a token is at least 16 characters, without spaces")
	file.set(nil, broken)
	for range 3 {
		if _, err := h.srv.ReloadTokens(); !errors.Is(err, broken) {
			t.Errorf("reload of a broken file: %v", err)
		}
	}
	if s := status(bobToken); s != http.StatusOK {
		t.Errorf("bob after a broken file: %d; the tokens in force must stay", s)
	}
	file.set(map[string]string{}, nil)
	if _, err := h.srv.ReloadTokens(); err == nil {
		t.Error("a reload to no token at all was accepted")
	}
	if s := status(bobToken); s != http.StatusOK {
		t.Errorf("bob after an empty file: %d", s)
	}
	out := logs.String()
	if n := strings.Count(out, "token file not reloaded"); n != 2 {
		t.Errorf("%d warnings for a file broken three times then empty, want one each:\n%s", n, out)
	}
	if !strings.Contains(out, `"tokens reloaded"`) {
		t.Errorf("the reload was not logged:\n%s", out)
	}
	for _, tok := range []string{aliceToken, bobToken} {
		if strings.Contains(out, tok) {
			t.Errorf("the log shows a token:\n%s", out)
		}
	}
}

// A running server reads the file again on its own, so that a rotated Secret takes effect
// without a signal.
func TestTokensAreCheckedWhileServing(t *testing.T) {
	t.Parallel()
	file := &tokenFile{tokens: map[string]string{aliceToken: "alice"}}
	h := newHarness(t, func(o *serve.Options) {
		o.Listen = "127.0.0.2:0"
		o.Tokens = map[string]string{aliceToken: "alice"}
		o.ReloadTokens = file.read
		o.TokenCheckEvery = 20 * time.Millisecond
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- h.srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	v, err := servetest.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	c := &servetest.Client{Base: "http://" + ln.Addr().String(), V: v, Token: carolToken}
	file.set(map[string]string{carolToken: "carol"}, nil)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := c.Do("GET", "/api/stores", nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("carol's token still refused (%d) 10 s after the file changed", r.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, err := range c.Errs {
		t.Errorf("not as the OpenAPI document says: %v", err)
	}
}
