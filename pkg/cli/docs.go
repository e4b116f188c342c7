package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Markers around the generated command reference in docs/cli.md.
const (
	ReferenceBegin = "<!-- BEGIN GENERATED COMMAND REFERENCE: go run ./hack/gendocs docs/cli.md -->"
	ReferenceEnd   = "<!-- END GENERATED COMMAND REFERENCE -->"
)

// UpdateReference returns doc with the text between ReferenceBegin and ReferenceEnd replaced
// by the current reference of root.
func UpdateReference(doc string, root *cobra.Command) (string, error) {
	begin, end := strings.Index(doc, ReferenceBegin), strings.Index(doc, ReferenceEnd)
	if begin < 0 || end < begin {
		return "", fmt.Errorf("the document lacks the markers %q and %q", ReferenceBegin, ReferenceEnd)
	}
	var b strings.Builder
	if err := WriteReference(&b, root); err != nil {
		return "", err
	}
	return doc[:begin+len(ReferenceBegin)] + "\n\n" + b.String() + "\n" + doc[end:], nil
}

// WriteReference writes the Markdown reference of every visible command of root: usage,
// description, flags and examples, then the global flags.
func WriteReference(w io.Writer, root *cobra.Command) error {
	var b strings.Builder
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || (!sub.IsAvailableCommand() && !sub.IsAdditionalHelpTopicCommand()) {
				continue
			}
			writeCommand(&b, sub)
			walk(sub)
		}
	}
	walk(root)
	b.WriteString("### Global flags\n\nEvery command accepts these.\n\n```\n")
	b.WriteString(root.PersistentFlags().FlagUsagesWrapped(100))
	b.WriteString("```\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeCommand(b *strings.Builder, c *cobra.Command) {
	fmt.Fprintf(b, "### %s\n\n%s.\n\n", c.CommandPath(), c.Short)
	if c.Runnable() {
		fmt.Fprintf(b, "```\n%s\n```\n\n", c.UseLine())
	}
	if c.Long != "" {
		if c.Runnable() {
			b.WriteString(strings.TrimSpace(c.Long) + "\n\n")
		} else {
			fmt.Fprintf(b, "```\n%s\n```\n\n", strings.TrimRight(c.Long, "\n"))
		}
	}
	if len(c.Aliases) > 0 {
		fmt.Fprintf(b, "Aliases: `%s`\n\n", strings.Join(c.Aliases, "`, `"))
	}
	if fl := c.NonInheritedFlags(); fl.HasAvailableFlags() {
		var flags strings.Builder
		flags.WriteString(fl.FlagUsagesWrapped(100))
		// The help flag is on every command; leave it out of the reference.
		lines := strings.Split(strings.TrimRight(flags.String(), "\n"), "\n")
		var kept []string
		for _, l := range lines {
			if !strings.Contains(l, "--help ") && !strings.HasSuffix(strings.TrimSpace(l), "help for "+c.Name()) {
				kept = append(kept, l)
			}
		}
		if len(kept) > 0 {
			fmt.Fprintf(b, "Flags:\n\n```\n%s\n```\n\n", strings.Join(kept, "\n"))
		}
	}
	if c.Example != "" {
		fmt.Fprintf(b, "Examples:\n\n```sh\n%s\n```\n\n", strings.TrimRight(dedent(c.Example), "\n"))
	}
}

// dedent removes the two-space indent cobra examples carry for --help.
func dedent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "  ")
	}
	return strings.Join(lines, "\n")
}
