// Command storectl provisions and manages WooCommerce stores on Kubernetes.
package main

import (
	"os"

	"github.com/storectl/storectl/pkg/cli"
)

// Set at build time: go build -ldflags "-X main.version=... -X main.commit=... -X main.date=...".
var version, commit, date string

func main() {
	os.Exit(cli.Main(cli.BuildInfo{Version: version, Commit: commit, Date: date}))
}
