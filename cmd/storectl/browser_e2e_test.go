//go:build e2e

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// page is a tab of a headless Chromium that a test drives, with what the page wrote to its
// console and where its screenshots go.
type page struct {
	t          *testing.T
	ctx        context.Context
	artifacts  string
	firstPhase string // the phase the new store's card first showed
	// expected are the browser's network log lines (a refused request, an error status)
	// the test causes on purpose, by a part of their text.
	expected []string

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// chromiumPath is Debian's Chromium, which .ci/run installs.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium is not installed (apt-get install chromium, as .ci/run does)")
	return ""
}

// artifactDir is where the test keeps its screenshots: $STORECTL_TEST_ARTIFACTS/<test> when
// that is set, else the test's artifact directory (kept under -outputdir with go test
// -artifacts, removed after the test without it).
func artifactDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("STORECTL_TEST_ARTIFACTS")
	if root == "" {
		return t.ArtifactDir()
	}
	dir := filepath.Join(root, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// openBrowser starts a headless Chromium with a fresh profile and opens url in it. The
// browser is closed when the test ends.
func openBrowser(t *testing.T, url string) *page {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Shared memory in the temporary directory: /dev/shm is small in many containers.
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	p := &page{t: t, ctx: ctx, artifacts: artifactDir(t)}
	t.Logf("screenshots: %s", p.artifacts)
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.console = append(p.console, m)
			p.mu.Unlock()
		}
	}()
	p.do(30*time.Second, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(url))
	// Keep every text the live region takes: other tests' stores change on the shared
	// sandbox too, so the one a check wants may have been replaced by the time it looks.
	p.eval(`(() => {
	  const el = document.querySelector("#announce");
	  window.announcedTexts = [];
	  new MutationObserver(() => window.announcedTexts.push(el.textContent)).observe(el, { childList: true, characterData: true, subtree: true });
	  return "";
	})()`)
	return p
}

// do runs the steps, failing the test when they do not finish within timeout.
func (p *page) do(timeout time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.shot("failed")
		p.t.Fatalf("in the browser: %v\nconsole:\n%s", err, p.consoleText())
	}
}

// eval returns the string an expression evaluates to in the page.
func (p *page) eval(expr string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// until waits for a JavaScript condition to hold in the page.
func (p *page) until(timeout time.Duration, what, cond string) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for p.eval(`String(Boolean(`+cond+`))`) != "true" {
		if time.Now().After(deadline) {
			p.shot("failed")
			p.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// announced fails the test unless the live region has said text.
func (p *page) announced(text string) {
	p.t.Helper()
	if p.eval(`String(window.announcedTexts.includes(`+jsString(text)+`))`) != "true" {
		p.t.Errorf("the live region never said %q; it said %s", text, p.eval(`JSON.stringify(window.announcedTexts)`))
	}
}

// text is the visible text of the first element matching the CSS selector.
func (p *page) text(sel string) string {
	p.t.Helper()
	return strings.TrimSpace(p.eval(`document.querySelector(` + jsString(sel) + `)?.textContent ?? ""`))
}

// pressOn focuses an element and presses keys, as a keyboard user would.
func (p *page) pressOn(sel, keys string) {
	p.t.Helper()
	p.do(10*time.Second, chromedp.Focus(chromedp.CSS(sel)), chromedp.KeyEvent(keys))
}

// shot saves a screenshot of the whole page as NAME.png in the artifact directory.
func (p *page) shot(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(p.artifacts, name+".png"), b, 0o644); err != nil {
		p.t.Errorf("save screenshot %s: %v", name, err)
	}
}

// noConsoleErrors fails the test for any uncaught exception, console error or warning, or
// browser log entry of level warning or error (a refused load under the Content-Security-Policy
// is one).
func (p *page) noConsoleErrors() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.console {
		if m.Source == "network" && p.isExpected(m.Text) {
			continue
		}
		switch m.Type {
		case chromedp.ConsoleException, chromedp.ConsoleError, chromedp.ConsoleWarning, "assert":
			p.t.Errorf("the page's console: %s %s:%d %s", m.Type, m.URL, m.Line+1, m.Text)
		}
	}
}

func (p *page) isExpected(text string) bool {
	for _, e := range p.expected {
		if strings.Contains(text, e) {
			return true
		}
	}
	return false
}

// expect lets noConsoleErrors pass over network log lines that contain text.
func (p *page) expect(text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.expected = append(p.expected, text)
}

// refused counts the requests the server answered 401, as the browser logged them.
func (p *page) refused() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, m := range p.console {
		if m.Source == "network" && strings.Contains(m.Text, "status of 401") {
			n++
		}
	}
	return n
}

func (p *page) consoleText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, m := range p.console {
		b.WriteString(string(m.Type) + " " + m.Text + "\n")
	}
	return b.String()
}

// colorScheme makes the page see prefers-color-scheme: scheme.
func (p *page) colorScheme(scheme string) {
	p.t.Helper()
	p.do(5*time.Second, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	}))
	dark := p.eval(`String(matchMedia("(prefers-color-scheme: dark)").matches)`) == "true"
	bg := p.eval(`getComputedStyle(document.body).backgroundColor`)
	if dark != (scheme == "dark") || (bg == "rgb(245, 246, 248)") == dark {
		p.t.Errorf("with prefers-color-scheme: %s the page's background is %s", scheme, bg)
	}
}

// checkContrast fails the test for visible text below WCAG's AA contrast against its
// background: 4.5:1, or 3:1 for large text.
func (p *page) checkContrast(where string) {
	p.t.Helper()
	if bad := p.eval(contrastJS); bad != "" {
		p.t.Errorf("text with too little contrast in %s:\n%s", where, bad)
	}
}

// contrastJS lists the visible elements whose own text lacks contrast, one a line. The
// background is the nearest opaque one among the element and its ancestors.
const contrastJS = `(() => {
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const v = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return { r: v[0], g: v[1], b: v[2], a: v.length > 3 ? v[3] : 1 };
  };
  const lum = ({ r, g, b }) => {
    const f = (x) => { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0.5) return c;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    if (!el.checkVisibility({ visibilityProperty: true }) || el.closest(":disabled, .visually-hidden")) continue;
    if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    const s = getComputedStyle(el);
    const [hi, lo] = [lum(parse(s.color)), lum(background(el))].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(s.fontSize);
    const min = size >= 24 || (parseInt(s.fontWeight, 10) >= 700 && size >= 18.66) ? 3 : 4.5;
    if (ratio < min) out.push(el.tagName.toLowerCase() + " " + JSON.stringify(el.textContent.trim().slice(0, 40)) + " " + ratio.toFixed(2) + ":1");
  }
  return out.join("\n");
})()`

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}
