// Command testreport reads `go test -json` on stdin, prints what go test
// prints without -v, then the slowest tests of the run.
//
//	go test -json ./... | go run ./hack/testreport
//
// As go test does, it shows a passing package as its "ok" line and a failing
// one with the output of its failing tests and its closing "FAIL" lines.
// Tests of a package that ends without a verdict for them (a panic, a
// timeout) are shown in full, since their output tells why. It exits 1 when
// a test, a package or a build failed, or when the input ends with packages
// still running; 2 on bad usage.
//
// Flags:
//
//	-slowest N    how many of the slowest tests to list (default 10)
//	-json FILE    also write the events read, unchanged, to FILE
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

func main() {
	slowest := flag.Int("slowest", 10, "how many of the slowest tests to list")
	raw := flag.String("json", "", "also write the events read to this file")
	flag.Parse()
	if flag.NArg() != 0 || *slowest < 0 {
		fmt.Fprintln(os.Stderr, "usage: go test -json ./... | testreport [-slowest N] [-json FILE]")
		os.Exit(2)
	}
	in := io.Reader(os.Stdin)
	if *raw != "" {
		f, err := os.Create(*raw)
		if err != nil {
			fmt.Fprintf(os.Stderr, "testreport: %v\n", err)
			os.Exit(1)
		}
		defer f.Close()
		in = io.TeeReader(os.Stdin, f)
	}
	out := bufio.NewWriter(os.Stdout)
	ok, err := report(in, out, *slowest)
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "testreport: %v\n", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

// event is one line of `go test -json` (cmd/test2json), including the build
// events go test adds.
type event struct {
	Action     string
	Package    string
	Test       string
	Elapsed    float64
	Output     string
	ImportPath string
}

// test is what has been read of one test of a package.
type test struct {
	name   string
	lines  []string
	result string // "", pass, fail or skip
}

type pkg struct {
	tests map[string]*test
	order []*test // in the order they started
	lines []string
}

func (p *pkg) test(name string) *test {
	t := p.tests[name]
	if t == nil {
		t = &test{name: name}
		p.tests[name] = t
		p.order = append(p.order, t)
	}
	return t
}

// timing is the run time of one finished test.
type timing struct {
	pkg, test string
	elapsed   time.Duration
}

// report copies the events of r to w as go test prints them and lists the n
// slowest tests; ok is false when anything failed.
func report(r io.Reader, w io.Writer, n int) (ok bool, err error) {
	pkgs := map[string]*pkg{}
	get := func(name string) *pkg {
		p := pkgs[name]
		if p == nil {
			p = &pkg{tests: map[string]*test{}}
			pkgs[name] = p
		}
		return p
	}
	var (
		times           []timing
		failed, passed  []string
		buildFailed     bool
		failedTestCount int
		counts          = map[string]int{}
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			// Not an event (go's own messages when stderr is merged in):
			// pass it on as it is.
			fmt.Fprintf(w, "%s\n", line)
			continue
		}
		switch e.Action {
		case "build-output":
			fmt.Fprint(w, e.Output)
			continue
		case "build-fail":
			buildFailed = true
			continue
		}
		if e.Package == "" {
			continue
		}
		p := get(e.Package)
		if e.Test != "" {
			t := p.test(e.Test)
			switch e.Action {
			case "output":
				t.lines = append(t.lines, e.Output)
			case "pass", "fail", "skip":
				t.result = e.Action
				counts[e.Action]++
				if e.Action != "skip" {
					times = append(times, timing{e.Package, e.Test, time.Duration(e.Elapsed * float64(time.Second))})
				}
				if e.Action == "fail" {
					failedTestCount++
				}
			}
			continue
		}
		switch e.Action {
		case "output":
			p.lines = append(p.lines, e.Output)
		case "pass", "skip":
			passed = append(passed, e.Package)
			printPassed(w, p)
			delete(pkgs, e.Package)
		case "fail":
			failed = append(failed, e.Package)
			printFailed(w, p)
			delete(pkgs, e.Package)
		}
	}
	if err := sc.Err(); err != nil {
		return false, err
	}
	// Packages without a verdict: go test was stopped or the input cut short.
	var unfinished []string
	for name := range pkgs {
		unfinished = append(unfinished, name)
	}
	sort.Strings(unfinished)
	for _, name := range unfinished {
		printFailed(w, pkgs[name])
		fmt.Fprintf(w, "FAIL\t%s [no result: the run ended first]\n", name)
	}

	printSlowest(w, times, n)

	failed = append(failed, unfinished...)
	// The plain closing line, counting every test and subtest.
	defer fmt.Fprintf(w, "tests: %d passed, %d failed, %d skipped\n", counts["pass"], counts["fail"], counts["skip"])
	switch {
	case len(failed) > 0:
		fmt.Fprintf(w, "\nFAIL: %d of %d packages failed (%d failed tests): %s\n",
			len(failed), len(failed)+len(passed), failedTestCount, strings.Join(failed, " "))
		return false, nil
	case buildFailed:
		fmt.Fprintln(w, "\nFAIL: a build failed")
		return false, nil
	case len(passed) == 0:
		fmt.Fprintln(w, "\nFAIL: no package was tested")
		return false, nil
	}
	fmt.Fprintf(w, "\nok: all %d packages passed\n", len(passed))
	return true, nil
}

// printPassed prints the closing line of a package that passed (or has no
// tests), as go test does for a list of packages.
func printPassed(w io.Writer, p *pkg) {
	for _, l := range p.lines {
		if strings.HasPrefix(l, "ok  \t") || strings.HasPrefix(l, "?   \t") {
			fmt.Fprint(w, l)
		}
	}
}

// printFailed prints the failing and unfinished tests of a package with their
// output, then the package's own output with its FAIL lines.
func printFailed(w io.Writer, p *pkg) {
	for _, t := range p.order {
		if t.result != "fail" && t.result != "" {
			continue
		}
		indent := strings.Repeat("    ", strings.Count(t.name, "/"))
		// Without -v, go test prints the verdict line first and the test's
		// output below it; -json gives them in the other order.
		verdict := -1
		for i, l := range t.lines {
			if strings.HasPrefix(strings.TrimSpace(l), "--- FAIL: "+t.name+" (") {
				verdict = i
			}
		}
		if verdict >= 0 {
			fmt.Fprint(w, indent+strings.TrimLeft(t.lines[verdict], " "))
		} else {
			fmt.Fprintf(w, "%s--- FAIL: %s (no result: it was still running)\n", indent, t.name)
		}
		for i, l := range t.lines {
			if i == verdict || isFraming(l) {
				continue
			}
			fmt.Fprint(w, indent+l)
		}
	}
	for _, l := range p.lines {
		fmt.Fprint(w, l)
	}
}

// isFraming reports the lines that only -v prints: a test starting, pausing
// or resuming.
func isFraming(l string) bool {
	for _, prefix := range []string{"=== RUN ", "=== PAUSE ", "=== CONT ", "=== NAME "} {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

func printSlowest(w io.Writer, times []timing, n int) {
	if n == 0 || len(times) == 0 {
		return
	}
	sort.SliceStable(times, func(i, j int) bool { return times[i].elapsed > times[j].elapsed })
	if len(times) > n {
		times = times[:n]
	}
	fmt.Fprintf(w, "\nSlowest %d tests:\n", len(times))
	for _, t := range times {
		fmt.Fprintf(w, "%9.1fs  %s  %s\n", t.elapsed.Seconds(), t.test, t.pkg)
	}
}
