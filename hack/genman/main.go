// Command genman writes storectl's man pages, one per command, generated from the command tree.
//
//	go run ./hack/genman DIR
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra/doc"

	"github.com/storectl/storectl/pkg/cli"
	"github.com/storectl/storectl/pkg/output"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./hack/genman DIR")
		os.Exit(2)
	}
	if err := generate(os.Args[1]); err != nil {
		fmt.Fprintf(os.Stderr, "genman: %v\n", err)
		os.Exit(1)
	}
}

func generate(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ios, _ := output.Test()
	root := cli.NewCmdRoot(cli.NewFactory(ios, cli.BuildInfo{}))
	// The date in the footer would change every page on every build; the source names the project.
	root.DisableAutoGenTag = true
	header := &doc.GenManHeader{Section: "1", Source: "storectl", Manual: "storectl manual"}
	return doc.GenManTree(root, header, dir)
}
