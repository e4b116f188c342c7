// Package web holds the dashboard storectl serve shows at /: static files embedded in the
// binary, with no build step and nothing loaded from elsewhere.
package web

import (
	"embed"
	"io/fs"
)

//go:embed site
var site embed.FS

// Files is the dashboard, index.html at its root.
var Files fs.FS = mustSub(site, "site")

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // dir is a literal embedded above; fs.Sub fails only on an invalid name
	}
	return sub
}
