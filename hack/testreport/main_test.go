package main

import (
	"bytes"
	"strings"
	"testing"
)

// A run of three packages as `go test -json` reports it: jt/a has a failing
// subtest, jt/b passes, jt/c does not compile.
const mixedRun = `{"Action":"start","Package":"jt/a"}
{"Action":"run","Package":"jt/a","Test":"TestOK"}
{"Action":"output","Package":"jt/a","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"output","Package":"jt/a","Test":"TestOK","Output":"    a_test.go:3: passing log line\n"}
{"Action":"output","Package":"jt/a","Test":"TestOK","Output":"--- PASS: TestOK (2.50s)\n"}
{"Action":"pass","Package":"jt/a","Test":"TestOK","Elapsed":2.5}
{"Action":"run","Package":"jt/a","Test":"TestFail"}
{"Action":"output","Package":"jt/a","Test":"TestFail","Output":"=== RUN   TestFail\n"}
{"Action":"output","Package":"jt/a","Test":"TestFail","Output":"    a_test.go:4: before\n"}
{"Action":"run","Package":"jt/a","Test":"TestFail/sub"}
{"Action":"output","Package":"jt/a","Test":"TestFail/sub","Output":"=== RUN   TestFail/sub\n"}
{"Action":"output","Package":"jt/a","Test":"TestFail/sub","Output":"    a_test.go:4: boom\n"}
{"Action":"output","Package":"jt/a","Test":"TestFail/sub","Output":"--- FAIL: TestFail/sub (0.70s)\n"}
{"Action":"fail","Package":"jt/a","Test":"TestFail/sub","Elapsed":0.7}
{"Action":"output","Package":"jt/a","Test":"TestFail","Output":"--- FAIL: TestFail (0.80s)\n"}
{"Action":"fail","Package":"jt/a","Test":"TestFail","Elapsed":0.8}
{"Action":"run","Package":"jt/a","Test":"TestSkip"}
{"Action":"output","Package":"jt/a","Test":"TestSkip","Output":"--- SKIP: TestSkip (0.00s)\n"}
{"Action":"skip","Package":"jt/a","Test":"TestSkip","Elapsed":0}
{"Action":"output","Package":"jt/a","Output":"FAIL\n"}
{"Action":"output","Package":"jt/a","Output":"FAIL\tjt/a\t4.004s\n"}
{"Action":"fail","Package":"jt/a","Elapsed":4.004}
{"ImportPath":"jt/c [jt/c.test]","Action":"build-output","Output":"# jt/c [jt/c.test]\n"}
{"ImportPath":"jt/c [jt/c.test]","Action":"build-output","Output":"c/c.go:2:9: syntax error: unexpected {, expected )\n"}
{"ImportPath":"jt/c [jt/c.test]","Action":"build-fail"}
{"Action":"start","Package":"jt/b"}
{"Action":"start","Package":"jt/c"}
{"Action":"output","Package":"jt/c","Output":"FAIL\tjt/c [build failed]\n"}
{"Action":"fail","Package":"jt/c","Elapsed":0,"FailedBuild":"jt/c [jt/c.test]"}
{"Action":"run","Package":"jt/b","Test":"TestSlow"}
{"Action":"output","Package":"jt/b","Test":"TestSlow","Output":"--- PASS: TestSlow (9.00s)\n"}
{"Action":"pass","Package":"jt/b","Test":"TestSlow","Elapsed":9}
{"Action":"output","Package":"jt/b","Output":"PASS\n"}
{"Action":"output","Package":"jt/b","Output":"ok  \tjt/b\t9.006s\n"}
{"Action":"pass","Package":"jt/b","Elapsed":9.006}
{"Action":"output","Package":"jt/d","Output":"?   \tjt/d\t[no test files]\n"}
{"Action":"skip","Package":"jt/d","Elapsed":0}
`

func run(t *testing.T, input string, n int) (string, bool) {
	t.Helper()
	var out bytes.Buffer
	ok, err := report(strings.NewReader(input), &out, n)
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	return out.String(), ok
}

func TestFailuresAreShownAsGoTestShowsThem(t *testing.T) {
	t.Parallel()
	out, ok := run(t, mixedRun, 10)
	if ok {
		t.Errorf("a run with a failing test and a failed build was reported as passing:\n%s", out)
	}
	want := "--- FAIL: TestFail (0.80s)\n" +
		"    a_test.go:4: before\n" +
		"    --- FAIL: TestFail/sub (0.70s)\n" +
		"        a_test.go:4: boom\n" +
		"FAIL\n" +
		"FAIL\tjt/a\t4.004s\n" +
		"# jt/c [jt/c.test]\n" +
		"c/c.go:2:9: syntax error: unexpected {, expected )\n" +
		"FAIL\tjt/c [build failed]\n" +
		"ok  \tjt/b\t9.006s\n" +
		"?   \tjt/d\t[no test files]\n"
	if !strings.HasPrefix(out, want) {
		t.Errorf("output starts:\n%s\nwant:\n%s", out, want)
	}
	for _, hidden := range []string{"passing log line", "=== RUN", "--- PASS", "--- SKIP"} {
		if strings.Contains(out, hidden) {
			t.Errorf("output shows %q, which go test without -v does not:\n%s", hidden, out)
		}
	}
	if !strings.HasSuffix(out, "FAIL: 2 of 4 packages failed (2 failed tests): jt/a jt/c\ntests: 2 passed, 2 failed, 1 skipped\n") {
		t.Errorf("output does not end with the verdict:\n%s", out)
	}
}

func TestSlowestTestsComeLast(t *testing.T) {
	t.Parallel()
	out, _ := run(t, mixedRun, 3)
	want := "\nSlowest 3 tests:\n" +
		"      9.0s  TestSlow  jt/b\n" +
		"      2.5s  TestOK  jt/a\n" +
		"      0.8s  TestFail  jt/a\n"
	if !strings.Contains(out, want) {
		t.Errorf("output:\n%s\nwant the slowest tests listed as:\n%s", out, want)
	}
	if strings.Contains(out, "TestFail/sub  ") || strings.Contains(out, "TestSkip  ") {
		t.Errorf("more than 3 tests listed, or a skipped one:\n%s", out)
	}
	if strings.Index(out, "Slowest") < strings.Index(out, "ok  \tjt/b") {
		t.Errorf("the slowest tests are not listed after the package results:\n%s", out)
	}
}

func TestPassingRun(t *testing.T) {
	t.Parallel()
	in := `{"Action":"run","Package":"jt/b","Test":"TestSlow"}
{"Action":"pass","Package":"jt/b","Test":"TestSlow","Elapsed":1}
{"Action":"output","Package":"jt/b","Output":"PASS\n"}
{"Action":"output","Package":"jt/b","Output":"ok  \tjt/b\t1.006s\n"}
{"Action":"pass","Package":"jt/b","Elapsed":1.006}
`
	out, ok := run(t, in, 10)
	if !ok {
		t.Errorf("a passing run was reported as failing:\n%s", out)
	}
	if want := "ok  \tjt/b\t1.006s\n\nSlowest 1 tests:\n      1.0s  TestSlow  jt/b\n\nok: all 1 packages passed\ntests: 1 passed, 0 failed, 0 skipped\n"; out != want {
		t.Errorf("output:\n%q\nwant:\n%q", out, want)
	}
}

// A test binary that panics or is stopped leaves tests without a verdict:
// their output is what tells why, so it is shown, and the run fails.
func TestUnfinishedTestsAreShown(t *testing.T) {
	t.Parallel()
	in := `{"Action":"run","Package":"jt/e","Test":"TestHangs"}
{"Action":"output","Package":"jt/e","Test":"TestHangs","Output":"    e_test.go:9: waiting for the store\n"}
{"Action":"output","Package":"jt/e","Test":"TestHangs","Output":"panic: test timed out after 1m0s\n"}
{"Action":"output","Package":"jt/e","Output":"FAIL\tjt/e\t60.010s\n"}
{"Action":"fail","Package":"jt/e","Elapsed":60.01}
{"Action":"run","Package":"jt/f","Test":"TestCut"}
{"Action":"output","Package":"jt/f","Test":"TestCut","Output":"    f_test.go:3: half way\n"}
`
	out, ok := run(t, in, 10)
	if ok {
		t.Errorf("a run with a timed-out package was reported as passing:\n%s", out)
	}
	for _, want := range []string{
		"--- FAIL: TestHangs (no result: it was still running)\n    e_test.go:9: waiting for the store\npanic: test timed out after 1m0s\nFAIL\tjt/e\t60.010s\n",
		"--- FAIL: TestCut (no result: it was still running)\n    f_test.go:3: half way\nFAIL\tjt/f [no result: the run ended first]\n",
		"FAIL: 2 of 2 packages failed (0 failed tests): jt/e jt/f\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestLinesThatAreNotEventsPassThrough(t *testing.T) {
	t.Parallel()
	out, ok := run(t, "go: downloading example.com/m v1.0.0\n", 10)
	if ok {
		t.Error("a run that tested no package was reported as passing")
	}
	if !strings.HasPrefix(out, "go: downloading example.com/m v1.0.0\n") || !strings.Contains(out, "FAIL: no package was tested") {
		t.Errorf("output:\n%s", out)
	}
}
