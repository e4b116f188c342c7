// Package web holds the dashboard's static files, embedded in the binary.
package web

import (
	"embed"
	"io/fs"
)

//go:embed index.html
var files embed.FS

// Files is the dashboard: the site's root, index.html at the top.
var Files fs.FS = files
