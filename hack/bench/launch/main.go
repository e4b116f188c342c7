// Command launch runs one command for the bench and reports, on file descriptor 3, how long
// it ran, its peak resident set size and when it exited.
//
// The bench cannot read a tool's peak memory from its own wait: Linux keeps a process's
// peak RSS across exec, and a child forked from the bench starts with the bench's
// (informers over hundreds of stores), so every tool would seem to use at least as much as
// the bench does. This launcher is small, so the peak it passes on is below any tool's.
//
//	launch PROGRAM ARGS...   (fd 3: "<wall ns> <max rss KiB> <exit unix ns>\n")
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: launch PROGRAM ARGS...")
		os.Exit(2)
	}
	report := os.NewFile(3, "report")
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// The tool dies with the launcher, so that the bench's cancel reaches it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	err := cmd.Run()
	wall, exited := time.Since(start), time.Now()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		fmt.Fprintf(os.Stderr, "launch: %v\n", err)
		os.Exit(127)
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss
	}
	if report != nil {
		fmt.Fprintf(report, "%d %d %d\n", wall.Nanoseconds(), rss, exited.UnixNano())
		_ = report.Close()
	}
	os.Exit(cmd.ProcessState.ExitCode())
}
