package cli

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/storectl/storectl/pkg/output"
)

// An interrupt at the confirmation prompt ends the command at once with the interrupted
// exit code, although nothing was typed: the prompt must not swallow Ctrl-C and take the
// next line typed as its answer.
func TestInterruptAtThePromptExitsAtOnce(t *testing.T) {
	t.Parallel()
	ios, bufs := output.Test()
	ios.SetTerminal(true)
	r, w := io.Pipe()
	defer func() { _ = w.Close() }()
	ios.In = r
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)

	done := make(chan error, 1)
	go func() {
		ok, err := confirm(ctx, ios, "Delete store shop?")
		if ok {
			t.Error("an interrupted prompt confirmed")
		}
		done <- err
	}()
	select {
	case err := <-done:
		if code := ExitCode(err); code != ExitInterrupted {
			t.Errorf("exit code %d (%v), want %d", code, err, ExitInterrupted)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the prompt kept waiting for input after the interrupt")
	}
	if got := stripANSI(bufs.ErrOut.String()); got == "" {
		t.Error("no prompt was shown")
	}
}
