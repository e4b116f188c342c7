// Command gendocs regenerates the command reference in docs/cli.md from storectl's commands.
//
//	go run ./hack/gendocs docs/cli.md
package main

import (
	"fmt"
	"os"

	"github.com/storectl/storectl/pkg/cli"
	"github.com/storectl/storectl/pkg/output"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./hack/gendocs docs/cli.md")
		os.Exit(2)
	}
	path := os.Args[1]
	doc, err := os.ReadFile(path)
	if err == nil {
		var updated string
		ios, _ := output.Test()
		if updated, err = cli.UpdateReference(string(doc), cli.NewCmdRoot(cli.NewFactory(ios, cli.BuildInfo{}))); err == nil {
			err = os.WriteFile(path, []byte(updated), 0o644)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gendocs: %s: %v\n", path, err)
		os.Exit(1)
	}
}
