package cli

import (
	"fmt"
	"sync"
	"time"

	"github.com/storectl/storectl/pkg/backup"
	"github.com/storectl/storectl/pkg/output"
)

// transferRedraw is how often a terminal's transfer line is redrawn.
const transferRedraw = 200 * time.Millisecond

// newTransferProgress renders the engine's transfer reports on stderr: on a terminal a
// line of bytes and rate redrawn as data flows, and everywhere one line per finished step.
func newTransferProgress(ios *output.IOStreams) func(backup.Progress) {
	var mu sync.Mutex
	started := map[string]time.Time{}
	var drawn time.Time
	st := ios.StderrStyles()
	return func(p backup.Progress) {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		if _, ok := started[p.Step]; !ok {
			started[p.Step] = now
		}
		elapsed := now.Sub(started[p.Step])
		switch {
		case p.Done:
			if ios.IsStderrTTY {
				fmt.Fprint(ios.ErrOut, "\r\033[K")
			}
			fmt.Fprintf(ios.ErrOut, "%s %s: %s in %s (%s/s)\n", st.OK.Render(output.MarkOK), p.Step, humanBytes(p.Bytes),
				output.HumanDuration(elapsed), humanBytes(rate(p.Bytes, elapsed)))
		case ios.IsStderrTTY && now.Sub(drawn) >= transferRedraw:
			drawn = now
			fmt.Fprintf(ios.ErrOut, "\r\033[K  %s: %s (%s/s)", p.Step, humanBytes(p.Bytes), humanBytes(rate(p.Bytes, elapsed)))
		}
	}
}

func rate(n int64, d time.Duration) int64 {
	if d < time.Millisecond {
		return n
	}
	return int64(float64(n) / d.Seconds())
}

// humanBytes prints a size in binary units: 512 B, 1.5 KiB, 12.3 MiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
