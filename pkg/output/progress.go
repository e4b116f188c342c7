package output

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// Step states reported to a Progress.
const (
	StateRunning = "running"
	StateDone    = "done"
	StateFailed  = "failed"
)

// Step is one state change of a long operation, e.g. the database becoming ready.
type Step struct {
	Name    string        // stable identifier, e.g. "database"
	State   string        // running, done or failed
	Message string        // what is happening now, from the cluster
	Elapsed time.Duration // time spent in the step so far
}

// Progress renders the steps of a long operation to a human stream.
//
// On a terminal with colour each step has a line: a spinner while it runs, then ✓ or ✗
// with its elapsed time. Anywhere else it writes one plain logfmt line per state change:
//
//	step=database state=running elapsed=3s message="pod shop-mariadb-0 is not ready"
//
// Keys are always in that order; message is quoted when it holds spaces or quotes.
type Progress struct {
	mu     sync.Mutex
	w      io.Writer
	st     Styles
	live   bool
	labels map[string]string
	now    func() time.Time
	width  int

	order    []string
	steps    map[string]*progressStep
	pending  []string // finished lines not yet written (terminal mode)
	drawn    int      // lines of the live area currently on screen
	frame    int
	stop     chan struct{}
	done     chan struct{}
	finished bool
}

type progressStep struct {
	Step
	seen time.Time // when the last update arrived, to advance Elapsed between updates
}

// ProgressOptions configure a Progress.
type ProgressOptions struct {
	// Labels maps step names to what a human reads, e.g. "setup" to "WooCommerce setup".
	Labels map[string]string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Animate starts a spinner goroutine in terminal mode. Tests leave it off and get
	// reproducible output.
	Animate bool
}

var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// NewProgress returns a Progress writing to ErrOut of ios; the styled live mode is used only
// when ErrOut is a terminal and colour is allowed.
func NewProgress(ios *IOStreams, o ProgressOptions) *Progress {
	p := &Progress{
		w:      ios.ErrOut,
		st:     ios.StderrStyles(),
		live:   ios.ColorErr(),
		labels: o.Labels,
		now:    o.Now,
		width:  ios.TerminalWidth,
		steps:  map[string]*progressStep{},
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.live && o.Animate {
		p.stop, p.done = make(chan struct{}), make(chan struct{})
		go p.spin()
	}
	return p
}

func (p *Progress) spin() {
	defer close(p.done)
	t := time.NewTicker(120 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			p.frame++
			p.redraw()
			p.mu.Unlock()
		}
	}
}

// Update records a state change of one step and renders it.
func (p *Progress) Update(s Step) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	prev, known := p.steps[s.Name]
	if !known {
		p.order = append(p.order, s.Name)
		prev = &progressStep{}
		p.steps[s.Name] = prev
	}
	changed := !known || prev.State != s.State || prev.Message != s.Message
	prev.Step, prev.seen = s, p.now()
	if !changed {
		return
	}
	if !p.live {
		fmt.Fprintln(p.w, logfmtLine(s))
		return
	}
	if s.State != StateRunning {
		p.pending = append(p.pending, p.line(prev, false))
	}
	p.redraw()
}

// Stop ends the spinner and leaves the last state of each running step on screen.
func (p *Progress) Stop() {
	if p.stop != nil {
		close(p.stop)
		<-p.done
		p.stop = nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	if p.live {
		p.redraw()
	}
	p.drawn = 0
	p.finished = true
}

// Steps returns the last state seen of every step, in the order they first appeared.
func (p *Progress) Steps() []Step {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Step, 0, len(p.order))
	for _, n := range p.order {
		out = append(out, p.current(p.steps[n]))
	}
	return out
}

// Label returns the human name of a step.
func (p *Progress) Label(name string) string {
	if l, ok := p.labels[name]; ok {
		return l
	}
	return name
}

// current is the step with Elapsed advanced to now while it is still running.
func (p *Progress) current(s *progressStep) Step {
	out := s.Step
	if out.State == StateRunning && !s.seen.IsZero() {
		out.Elapsed += p.now().Sub(s.seen)
	}
	return out
}

// redraw rewrites the live area: finished lines are written once, above the running ones.
func (p *Progress) redraw() {
	var b strings.Builder
	if p.drawn > 0 {
		// Move to the first line of the live area and clear to the end of the screen.
		fmt.Fprintf(&b, "\x1b[%dF\x1b[J", p.drawn)
	}
	for _, l := range p.pending {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	p.pending = p.pending[:0]
	p.drawn = 0
	for _, n := range p.order {
		s := p.steps[n]
		if s.State != StateRunning {
			continue
		}
		line := p.line(s, true)
		if p.width > 1 {
			// A live line must not wrap: the redraw moves up one row per line.
			line = ansi.Truncate(line, p.width-1, "…")
		}
		b.WriteString(line)
		b.WriteByte('\n')
		p.drawn++
	}
	// A terminal that went away is no reason to fail the operation being shown.
	_, _ = io.WriteString(p.w, b.String())
}

func (p *Progress) line(s *progressStep, running bool) string {
	cur := p.current(s)
	var mark string
	switch {
	case running:
		mark = p.st.Warn.Render(spinnerFrames[p.frame%len(spinnerFrames)])
	case cur.State == StateFailed:
		mark = p.st.Err.Render(MarkFail)
	default:
		mark = p.st.OK.Render(MarkOK)
	}
	label := p.Label(cur.Name)
	text := fmt.Sprintf(" %s %-20s", mark, label)
	if cur.Message != "" {
		msg := cur.Message
		if cur.State == StateFailed {
			msg = p.st.Err.Render(msg)
		} else if running {
			msg = p.st.Muted.Render(msg)
		}
		text += " " + msg
	}
	text += " " + p.st.Muted.Render("("+HumanDuration(cur.Elapsed)+")")
	return strings.TrimRight(text, " ")
}

// logfmtLine renders a step as the plain, parseable line used off a terminal.
func logfmtLine(s Step) string {
	line := fmt.Sprintf("step=%s state=%s elapsed=%s", logfmtValue(s.Name), logfmtValue(s.State),
		s.Elapsed.Round(time.Second))
	if s.Message != "" {
		line += " message=" + logfmtValue(s.Message)
	}
	return line
}

func logfmtValue(v string) string {
	if v == "" || strings.ContainsAny(v, " \t\"=\n\\") || strconv.Quote(v) != `"`+v+`"` {
		return strconv.Quote(v)
	}
	return v
}

// WriteSummary writes the last state of each step as an aligned block, for failures and
// timeouts: it tells the user where the operation stood when it stopped.
func WriteSummary(w io.Writer, st Styles, steps []Step, label func(string) string) {
	if len(steps) == 0 {
		return
	}
	rows := make([][]string, 0, len(steps))
	for _, s := range steps {
		state := s.State
		switch state {
		case StateFailed:
			state = st.Err.Render(state)
		case StateRunning:
			state = st.Warn.Render(state)
		case StateDone:
			state = st.OK.Render(state)
		}
		rows = append(rows, []string{label(s.Name), state, HumanDuration(s.Elapsed), s.Message})
	}
	fmt.Fprintln(w, st.Title.Render("Last state seen:"))
	for _, l := range strings.Split(strings.TrimRight(RenderTable(st, []string{"STEP", "STATE", "ELAPSED", "MESSAGE"}, rows), "\n"), "\n") {
		fmt.Fprintln(w, "  "+l)
	}
}
