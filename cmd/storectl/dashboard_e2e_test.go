//go:build e2e

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/storectl/storectl/pkg/testcluster"
)

// The dashboard of storectl serve in a real browser: Debian's Chromium, headless, driven over
// the DevTools protocol, against the real binary serving the sandbox. Each state of a store's
// life is saved as a screenshot in the test's artifact directory (see docs/serve.md).

// TestDashboardInABrowser creates a store from the dialog (after an invalid name is refused
// inline), watches its card turn Ready, deletes it through the confirmation and sees the card
// go, then opens the activity and metrics tabs. Keyboard only where a user could do it so.
func TestDashboardInABrowser(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	name := uniqueStore("web")
	r := newRunner(t, c.Kubeconfig)
	t.Cleanup(func() { r.run("delete", name, "--yes", "--ignore-not-found", "--timeout", "2m") })
	base := startServer(t, r, nil, "--listen", "127.0.0.1:0").base
	p := openBrowser(t, base)

	p.do(10*time.Second, chromedp.WaitVisible(chromedp.CSS(`#connection[data-state="open"]`)))
	if p.eval(`String(document.querySelector("#token-dialog").open)`) != "false" {
		t.Error("a server without tokens made the dashboard ask for one")
	}
	p.shot("01-dashboard")

	refuseInvalidNames(p)
	createFromDialog(p, name)
	seeReady(p, base, name)
	refuseDuplicate(p, name)
	onAPhone(p)
	deleteWithConfirmation(p, base, name)
	otherTabs(p, name)
	p.noConsoleErrors()
}

// refuseInvalidNames types names the rule refuses and checks the dialog says which character
// is wrong, refuses to submit, and gives focus back to the button that opened it.
func refuseInvalidNames(p *page) {
	p.t.Helper()
	p.pressOn("#new-store", kb.Enter)
	p.do(5*time.Second, chromedp.WaitVisible(chromedp.CSS("#create-dialog")))
	if got := p.eval(`document.activeElement.id`); got != "create-name" {
		p.t.Fatalf("the create dialog opened with focus on %q, want the name field", got)
	}
	for _, c := range []struct{ typed, want string }{
		{"Shop", "“S” at position 1 is upper case"},
		{"shop_1", "“_” at position 5 is not allowed"},
		{"1shop", "must start with a letter"},
		{"shop-", "cannot end with “-”"},
		{strings.Repeat("a", 41), "at most 40"},
		{"admin", "“admin” is reserved"},
		{"kube-shop", "starting with “kube” are reserved"},
	} {
		p.do(5*time.Second, chromedp.SendKeys(chromedp.CSS("#create-name"), strings.Repeat(kb.Backspace, 50)+c.typed))
		if got := p.text("#create-name-error"); !strings.Contains(got, c.want) {
			p.t.Errorf("typing %q shows %q, want it to say %q", c.typed, got, c.want)
		}
		if p.eval(`document.querySelector("#create-name").getAttribute("aria-invalid")`) != "true" {
			p.t.Errorf("typing %q leaves the field marked valid", c.typed)
		}
	}
	p.do(5*time.Second, chromedp.SendKeys(chromedp.CSS("#create-name"), strings.Repeat(kb.Backspace, 50)+"Shop_1"))
	p.shot("02-invalid-name")
	p.do(5*time.Second, chromedp.KeyEvent(kb.Enter))
	if p.eval(`String(document.querySelector("#create-dialog").open)`) != "true" {
		p.t.Fatal("the dialog submitted an invalid name")
	}
	p.do(5*time.Second, chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.CSS("#create-dialog")))
	if got := p.eval(`document.activeElement.id`); got != "new-store" {
		p.t.Errorf("closing the dialog left focus on %q, want the New store button", got)
	}
}

// createFromDialog creates the store with the keyboard: Enter on New store, the name, Enter.
func createFromDialog(p *page, name string) {
	p.t.Helper()
	p.pressOn("#new-store", kb.Enter)
	p.do(5*time.Second, chromedp.WaitVisible(chromedp.CSS("#create-dialog")))
	p.do(5*time.Second, chromedp.SendKeys(chromedp.CSS("#create-name"), strings.Repeat(kb.Backspace, 50)+name))
	if got := p.text("#create-name-error"); got != "" {
		p.t.Fatalf("a valid name %q shows %q", name, got)
	}
	p.do(10*time.Second, chromedp.KeyEvent(kb.Enter), chromedp.WaitNotVisible(chromedp.CSS("#create-dialog")))
	card := fmt.Sprintf(`[data-store=%q]`, name)
	p.do(10*time.Second, chromedp.WaitVisible(chromedp.CSS(card)))
	p.firstPhase = p.eval(fmt.Sprintf(`document.querySelector(%q).dataset.phase`, card))
	if p.firstPhase != "Provisioning" && p.firstPhase != "Ready" {
		p.t.Errorf("the new card reads %q, want Provisioning (or already Ready)", p.firstPhase)
	}
	p.shot("03-provisioning")
}

// seeReady waits for the card to turn Ready over the event stream, and checks its links and
// the announcement against the API.
func seeReady(p *page, base, name string) {
	p.t.Helper()
	p.do(3*time.Minute, chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`[data-store=%q][data-phase="Ready"]`, name))))
	p.shot("04-ready")
	p.checkContrast("the ready card")
	p.colorScheme("dark")
	p.shot("04-ready-dark")
	p.checkContrast("the ready card, dark")
	p.colorScheme("light")
	var s storeJSON
	if code := getJSON(p.t, base+"/api/stores/"+name, &s); code != http.StatusOK || s.Status != "Ready" {
		p.t.Fatalf("GET /api/stores/%s: %d %+v", name, code, s)
	}
	links := p.eval(fmt.Sprintf(`[...document.querySelectorAll('[data-store=%q] a')].map(a => a.getAttribute("href")).join(" ")`, name))
	if links != s.URL+" "+s.AdminURL {
		p.t.Errorf("the card links to %q, want the store's URL and admin URL %q %q", links, s.URL, s.AdminURL)
	}
	if p.firstPhase == "Provisioning" {
		p.announced("Store " + name + " is Ready.")
	}
}

// refuseDuplicate creates the Ready store again from the dialog: the server's 409 problem
// shows in the dialog as its title, detail and hint, and the dialog stays open to fix it.
func refuseDuplicate(p *page, name string) {
	p.t.Helper()
	p.expect("status of 409")
	p.pressOn("#new-store", kb.Enter)
	p.do(5*time.Second, chromedp.WaitVisible(chromedp.CSS("#create-dialog")))
	p.do(10*time.Second, chromedp.SendKeys(chromedp.CSS("#create-name"), strings.Repeat(kb.Backspace, 50)+name+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("#create-problem")))
	got := p.text("#create-problem")
	for _, want := range []string{"already exists", "Next:", name} {
		if !strings.Contains(got, want) {
			p.t.Errorf("creating %s again shows %q, want the problem's detail and hint (%q)", name, got, want)
		}
	}
	if p.eval(`document.activeElement.id`) != "create-name" {
		p.t.Error("after the refusal focus left the name field")
	}
	p.shot("04-duplicate-refused")
	p.do(5*time.Second, chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.CSS("#create-dialog")))
}

// onAPhone narrows the window to 360 px: nothing may need sideways scrolling.
func onAPhone(p *page) {
	p.t.Helper()
	p.do(5*time.Second, chromedp.EmulateViewport(360, 780, chromedp.EmulateMobile))
	p.do(5*time.Second, chromedp.Sleep(300*time.Millisecond)) // let the layout settle
	if w := p.eval(`String(document.documentElement.scrollWidth)`); w != "360" {
		p.t.Errorf("at 360 px wide the page is %s px wide", w)
	}
	p.shot("05-phone")
	p.do(5*time.Second, chromedp.EmulateViewport(1280, 900))
}

// deleteWithConfirmation deletes the store through its card's button and the dialog that
// names it, and waits for the card to go.
func deleteWithConfirmation(p *page, base, name string) {
	p.t.Helper()
	card := fmt.Sprintf(`[data-store=%q]`, name)
	p.pressOn(card+" button", kb.Enter)
	p.do(5*time.Second, chromedp.WaitVisible(chromedp.CSS("#delete-dialog")))
	if got := p.text("#delete-title"); got != "Delete store "+name+"?" {
		p.t.Errorf("the confirmation reads %q, want it to name store %s", got, name)
	}
	if got := p.eval(`document.activeElement.id`); got != "delete-cancel" {
		p.t.Errorf("the confirmation opened with focus on %q, want Cancel", got)
	}
	p.shot("06-confirm-delete")
	p.do(10*time.Second, chromedp.Click(chromedp.CSS("#delete-confirm")), chromedp.WaitNotVisible(chromedp.CSS("#delete-dialog")))
	if phase := p.eval(fmt.Sprintf(`document.querySelector(%q)?.dataset.phase ?? "gone"`, card)); phase != "Deleting" && phase != "gone" {
		p.t.Errorf("after the confirmation the card reads %q, want Deleting", phase)
	}
	p.shot("07-deleting")
	p.do(3*time.Minute, chromedp.WaitNotPresent(chromedp.CSS(card)))
	p.shot("08-deleted")
	if code := getJSON(p.t, base+"/api/stores/"+name, nil); code != http.StatusNotFound {
		p.t.Errorf("GET /api/stores/%s after the card went: %d, want 404", name, code)
	}
	p.announced("Store " + name + " was deleted.")
}

// otherTabs opens the activity tab, which lists this store's create and delete, and the
// metrics tab, moving between tabs with the arrow keys.
func otherTabs(p *page, name string) {
	p.t.Helper()
	p.pressOn("#tab-stores", kb.ArrowRight)
	// Each record of this store as action:outcome; a refused duplicate adds a failed create.
	row := fmt.Sprintf(`[...document.querySelectorAll("#audit tbody tr")].filter(r => r.cells[2].textContent === %q).map(r => r.cells[1].textContent + ":" + r.cells[3].textContent).join(" ")`, name)
	has := func(got string) bool {
		return strings.Contains(got, "create:succeeded") && strings.Contains(got, "delete:succeeded")
	}
	deadline := time.Now().Add(30 * time.Second)
	for got := ""; !has(got); got = p.eval(row) {
		if time.Now().After(deadline) {
			p.t.Fatalf("the activity tab shows %q for %s, want its create and delete", got, name)
		}
		p.do(10*time.Second, chromedp.Click(chromedp.CSS(`#audit-filter button[type="submit"]`)), chromedp.Sleep(time.Second))
	}
	p.shot("09-activity")
	p.checkContrast("the activity tab")
	p.pressOn("#tab-activity", kb.ArrowRight)
	p.do(10*time.Second, chromedp.WaitVisible(chromedp.CSS("#metrics dl")))
	got := p.text("#metrics")
	for _, want := range []string{"Stores", "Total", "By phase", "Ready", "Provisioning", "p50", "p95", "Failures"} {
		if !strings.Contains(got, want) {
			p.t.Errorf("the metrics tab lacks %q:\n%s", want, got)
		}
	}
	p.shot("10-metrics")
	p.checkContrast("the metrics tab")
}

// stopServe stops the server by its pid with SIGTERM, as a service manager would.
func stopServe(r *storectlRunner, proc *process) {
	select {
	case <-proc.done:
	default:
		r.signal(proc, syscall.SIGTERM)
	}
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if v != nil && res.StatusCode == http.StatusOK {
		if err := json.NewDecoder(res.Body).Decode(v); err != nil {
			t.Fatalf("decode %s: %v", url, err)
		}
	}
	return res.StatusCode
}

// TestDashboardAsksForAToken opens the dashboard of a server that requires a bearer token:
// the token is asked for only after the server answered 401, asked again when it is wrong,
// explained when declined, and kept for the tab in sessionStorage once it works.
func TestDashboardAsksForAToken(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	r := newRunner(t, c.Kubeconfig)
	token := uniqueStore("token-for-the-dashboard")
	tokens := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tokens, []byte("browser:"+token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := startServer(t, r, nil, "--listen", "127.0.0.1:0", "--token-file", tokens).base
	p := openBrowser(t, base)
	p.expect("status of 401")

	p.do(10*time.Second, chromedp.WaitVisible(chromedp.CSS("#token-dialog")))
	if got := p.eval(`document.activeElement.id`); got != "token-input" {
		t.Errorf("the token prompt opened with focus on %q, want the token field", got)
	}
	p.shot("01-token-prompt")
	p.do(10*time.Second, chromedp.SendKeys(chromedp.CSS("#token-input"), "not-the-token-at-all"+kb.Enter))
	// The wrong token is refused with another 401, and the prompt comes back empty.
	eventually(t, 10*time.Second, "a second 401", func() bool { return p.refused() >= 2 })
	p.until(10*time.Second, "the prompt to ask again", `document.querySelector("#token-dialog").open && document.querySelector("#token-input").value === ""`)
	p.do(10*time.Second, chromedp.KeyEvent(kb.Escape), chromedp.WaitVisible(chromedp.CSS("#token-button")))
	if got := p.text("#error"); !strings.Contains(got, "bearer token is required") {
		t.Errorf("after the prompt was declined the page says %q, want the server's detail", got)
	}
	p.shot("02-token-declined")

	p.do(10*time.Second, chromedp.Click(chromedp.CSS("#token-button")), chromedp.WaitVisible(chromedp.CSS("#token-dialog")))
	p.do(20*time.Second, chromedp.SendKeys(chromedp.CSS("#token-input"), token+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`#connection[data-state="open"]`)))
	if p.eval(`sessionStorage.getItem("storectl.token")`) != token {
		t.Error("the working token is not kept in sessionStorage")
	}
	if p.eval(`String(localStorage.length)`) != "0" {
		t.Error("the dashboard wrote to localStorage")
	}
	p.do(10*time.Second, chromedp.WaitNotVisible(chromedp.CSS("#error")))
	p.shot("03-token-accepted")
	p.noConsoleErrors()
}

// TestDashboardReconnects stops the server under an open dashboard and starts it again on the
// same address: the page says it is reconnecting, comes back live by itself, and drops the
// card of a store that was deleted (by the CLI) while it was not connected.
func TestDashboardReconnects(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	name := uniqueStore("web-gone")
	r := newRunner(t, c.Kubeconfig)
	t.Cleanup(func() { r.run("delete", name, "--yes", "--ignore-not-found", "--timeout", "2m") })
	first := startServer(t, r, nil, "--listen", "127.0.0.1:0")
	p := openBrowser(t, first.base)
	p.do(10*time.Second, chromedp.WaitVisible(chromedp.CSS(`#connection[data-state="open"]`)))

	// A store the CLI creates shows up on the page: the stream follows the cluster.
	r.must("create", name, "--wait=false")
	card := fmt.Sprintf(`[data-store=%q]`, name)
	p.do(time.Minute, chromedp.WaitVisible(chromedp.CSS(card)))

	stopServe(r, first.p)
	p.do(20*time.Second, chromedp.WaitVisible(chromedp.CSS(`#connection[data-state="retry"]`)))
	if got := p.text("#connection"); got != "Reconnecting…" {
		t.Errorf("with the server gone the header says %q", got)
	}
	p.shot("01-reconnecting")
	r.must("delete", name, "--yes", "--timeout", "3m")

	startServer(t, r, nil, "--listen", strings.TrimPrefix(first.base, "http://"))
	p.do(30*time.Second, chromedp.WaitVisible(chromedp.CSS(`#connection[data-state="open"]`)))
	p.do(10*time.Second, chromedp.WaitNotPresent(chromedp.CSS(card)))
	p.shot("02-reconnected")
	p.expect("ERR_CONNECTION_REFUSED") // the connections the stopped server refused
	p.noConsoleErrors()
}
