package output

import (
	"strings"
	"testing"
	"time"

	"github.com/storectl/storectl/pkg/output/screen"
)

type row struct {
	Name string    `json:"name"`
	When time.Time `json:"-"`
}

type rows []row

func (r rows) Table(c Cells, wide bool) ([]string, [][]string) {
	h := []string{"NAME", "AGE"}
	if wide {
		h = append(h, "EXTRA")
	}
	var out [][]string
	for _, x := range r {
		cells := []string{x.Name, c.Time(x.When)}
		if wide {
			cells = append(cells, "x")
		}
		out = append(out, cells)
	}
	return h, out
}

func (r rows) Names() []string {
	var n []string
	for _, x := range r {
		n = append(n, x.Name)
	}
	return n
}

func TestPrinter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	data := rows{{"alpha", now.Add(-90 * time.Second)}, {"a-much-longer-name", now.Add(-3 * time.Hour)}}
	tests := []struct {
		format Format
		tty    bool
		v      any
		want   string
	}{
		// Ages are relative in a pipe too, as kubectl prints them.
		{FormatTable, false, data, "NAME                 AGE\nalpha                1m30s\na-much-longer-name   3h\n"},
		{FormatTable, true, data, "NAME                 AGE\nalpha                1m30s\na-much-longer-name   3h\n"},
		{FormatWide, false, data[:1], "NAME    AGE     EXTRA\nalpha   1m30s   x\n"},
		{FormatName, false, data, "alpha\na-much-longer-name\n"},
		{FormatJSON, false, data[:1], "[\n  {\n    \"name\": \"alpha\"\n  }\n]\n"},
		{FormatJSON, false, rows(nil), "[]\n"},
		{FormatYAML, false, rows(nil), "[]\n"},
		{FormatYAML, false, data[:1], "- name: alpha\n"},
		{FormatTable, false, rows(nil), ""},
	}
	for _, tt := range tests {
		ios, bufs := Test()
		ios.IsStdoutTTY = tt.tty
		ios.ColorEnabled = false
		if err := NewPrinter(ios, tt.format, now).Print(tt.v); err != nil {
			t.Fatalf("%s: %v", tt.format, err)
		}
		if got := bufs.Out.String(); got != tt.want {
			t.Errorf("%s tty=%v:\n got %q\nwant %q", tt.format, tt.tty, got, tt.want)
		}
	}
	ios, _ := Test()
	if err := NewPrinter(ios, FormatTable, now).Print(struct{}{}); err == nil {
		t.Error("a value that is not Tabular printed as a table")
	}
	ios, bufs := Test()
	p := NewPrinter(ios, FormatTable, now)
	p.NoHeaders = true
	if err := p.Print(data); err != nil {
		t.Fatal(err)
	}
	if got, want := bufs.Out.String(), "alpha                1m30s\na-much-longer-name   3h\n"; got != want {
		t.Errorf("--no-headers:\n got %q\nwant %q", got, want)
	}
}

// -o yaml lists the keys in the order -o json does, not sorted, and quotes what a YAML
// reader would otherwise take for another type.
func TestYAMLKeepsJSONOrder(t *testing.T) {
	t.Parallel()
	type inner struct {
		Zulu  int `json:"zulu"`
		Alpha int `json:"alpha"`
	}
	v := struct {
		Name    string   `json:"name"`
		Mail    string   `json:"mail"`
		Version string   `json:"version"`
		Empty   []string `json:"empty"`
		Items   []inner  `json:"items"`
		Note    string   `json:"note"`
	}{Name: "shop", Mail: "off", Version: "1.0", Empty: []string{}, Items: []inner{{1, 2}}, Note: "two\nlines"}
	ios, bufs := Test()
	if err := NewPrinter(ios, FormatYAML, time.Time{}).Print(v); err != nil {
		t.Fatal(err)
	}
	want := "name: shop\nmail: \"off\"\nversion: \"1.0\"\nempty: []\nitems:\n  - zulu: 1\n    alpha: 2\nnote: |-\n  two\n  lines\n"
	if got := bufs.Out.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestTableHeadersAreBoldOnlyWithColor(t *testing.T) {
	t.Parallel()
	ios, bufs := Test()
	ios.SetTerminal(true)
	if err := NewPrinter(ios, FormatTable, time.Now()).Print(rows{{"a", time.Now()}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(bufs.Out.String(), "\x1b[1mNAME\x1b[0m") {
		t.Errorf("no bold header on a colour terminal: %q", bufs.Out.String())
	}
	ios.ColorEnabled = false
	bufs.Out.Reset()
	_ = NewPrinter(ios, FormatTable, time.Now()).Print(rows{{"a", time.Now()}})
	if strings.Contains(bufs.Out.String(), "\x1b") {
		t.Errorf("ANSI without colour: %q", bufs.Out.String())
	}
}

func TestParseFormat(t *testing.T) {
	t.Parallel()
	if f, err := ParseFormat("", FormatTable, FormatJSON); err != nil || f != FormatTable {
		t.Errorf("default: %v %v", f, err)
	}
	if f, err := ParseFormat("json", FormatTable, FormatJSON); err != nil || f != FormatJSON {
		t.Errorf("json: %v %v", f, err)
	}
	_, err := ParseFormat("wide", FormatTable, FormatJSON)
	if err == nil || !strings.Contains(err.Error(), "use one of table, json") {
		t.Errorf("wide: %v", err)
	}
}

func TestHumanDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		-time.Second:                   "0s",
		0:                              "0s",
		59 * time.Second:               "59s",
		time.Minute:                    "1m",
		90 * time.Second:               "1m30s",
		9*time.Minute + 59*time.Second: "9m59s",
		45 * time.Minute:               "45m",
		5 * time.Hour:                  "5h",
		47 * time.Hour:                 "47h",
		72 * time.Hour:                 "3d",
		800 * 24 * time.Hour:           "2y",
	} {
		if got := HumanDuration(d); got != want {
			t.Errorf("HumanDuration(%v) = %q, want %q", d, got, want)
		}
	}
	c := Cells{}
	if c.Time(time.Time{}) != "<unknown>" || Timestamp(time.Time{}) != "<unknown>" {
		t.Error("zero time")
	}
	if got := Timestamp(time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))); got != "2026-01-02T02:04:05Z" {
		t.Errorf("Timestamp: %s", got)
	}
}

func TestColorAllowedByEnv(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{"TERM": "xterm-256color"}, true},
		{map[string]string{}, true},
		{map[string]string{"NO_COLOR": "1", "TERM": "xterm"}, false},
		{map[string]string{"NO_COLOR": "", "TERM": "xterm"}, true},
		{map[string]string{"TERM": "dumb"}, false},
	} {
		if got := ColorAllowedByEnv(func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("%v: %v, want %v", tt.env, got, tt.want)
		}
	}
	ios, _ := Test()
	ios.IsStdoutTTY, ios.IsStderrTTY, ios.ColorEnabled = true, false, true
	if !ios.ColorOut() || ios.ColorErr() {
		t.Error("colour must follow each stream's own terminal")
	}
}

func TestProgressPlain(t *testing.T) {
	t.Parallel()
	ios, bufs := Test()
	p := NewProgress(ios, ProgressOptions{Labels: map[string]string{"db": "Database"}})
	p.Update(Step{Name: "db", State: StateRunning, Message: "pod db-0: ContainerCreating"})
	p.Update(Step{Name: "db", State: StateRunning, Message: "pod db-0: ContainerCreating", Elapsed: 3 * time.Second}) // no change: no line
	p.Update(Step{Name: "web", State: StateRunning, Message: `said "hi"`})
	p.Update(Step{Name: "db", State: StateFailed, Message: "ImagePullBackOff", Elapsed: 12400 * time.Millisecond})
	p.Stop()
	want := `step=db state=running elapsed=0s message="pod db-0: ContainerCreating"
step=web state=running elapsed=0s message="said \"hi\""
step=db state=failed elapsed=12s message=ImagePullBackOff
`
	if got := bufs.ErrOut.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	steps := p.Steps()
	if len(steps) != 2 || steps[0].Name != "db" || steps[0].State != StateFailed || steps[1].Name != "web" {
		t.Errorf("steps %+v", steps)
	}
	if bufs.Out.Len() != 0 {
		t.Error("progress wrote to stdout")
	}
}

func TestProgressTerminal(t *testing.T) {
	t.Parallel()
	for _, color := range []bool{true, false} {
		ios, bufs := Test()
		ios.SetTerminal(true)
		ios.ColorEnabled = color // NO_COLOR drops colour, never the live view
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		clock := now
		p := NewProgress(ios, ProgressOptions{
			Labels: map[string]string{"db": "Database", "web": "WordPress"},
			Order:  []string{"db", "web"},
			Now:    func() time.Time { return clock },
		})
		if !p.Live() {
			t.Fatalf("color=%v: no live view on a terminal", color)
		}
		// WordPress reports first, yet the view keeps the fixed order.
		p.Update(Step{Name: "web", State: StateRunning})
		p.Update(Step{Name: "db", State: StateRunning, Message: "starting"})
		clock = now.Add(7 * time.Second)
		p.Update(Step{Name: "db", State: StateDone, Elapsed: 7 * time.Second})
		if got := p.Steps()[1]; got.Name != "web" || got.Elapsed != 7*time.Second {
			t.Errorf("a running step's elapsed time must advance with the clock: %+v", got)
		}
		clock = now.Add(9 * time.Second)
		p.Update(Step{Name: "web", State: StateFailed, Message: "CrashLoopBackOff", Elapsed: 9 * time.Second})
		p.Stop()
		out := bufs.ErrOut.String()
		if color != strings.Contains(out, "\x1b[3") {
			t.Errorf("color=%v: colour codes present=%v: %q", color, !color, out)
		}
		// The live area is redrawn in place: the cursor moves up over both lines.
		if !strings.Contains(out, "\x1b[2F\x1b[J") {
			t.Errorf("no in-place redraw of two steps: %q", out)
		}
		scr := screen.New(80, 24)
		_, _ = scr.Write([]byte(out))
		want := " ✓ Database             (7s)\n ✗ WordPress            failed (9s)\nTotal time: 9s\n"
		if got := scr.String(); got != want {
			t.Errorf("color=%v: screen\n%s\nwant\n%s", color, got, want)
		}
		if strings.Contains(out, "CrashLoopBackOff") {
			t.Errorf("the failure's message belongs to the error after the view, not the view: %q", out)
		}
	}
}

// Steps still running when the operation stops (interrupt, timeout) lose their spinner.
func TestProgressStopFreezesRunningSteps(t *testing.T) {
	t.Parallel()
	ios, bufs := Test()
	ios.SetTerminal(true)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := NewProgress(ios, ProgressOptions{Now: func() time.Time { return clock }})
	p.Update(Step{Name: "db", State: StateRunning, Message: "0/1 pods ready"})
	clock = clock.Add(75 * time.Second)
	p.Stop()
	scr := screen.New(80, 24)
	_, _ = scr.Write(bufs.ErrOut.Bytes())
	if got, want := scr.String(), " - db                   0/1 pods ready (1m15s)\nTotal time: 1m15s\n"; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TERM=dumb cannot move the cursor: one plain line per change.
func TestProgressDumbTerminalIsPlain(t *testing.T) {
	t.Parallel()
	ios, bufs := Test()
	ios.SetTerminal(true)
	ios.DumbTerminal = true
	p := NewProgress(ios, ProgressOptions{})
	p.Update(Step{Name: "db", State: StateRunning})
	p.Stop()
	if got := bufs.ErrOut.String(); got != "step=db state=running elapsed=0s\n" {
		t.Errorf("got %q", got)
	}
}

func TestProgressSpinnerAnimates(t *testing.T) {
	t.Parallel()
	ios, bufs := Test()
	ios.SetTerminal(true)
	p := NewProgress(ios, ProgressOptions{Animate: true})
	p.Update(Step{Name: "db", State: StateRunning})
	time.Sleep(400 * time.Millisecond)
	p.Stop()
	p.Update(Step{Name: "db", State: StateDone}) // after Stop: ignored, no panic
	if !strings.Contains(stripANSI(bufs.ErrOut.String()), spinnerFrames[1]) {
		t.Errorf("the spinner did not advance: %q", bufs.ErrOut.String())
	}
}

func TestWriteSummary(t *testing.T) {
	t.Parallel()
	ios, bufs := Test()
	WriteSummary(ios.ErrOut, ios.StderrStyles(), []Step{
		{Name: "db", State: StateDone, Elapsed: 12 * time.Second},
		{Name: "web", State: StateRunning, Message: "0/1 pods ready", Elapsed: 10 * time.Minute},
	}, func(s string) string { return strings.ToUpper(s) })
	want := "Last state seen:\n  STEP   STATE     ELAPSED   MESSAGE\n  DB     done      12s\n  WEB    running   10m       0/1 pods ready\n"
	if got := bufs.ErrOut.String(); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ';') {
				j++
			}
			i = j
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestProgressLiveLinesDoNotWrap(t *testing.T) {
	t.Parallel()
	ios, bufs := Test()
	ios.SetTerminal(true)
	ios.TerminalWidth = 40
	p := NewProgress(ios, ProgressOptions{Now: func() time.Time { return time.Time{} }})
	p.Update(Step{Name: "wordpress", State: StateRunning, Message: strings.Repeat("very long message ", 10), Elapsed: 83 * time.Second})
	p.Stop()
	lines := strings.Split(strings.TrimRight(stripANSI(bufs.ErrOut.String()), "\n"), "\n")
	for _, l := range lines {
		if n := len([]rune(l)); n > 39 {
			t.Errorf("live line of %d columns on a 40-column terminal: %q", n, l)
		}
	}
	// The message is cut, never the elapsed time.
	if l := lines[len(lines)-2]; !strings.HasSuffix(l, "… (1m23s)") {
		t.Errorf("cut line lost its elapsed time: %q", l)
	}
}
