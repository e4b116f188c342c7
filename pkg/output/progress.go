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
// On a terminal each step has a line, in a fixed order whatever order the steps report in:
// a spinner while it runs, then ✓ or ✗ with its elapsed time. The lines are redrawn in place
// and stay where they are when a step ends; Stop freezes the spinners of steps still running
// and ends the view with the total time. Colour is used only where ColorErr allows it; the
// live view itself needs only a terminal that can move the cursor. Anywhere else it writes
// one plain logfmt line per state change:
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
	rank   map[string]int
	now    func() time.Time
	start  time.Time
	width  int

	order    []string // steps in display order
	steps    map[string]*progressStep
	drawn    int    // lines of the live area currently on screen
	shown    string // what those lines say, to skip redraws that change nothing
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
	// Order is the order the live view shows steps in; steps it does not name follow, in
	// the order they first report.
	Order []string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Animate starts a spinner goroutine in terminal mode. Tests leave it off and get
	// reproducible output.
	Animate bool
}

var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// NewProgress returns a Progress writing to ErrOut of ios; the live view is used when ErrOut
// is a terminal that can move the cursor, with colour only when colour is allowed.
func NewProgress(ios *IOStreams, o ProgressOptions) *Progress {
	p := &Progress{
		w:      ios.ErrOut,
		st:     ios.StderrStyles(),
		live:   ios.LiveErr(),
		labels: o.Labels,
		rank:   map[string]int{},
		now:    o.Now,
		width:  ios.TerminalWidth,
		steps:  map[string]*progressStep{},
	}
	for i, n := range o.Order {
		p.rank[n] = i
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.start = p.now()
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

// Live reports whether the progress is drawn as the live terminal view: the view then
// already shows the last state of every step.
func (p *Progress) Live() bool { return p.live }

// Update records a state change of one step and renders it.
func (p *Progress) Update(s Step) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	prev, known := p.steps[s.Name]
	if !known {
		p.insert(s.Name)
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
	p.redraw()
}

// insert places a new step at its fixed position: after every step of a lower rank, and
// after every step of no rank when it has none itself.
func (p *Progress) insert(name string) {
	r, ranked := p.rank[name]
	i := len(p.order)
	if ranked {
		for j, n := range p.order {
			if nr, ok := p.rank[n]; !ok || nr > r {
				i = j
				break
			}
		}
	}
	p.order = append(p.order, "")
	copy(p.order[i+1:], p.order[i:])
	p.order[i] = name
}

// Stop ends the spinner, leaves the last state of each step on screen with the spinners of
// steps still running frozen, and ends the live view with the total time.
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
	p.finished = true
	if p.live && len(p.order) > 0 {
		p.redraw()
		// A terminal that went away is no reason to fail the operation being shown.
		_, _ = fmt.Fprintf(p.w, "%s\n", p.st.Muted.Render("Total time: "+HumanDuration(p.now().Sub(p.start))))
	}
	p.drawn = 0
}

// Steps returns the last state seen of every step, in display order.
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

// redraw rewrites the live area in place: every step on its line, in display order.
func (p *Progress) redraw() {
	var body strings.Builder
	for _, n := range p.order {
		body.WriteString(p.line(p.current(p.steps[n])))
		body.WriteByte('\n')
	}
	if p.drawn > 0 && body.String() == p.shown {
		return
	}
	var b strings.Builder
	if p.drawn > 0 {
		// Move to the first line of the live area and clear to the end of the screen.
		fmt.Fprintf(&b, "\x1b[%dF\x1b[J", p.drawn)
	}
	b.WriteString(body.String())
	p.drawn, p.shown = len(p.order), body.String()
	// A terminal that went away is no reason to fail the operation being shown.
	_, _ = io.WriteString(p.w, b.String())
}

// MarkStopped marks a step that was still running when the operation stopped.
const MarkStopped = "-"

// line renders one step. It never wraps (the redraw moves up one row per line): a long
// message is cut, never the elapsed time. A failure's message is not repeated here; the
// error printed after the view carries it.
func (p *Progress) line(cur Step) string {
	var mark string
	msg, msgStyle := cur.Message, p.st.Muted
	switch {
	case cur.State == StateRunning && p.finished:
		mark = p.st.Muted.Render(MarkStopped)
	case cur.State == StateRunning:
		mark = p.st.Warn.Render(spinnerFrames[p.frame%len(spinnerFrames)])
	case cur.State == StateFailed:
		mark, msg, msgStyle = p.st.Err.Render(MarkFail), "failed", p.st.Err
	default:
		mark = p.st.OK.Render(MarkOK)
	}
	head := fmt.Sprintf(" %s %-20s", mark, p.Label(cur.Name))
	tail := " " + p.st.Muted.Render("("+HumanDuration(cur.Elapsed)+")")
	if p.width > 1 && msg != "" {
		room := p.width - 1 - ansi.StringWidth(head) - ansi.StringWidth(tail) - 1
		if room < 2 {
			msg = ""
		} else {
			msg = ansi.Truncate(msg, room, "…")
		}
	}
	text := head
	if msg != "" {
		text += " " + msgStyle.Render(msg)
	}
	line := text + tail
	if p.width > 1 {
		line = ansi.Truncate(line, p.width-1, "")
	}
	return line
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
		msg := s.Message
		if s.State == StateFailed {
			msg = "" // the error that follows says why
		}
		rows = append(rows, []string{label(s.Name), state, HumanDuration(s.Elapsed), msg})
	}
	fmt.Fprintln(w, st.Title.Render("Last state seen:"))
	for _, l := range strings.Split(strings.TrimRight(RenderTable(st, []string{"STEP", "STATE", "ELAPSED", "MESSAGE"}, rows), "\n"), "\n") {
		fmt.Fprintln(w, "  "+l)
	}
}
