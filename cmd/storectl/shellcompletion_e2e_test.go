//go:build e2e

package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/storectl/storectl/pkg/testcluster"
)

// shellSetup installs the committed completion script of one shell where that shell finds it
// by itself (the places the Linux packages use, under a private home), and writes the start-up
// file that binds Ctrl-X d to a widget appending the edited line to $STORECTL_DUMP.
type shellSetup struct {
	name  string
	args  []string
	setup func(t *testing.T, home, completions string)
}

var shells = []shellSetup{
	{
		name: "bash",
		args: []string{"--noprofile", "--rcfile", "{home}/.bashrc", "-i"},
		setup: func(t *testing.T, home, completions string) {
			// bash-completion loads completions/<command> from this directory on first use,
			// as it does from /usr/share/bash-completion/completions.
			copyFile(t, filepath.Join(completions, "storectl.bash"), filepath.Join(home, "bash-completion", "completions", "storectl"))
			writeText(t, filepath.Join(home, ".bashrc"), `PS1='$ '
BASH_COMPLETION_USER_DIR="$HOME/bash-completion"
source /usr/share/bash-completion/bash_completion
bind 'set bell-style none'
__storectl_dump() { printf '%s\n' "$READLINE_LINE" >>"$STORECTL_DUMP"; READLINE_LINE=; READLINE_POINT=0; }
bind -x '"\C-xd": __storectl_dump'
`)
		},
	},
	{
		name: "zsh",
		args: []string{"-i"},
		setup: func(t *testing.T, home, completions string) {
			// The .deb installs _storectl into /usr/share/zsh/vendor-completions, on zsh's fpath.
			copyFile(t, filepath.Join(completions, "storectl.zsh"), filepath.Join(home, "zsh-completions", "_storectl"))
			writeText(t, filepath.Join(home, ".zshrc"), `PS1='$ '
unsetopt beep
bindkey -e
fpath=("$HOME/zsh-completions" $fpath)
autoload -Uz compinit && compinit -u -d "$HOME/.zcompdump"
__storectl_dump() { print -r -- "$BUFFER" >>"$STORECTL_DUMP"; BUFFER=; }
zle -N __storectl_dump
bindkey '^Xd' __storectl_dump
`)
		},
	},
	{
		name: "fish",
		args: []string{"--no-config", "--init-command", "source $HOME/init.fish", "-i"},
		setup: func(t *testing.T, home, completions string) {
			// fish finds completions/<command>.fish on $fish_complete_path, as it does in
			// /usr/share/fish/vendor_completions.d.
			copyFile(t, filepath.Join(completions, "storectl.fish"), filepath.Join(home, "fish-completions", "storectl.fish"))
			writeText(t, filepath.Join(home, "init.fish"), `set -g fish_complete_path $HOME/fish-completions $fish_complete_path
function fish_greeting; end
function fish_prompt; echo '$ '; end
function __storectl_dump; commandline >>$STORECTL_DUMP; commandline ''; end
bind \cxd __storectl_dump
`)
		},
	},
}

// Completions loaded by real bash, zsh and fish, typed at their prompts on a pseudo-terminal:
// a command, a flag value, and a store that exists on the sandbox.
func TestShellCompletion(t *testing.T) {
	t.Parallel()
	c := testcluster.Require(t)
	root, err := testcluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	name := "cmpl-" + hex.EncodeToString(suffix)
	r := newRunner(t, c.Kubeconfig)
	t.Cleanup(func() { r.run("delete", name, "--yes", "--ignore-not-found", "--wait=false") })
	r.must("create", name, "--wait=false")

	bin := t.TempDir()
	exe, err := exec.LookPath(storectlBinary())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(exe, filepath.Join(bin, "storectl")); err != nil {
		t.Fatal(err)
	}
	env := append(r.environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "TERM=xterm")

	for _, sh := range shells {
		t.Run(sh.name, func(t *testing.T) {
			t.Parallel()
			if _, err := exec.LookPath(sh.name); err != nil {
				t.Fatalf("%s is not installed (.ci/run installs it): %v", sh.name, err)
			}
			s := startShell(t, sh, filepath.Join(root, "completions"), env)
			for _, tc := range []struct{ typed, want string }{
				{"storectl cred", "storectl credentials"},
				{"storectl list -o js", "storectl list -o json"},
				{"storectl get " + name[:len(name)-1], "storectl get " + name},
				{"storectl delete --ignore-not-f", "storectl delete --ignore-not-found"},
			} {
				if got := s.complete(tc.typed); strings.TrimRight(got, " ") != tc.want {
					t.Errorf("%s: %q<TAB> became %q, want %q\nterminal:\n%s", sh.name, tc.typed, got, tc.want, s.screen())
				}
			}
		})
	}
}

// shellSession is an interactive shell on a pseudo-terminal.
type shellSession struct {
	t    *testing.T
	tty  *os.File
	dump string
	out  syncBuffer
	seen int // lines of the dump file already read
}

func startShell(t *testing.T, sh shellSetup, completions string, env []string) *shellSession {
	t.Helper()
	home := t.TempDir()
	sh.setup(t, home, completions)
	s := &shellSession{t: t, dump: filepath.Join(home, "dump")}
	args := make([]string, len(sh.args))
	for i, a := range sh.args {
		args[i] = strings.ReplaceAll(a, "{home}", home)
	}
	cmd := exec.Command(sh.name, args...)
	cmd.Dir = home
	cmd.Env = append(slices.Clone(env), "HOME="+home, "ZDOTDIR="+home, "XDG_CONFIG_HOME="+home, "XDG_DATA_HOME="+home,
		"STORECTL_DUMP="+s.dump, "HISTFILE="+filepath.Join(home, "history"))
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
	if err != nil {
		t.Fatalf("start %s: %v", sh.name, err)
	}
	s.tty = tty
	copied := make(chan struct{})
	go func() { _, _ = io.Copy(&s.out, tty); close(copied) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = tty.Close()
		<-copied
	})
	// The shell is ready when its key binding answers; keys sent before its line editor
	// started may be lost, so ask again until one arrives.
	deadline := time.Now().Add(60 * time.Second)
	for {
		s.send("\x18d")
		if _, ok := s.nextLine(2*time.Second, false); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start its line editor within a minute; terminal:\n%s", sh.name, s.screen())
		}
	}
	return s
}

func (s *shellSession) send(keys string) {
	s.t.Helper()
	if _, err := s.tty.Write([]byte(keys)); err != nil {
		s.t.Fatalf("write to the terminal: %v", err)
	}
}

// complete types line and TAB, then reads the edited line back through the dump binding. The
// shell handles keys in order, so the binding runs after the completion has finished.
func (s *shellSession) complete(line string) string {
	s.t.Helper()
	s.send(line + "\t\x18d")
	got, ok := s.nextLine(30*time.Second, true)
	if !ok {
		s.t.Fatalf("no line came back for %q within 30s; terminal:\n%s", line, s.screen())
	}
	return got
}

// nextLine waits for a line of the dump file not read yet; with nonEmpty, empty lines (answers
// to earlier readiness probes) are skipped.
func (s *shellSession) nextLine(timeout time.Duration, nonEmpty bool) (string, bool) {
	deadline := time.Now().Add(timeout)
	for {
		data, _ := os.ReadFile(s.dump)
		lines := strings.SplitAfter(string(data), "\n")
		for s.seen < len(lines) && strings.HasSuffix(lines[s.seen], "\n") {
			l := strings.TrimSuffix(lines[s.seen], "\n")
			s.seen++
			if !nonEmpty || l != "" {
				return l, true
			}
		}
		if time.Now().After(deadline) {
			return "", false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// screen is what the shell printed, control sequences and all, for failure messages.
func (s *shellSession) screen() string {
	out := s.out.String()
	if len(out) > 4000 {
		out = "..." + out[len(out)-4000:]
	}
	return fmt.Sprintf("%q", out)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeText(t, to, string(data))
}

func writeText(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
