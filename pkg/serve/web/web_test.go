package web

import (
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// The server sends Content-Security-Policy: default-src 'self'. These tests hold the files to
// it without a browser: everything they load is one of the embedded files, and no script or
// style is inline, so the browser has nothing to refuse.

func readAll(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := fs.WalkDir(Files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Files, p)
		files[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestSiteHasItsFiles(t *testing.T) {
	t.Parallel()
	files := readAll(t)
	for _, want := range []string{"index.html", "style.css", "js/app.js"} {
		if strings.TrimSpace(files[want]) == "" {
			t.Errorf("%s is missing or empty; have %v", want, keys(files))
		}
	}
	for _, ref := range references(t, files) {
		if _, ok := files[ref.target]; !ok {
			t.Errorf("%s refers to %q, which is not embedded", ref.from, ref.raw)
		}
	}
}

// external matches an absolute or protocol-relative URL.
var external = regexp.MustCompile(`(?i)\b(https?|wss?|ftp):|^//|^data:|^blob:`)

func TestSiteLoadsNothingFromElsewhere(t *testing.T) {
	t.Parallel()
	files := readAll(t)
	refs := references(t, files)
	if len(refs) < 4 {
		t.Fatalf("found only %d references in the site; the scan is broken", len(refs))
	}
	for _, ref := range refs {
		if external.MatchString(ref.raw) {
			t.Errorf("%s loads %q from outside the binary", ref.from, ref.raw)
		}
	}
	// Beyond what is loaded: no address of another host anywhere, except XML namespaces.
	anyURL := regexp.MustCompile(`(?i)(xmlns(:\w+)?=")?\b(https?|wss?)://[^\s"'()]+`)
	for name, body := range files {
		for _, m := range anyURL.FindAllStringSubmatch(body, -1) {
			if m[1] == "" {
				t.Errorf("%s names another host: %s", name, m[0])
			}
		}
	}
}

func TestSiteHasNoInlineScriptOrStyle(t *testing.T) {
	t.Parallel()
	files := readAll(t)
	scripts := 0
	for name, body := range files {
		if path.Ext(name) != ".html" {
			continue
		}
		doc, err := html.Parse(strings.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		walk(doc, func(n *html.Node) {
			if n.Type != html.ElementNode {
				return
			}
			if n.Data == "script" {
				scripts++
				if attr(n, "src") == "" || n.FirstChild != nil {
					t.Errorf("%s has an inline <script>", name)
				}
			}
			if n.Data == "style" {
				t.Errorf("%s has an inline <style>", name)
			}
			for _, a := range n.Attr {
				switch {
				case strings.HasPrefix(strings.ToLower(a.Key), "on"):
					t.Errorf("%s: <%s %s> is an inline event handler", name, n.Data, a.Key)
				case a.Key == "style":
					t.Errorf("%s: <%s style> is an inline style", name, n.Data)
				case strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:"):
					t.Errorf("%s: <%s %s> is a javascript: URL", name, n.Data, a.Key)
				}
			}
		})
	}
	if scripts == 0 {
		t.Error("index.html loads no script")
	}
	// The scripts build the page from text only: nothing they write is parsed as HTML or code,
	// so a store name or an error message cannot become markup or script.
	unsafe := regexp.MustCompile(`\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(|setAttribute\(\s*["']style`)
	for name, body := range files {
		if path.Ext(name) == ".js" {
			if m := unsafe.FindString(body); m != "" {
				t.Errorf("%s uses %q", name, m)
			}
		}
	}
}

type reference struct{ from, raw, target string }

var (
	cssURL   = regexp.MustCompile(`url\(\s*["']?([^"')]+)["']?\s*\)|@import\s+["']([^"']+)["']`)
	jsImport = regexp.MustCompile(`(?m)(?:^\s*import\s[^;]*?from\s*|^\s*import\s*|\bimport\(\s*)["']([^"']+)["']`)
)

// references lists what each file makes the browser load: src and href in HTML, url() and
// @import in CSS, import in JavaScript; target is the embedded path it resolves to.
func references(t *testing.T, files map[string]string) []reference {
	t.Helper()
	var out []reference
	add := func(from, raw string) {
		target := path.Clean(path.Join(path.Dir(from), strings.SplitN(raw, "#", 2)[0]))
		if strings.HasPrefix(raw, "/") {
			target = strings.TrimPrefix(path.Clean(raw), "/")
		}
		out = append(out, reference{from: from, raw: raw, target: target})
	}
	for name, body := range files {
		switch path.Ext(name) {
		case ".html":
			doc, err := html.Parse(strings.NewReader(body))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			walk(doc, func(n *html.Node) {
				for _, key := range []string{"src", "href"} {
					if v := attr(n, key); v != "" && !strings.HasPrefix(v, "#") {
						add(name, v)
					}
				}
			})
		case ".css":
			for _, m := range cssURL.FindAllStringSubmatch(body, -1) {
				add(name, m[1]+m[2])
			}
		case ".js":
			for _, m := range jsImport.FindAllStringSubmatch(body, -1) {
				add(name, m[1])
			}
		}
	}
	return out
}

func walk(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
