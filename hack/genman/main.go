// Command genman writes storectl's man pages, one per command, generated from the command tree.
//
//	go run ./hack/genman DIR
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"

	"github.com/storectl/storectl/pkg/cli"
	"github.com/storectl/storectl/pkg/config"
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
	escapeTree(root)
	// The date in the footer would change every page on every build; the source names the project.
	root.DisableAutoGenTag = true
	header := &doc.GenManHeader{Section: "1", Source: "storectl", Manual: "storectl manual"}
	if err := doc.GenManTree(root, header, dir); err != nil {
		return err
	}
	return addSections(filepath.Join(dir, "storectl.1"))
}

// markdown escapes what cobra's generator, which reads help texts as Markdown, would take
// for markup: without it "create <name>" becomes "create " (an HTML tag is dropped).
var markdown = strings.NewReplacer(`\`, `\\`, "<", `\<`, ">", `\>`, "*", `\*`, "_", `\_`)

// escapeTree escapes the texts of every command and flag; examples are code blocks and stay.
func escapeTree(c *cobra.Command) {
	c.Use, c.Short, c.Long = markdown.Replace(c.Use), markdown.Replace(c.Short), markdown.Replace(c.Long)
	for _, fs := range []*pflag.FlagSet{c.LocalNonPersistentFlags(), c.PersistentFlags()} {
		fs.VisitAll(func(f *pflag.Flag) { f.Usage = markdown.Replace(f.Usage) })
	}
	for _, sub := range c.Commands() {
		escapeTree(sub)
	}
}

// addSections adds what the command tree does not hold to the main page: the exit codes,
// the environment and the files.
func addSections(page string) error {
	var b strings.Builder
	b.WriteString(".SH EXIT STATUS\n")
	for _, e := range cli.ExitCodes {
		fmt.Fprintf(&b, ".TP\n\\fB%d\\fP\n%s\n", e.Code, roff(e.Meaning))
	}
	b.WriteString(".SH ENVIRONMENT\n")
	for _, k := range config.Keys() {
		fmt.Fprintf(&b, ".TP\n\\fB%s\\fP\nthe setting %s (see storectl config view).\n", config.EnvVar(k), k)
	}
	fmt.Fprintf(&b, ".TP\n\\fB%s\\fP\nthe config file, when --config is not given.\n", config.EnvConfig)
	b.WriteString(".TP\n\\fBNO_COLOR\\fP\nturns colour and spinners off.\n")
	b.WriteString(".SH FILES\n")
	b.WriteString(".TP\n\\fI$XDG_CONFIG_HOME/storectl/config.yaml\\fP (else \\fI~/.config/storectl/config.yaml\\fP)\nthe config file.\n")
	b.WriteString(".TP\n\\fI$XDG_STATE_HOME/storectl/audit.db\\fP (else \\fI~/.local/state/storectl/audit.db\\fP)\nthe audit log of this machine.\n")
	data, err := os.ReadFile(page)
	if err != nil {
		return err
	}
	// Before SEE ALSO, where man pages keep these sections.
	text := string(data)
	at := strings.Index(text, ".SH SEE ALSO")
	if at < 0 {
		at = len(text)
	}
	return os.WriteFile(page, []byte(text[:at]+b.String()+text[at:]), 0o644)
}

// roff makes text safe as a line of a man page: backslashes escaped, no leading control character.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}
