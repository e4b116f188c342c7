package cli

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/storectl/storectl/pkg/output"
	"github.com/storectl/storectl/pkg/output/screen"
	"github.com/storectl/storectl/pkg/store"
)

// The terminal's size in the golden transcripts: narrow enough that long messages are cut.
const termCols, termRows = 72, 24

// A create as a user sees it in a real terminal: storectl runs on a pseudo-terminal of fixed
// size, finds it a terminal and learns its width as it does from a shell, and the bytes it
// writes are replayed on a screen of that size. Each transcript holds the exit code, the
// final screen and the byte stream (ESC written as \e), with colour and with NO_COLOR.
func TestTerminalTranscripts(t *testing.T) {
	t.Parallel()
	for _, sc := range []struct {
		name string
		run  func(h *harness, clock *testClock) scriptedCreate
	}{
		{"success", createSucceeds},
		{"failure", createFails},
		{"interrupt", createInterrupted},
	} {
		for _, noColor := range []bool{false, true} {
			name := sc.name
			if noColor {
				name += "-no-color"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				golden(t, "terminal/"+name, terminalTranscript(t, noColor, sc.run))
			})
		}
	}
}

// scriptedCreate is the fake engine's create for one scenario.
type scriptedCreate func(ctx context.Context, o store.CreateOptions) (*store.Store, error)

// testClock is a clock the scripted engine moves forward.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// report sends one progress step after d has passed.
func report(o store.CreateOptions, c *testClock, d time.Duration, step, state, msg string, elapsed time.Duration) {
	c.advance(d)
	o.OnProgress(store.Progress{Step: step, State: state, Message: msg, Elapsed: elapsed})
}

// startCreate reports what every scenario begins with; the setup Job reports before
// WordPress to show that the view keeps its fixed order.
func startCreate(o store.CreateOptions, c *testClock) {
	report(o, c, 0, store.ComponentNamespace, store.ProgressRunning, "creating namespace store-"+o.Name, 0)
	report(o, c, time.Second, store.ComponentNamespace, store.ProgressDone, "", time.Second)
	report(o, c, 0, store.ComponentDatabase, store.ProgressRunning, "pod shop-mariadb-0: ContainerCreating", 0)
	report(o, c, 0, store.ComponentSetup, store.ProgressRunning, "waiting for the database and WordPress", 0)
	report(o, c, 0, store.ComponentWordPress, store.ProgressRunning,
		"pod shop-wordpress-7d9f8c6b5d-x2x9q: 0/1 containers ready, readiness probe failing on /wp-login.php", 0)
	report(o, c, 14*time.Second, store.ComponentDatabase, store.ProgressDone, "", 14*time.Second)
}

func createSucceeds(_ *harness, c *testClock) scriptedCreate {
	return func(_ context.Context, o store.CreateOptions) (*store.Store, error) {
		startCreate(o, c)
		report(o, c, 27*time.Second, store.ComponentWordPress, store.ProgressDone, "", 41*time.Second)
		report(o, c, 0, store.ComponentSetup, store.ProgressRunning, "job shop-setup running", 41*time.Second)
		report(o, c, 30*time.Second, store.ComponentSetup, store.ProgressDone, "", 71*time.Second)
		report(o, c, time.Second, store.ComponentIngress, store.ProgressDone, "shop.127.0.0.1.nip.io", 0)
		return sampleStore(o.Name), nil
	}
}

func createFails(_ *harness, c *testClock) scriptedCreate {
	return func(_ context.Context, o store.CreateOptions) (*store.Store, error) {
		startCreate(o, c)
		msg := `pod shop-wordpress-7d9f8c6b5d-x2x9q: Back-off pulling image "wordpress:6.9-php8.3-apache"`
		report(o, c, 9*time.Second, store.ComponentWordPress, store.ProgressFailed, "ImagePullBackOff: "+msg, 23*time.Second)
		return nil, &store.Error{Err: store.ErrFailed, Store: o.Name, Component: store.ComponentWordPress,
			Reason: "ImagePullBackOff", Message: msg}
	}
}

func createInterrupted(h *harness, c *testClock) scriptedCreate {
	return func(ctx context.Context, o store.CreateOptions) (*store.Store, error) {
		startCreate(o, c)
		c.advance(5 * time.Second)
		h.cancel() // what SIGINT does through signal.NotifyContext
		<-ctx.Done()
		return nil, &store.Error{Err: store.ErrInterrupted, Store: o.Name, Reason: "Interrupted",
			Message: "interrupted during the wait for the store to be ready"}
	}
}

func terminalTranscript(t *testing.T, noColor bool, scenario func(*harness, *testClock) scriptedCreate) string {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Cols: termCols, Rows: termRows}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TERM": "xterm-256color"}
	if noColor {
		env["NO_COLOR"] = "1"
	}
	h := newHarness(t, false)
	h.f.IOStreams = output.FromFiles(tty, tty, tty, func(k string) string { return env[k] })
	if !h.f.IOStreams.IsStderrTTY || h.f.IOStreams.TerminalWidth != termCols {
		t.Fatalf("the pseudo-terminal is not seen as a %d-column terminal: %+v", termCols, h.f.IOStreams)
	}
	clock := &testClock{now: testNow}
	h.f.Now = clock.Now
	h.eng.create = scenario(h, clock)

	var stream bytes.Buffer
	read := make(chan struct{})
	go func() {
		defer close(read)
		_, _ = io.Copy(&stream, ptmx) // ends with EIO once the terminal side is closed
	}()
	code := h.run("create", "shop")
	_ = tty.Close()
	<-read

	scr := screen.New(termCols, termRows)
	_, _ = scr.Write(stream.Bytes())
	raw := strings.ReplaceAll(strings.ReplaceAll(stream.String(), "\r\n", "\n"), "\x1b", `\e`)
	if noColor && sgr.MatchString(stream.String()) {
		t.Errorf("colour written under NO_COLOR: %q", stream.String())
	}
	for _, l := range strings.Split(scr.String(), "\n") {
		if len([]rune(l)) > termCols {
			t.Errorf("a line wider than the terminal: %q", l)
		}
	}
	return "# exit " + itoa(code) + "\n# screen\n" + scr.String() + "# stream\n" + raw
}
