package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/storectl/storectl/pkg/audit"
	"github.com/storectl/storectl/pkg/config"
	"github.com/storectl/storectl/pkg/kube"
	"github.com/storectl/storectl/pkg/output"
	"github.com/storectl/storectl/pkg/store"
)

func TestExitCode(t *testing.T) {
	t.Parallel()
	ns := schema.GroupResource{Resource: "namespaces"}
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"plain", errors.New("boom"), 1},
		{"store failed", &store.Error{Err: store.ErrFailed, Store: "x"}, 1},
		{"terminating", fmt.Errorf("x: %w", store.ErrTerminating), 1},
		{"busy", fmt.Errorf("x: %w", store.ErrBusy), 1},
		{"audit locked", fmt.Errorf("open: %w", audit.ErrLocked), 1},
		{"usage", &UsageError{Err: errors.New("bad flag")}, 2},
		{"invalid name", store.ValidateName("Bad"), 2},
		{"unknown type", fmt.Errorf("%w: magento", store.ErrUnknownType), 2},
		{"invalid values", fmt.Errorf("%w: schema", store.ErrInvalidValues), 2},
		{"invalid config", &config.ValueError{Key: "max-stores", Value: "x", Msg: "must be a number"}, 2},
		{"kubeconfig", &kube.Error{Kind: kube.KindConfig, Err: errors.New("no kubeconfig")}, 2},
		{"not found", &store.Error{Err: store.ErrNotFound, Store: "x"}, 3},
		{"already exists", fmt.Errorf("x: %w", store.ErrAlreadyExists), 4},
		{"type mismatch", fmt.Errorf("x: %w", store.ErrTypeMismatch), 4},
		{"timeout", &store.Error{Err: store.ErrTimeout}, 5},
		{"deadline", fmt.Errorf("wait: %w", context.DeadlineExceeded), 5},
		{"unreachable sentinel", &store.Error{Err: store.ErrUnreachable}, 6},
		{"connection refused", fmt.Errorf("list: %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}), 6},
		{"unauthorized sentinel", fmt.Errorf("x: %w", store.ErrUnauthorized), 7},
		{"401", apierrors.NewUnauthorized("expired token"), 7},
		{"403 rbac", apierrors.NewForbidden(ns, "", errors.New(`User "dev" cannot list resource "namespaces"`)), 7},
		{"limit", &store.Error{Err: store.ErrLimitReached}, 8},
		{"interrupted", &store.Error{Err: store.ErrInterrupted}, 130},
		{"canceled", fmt.Errorf("watch: %w", context.Canceled), 130},
		{"hinted keeps the code", withHint(fmt.Errorf("x: %w", store.ErrNotFound), "run storectl list"), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := ExitCode(tt.err); got != tt.want {
				t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

// Every code ExitCode can return is documented, and docs/cli.md lists the same table.
func TestExitCodesDocumented(t *testing.T) {
	t.Parallel()
	help := exitCodesHelp()
	doc, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []int{ExitOK, ExitError, ExitUsage, ExitNotFound, ExitAlreadyExists, ExitTimeout,
		ExitUnreachable, ExitUnauthorized, ExitLimitReached, ExitRefused, ExitInterrupted} {
		var meaning string
		for _, d := range ExitCodes {
			if d.Code == c {
				meaning = d.Meaning
			}
		}
		if meaning == "" {
			t.Errorf("exit code %d has no documentation", c)
			continue
		}
		if !strings.Contains(help, fmt.Sprintf("%3d  %s", c, meaning)) {
			t.Errorf("exit code %d is missing from storectl help exit-codes", c)
		}
		if !strings.Contains(string(doc), fmt.Sprintf("| %d | %s |", c, meaning)) {
			t.Errorf("exit code %d is missing from docs/cli.md (want the row \"| %d | %s |\")", c, c, meaning)
		}
	}
}

// sgr matches an ANSI colour or style sequence.
var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// Off a terminal no command writes an ANSI escape to either stream; on a terminal with
// NO_COLOR none writes colour (the live view still moves the cursor there), and stdout
// carries no escape at all.
func TestNoANSIWithoutColor(t *testing.T) {
	t.Parallel()
	commands := [][]string{
		{"create", "shop"}, {"create", "shop", "-o", "json"}, {"create", "fail"}, {"list"}, {"list", "-o", "wide"},
		{"get", "shop"}, {"get", "ghost"}, {"delete", "shop", "--yes"}, {"wait", "shop"}, {"credentials", "shop"},
		{"audit"}, {"version"}, {"help", "exit-codes"}, {"create", "BAD"}, {"bogus"},
	}
	for _, mode := range []string{"pipe", "NO_COLOR terminal"} {
		for _, args := range commands {
			h := newHarness(t, mode != "pipe")
			if mode != "pipe" {
				// What System() does when NO_COLOR is set.
				env := map[string]string{"NO_COLOR": "1", "TERM": "xterm-256color"}
				h.f.IOStreams.ColorEnabled = output.ColorAllowedByEnv(func(k string) string { return env[k] })
			}
			h.eng.create = func(ctx context.Context, o store.CreateOptions) (*store.Store, error) {
				o.OnProgress(store.Progress{Step: "database", State: "running", Message: "starting"})
				if o.Name == "fail" {
					o.OnProgress(store.Progress{Step: "database", State: "failed", Message: "CrashLoopBackOff"})
					return nil, &store.Error{Err: store.ErrFailed, Store: o.Name, Component: "database"}
				}
				o.OnProgress(store.Progress{Step: "database", State: "done"})
				return sampleStore(o.Name), nil
			}
			h.eng.list = func(context.Context, store.ListOptions) ([]store.Store, error) { return listStores(), nil }
			h.eng.get = func(_ context.Context, n string) (*store.Store, error) {
				if n == "ghost" {
					return nil, store.ErrNotFound
				}
				return sampleStore(n), nil
			}
			h.eng.wait = func(_ context.Context, n string, _ store.WaitOptions) (*store.Store, error) {
				return sampleStore(n), nil
			}
			h.eng.creds = func(context.Context, string) (*store.Credentials, error) {
				return &store.Credentials{Store: "shop", User: "admin", Password: "pw"}, nil
			}
			_ = h.audit.Append(audit.Record{Action: "create", Store: "shop", Outcome: "succeeded", Actor: "me"})
			h.run(args...)
			bad := strings.Contains(h.stdout()+h.stderr(), "\x1b")
			if mode != "pipe" {
				bad = strings.Contains(h.stdout(), "\x1b") || sgr.MatchString(h.stderr())
			}
			if bad {
				t.Errorf("%s: %v wrote an ANSI escape:\nstdout %q\nstderr %q", mode, args, h.stdout(), h.stderr())
			}
		}
	}
}
