package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/storectl/storectl/pkg/audit"
	"github.com/storectl/storectl/pkg/input"
	"github.com/storectl/storectl/pkg/serve"
	"github.com/storectl/storectl/pkg/serve/web"
	"github.com/storectl/storectl/pkg/store"
)

// ServeOptions are the inputs of `storectl serve`.
type ServeOptions struct {
	Factory       *Factory
	Listen        string
	TokenFile     string
	MaxConcurrent int
	ReadOnly      bool
	RateLimit     int
	ShutdownGrace time.Duration
	Timeout       time.Duration
}

// maxTokenFile bounds the token file: a few thousand tokens.
const maxTokenFile = 256 << 10

// NewCmdServe returns `storectl serve`.
func NewCmdServe(f *Factory, runF func(*ServeOptions) error) *cobra.Command {
	opts := &ServeOptions{Factory: f}
	cmd := &cobra.Command{
		Use:         "serve [flags]",
		Short:       "Serve the REST API, live events, metrics and the dashboard over HTTP",
		Annotations: map[string]string{annotationNeedsDomain: "true"},
		Long: `Serve storectl over HTTP, on the same engine, settings and audit log as the commands:
a REST API (create, list, get, delete, the audit log, figures), Server-Sent Events
as stores change, Prometheus metrics at /metrics, health probes and the dashboard
at /. The API is described at /api/openapi.json; docs/serve.md has the details.

Creates and deletes run in the background under the server, at most
--max-concurrent at once; a request is answered as soon as the store is claimed.
On SIGTERM the server stops accepting, lets operations under way go on for
--shutdown-grace, then interrupts the rest, which release their stores for the
next create or 'storectl wait' to finish.

Without --token-file the server listens only on localhost, 127.0.0.1 or ::1 and
answers only requests addressed to those names. Any other address needs
--token-file: one token a line, "name:token" (the name is the caller in the audit
log) or a bare token. The file is read again every 30 seconds and on SIGHUP, so
tokens rotate without a restart. --read-only serves GET requests only. Logs are
JSON lines on stderr.`,
		Example: `  # The dashboard and API on this machine, at http://127.0.0.1:8080
  storectl serve

  # In a cluster: every address, tokens required, at most 8 operations at once
  storectl serve --listen 0.0.0.0:8080 --token-file /etc/storectl/tokens --max-concurrent 8

  # A read-only view for a wall screen
  storectl serve --listen 127.0.0.1:9090 --read-only`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.MaxConcurrent < 1 {
				return usageErrorf(cmd, "invalid --max-concurrent %d: give 1 or more", opts.MaxConcurrent)
			}
			if opts.RateLimit < 0 {
				return usageErrorf(cmd, "invalid --rate-limit %d: give 0 (no limit) or more", opts.RateLimit)
			}
			if opts.ShutdownGrace < 0 {
				return usageErrorf(cmd, "invalid --shutdown-grace %s: give a positive duration such as 20s", opts.ShutdownGrace)
			}
			if opts.TokenFile == "" && !serve.IsLocal(opts.Listen) {
				return usageErrorf(cmd, "listening on %s needs --token-file: only localhost, 127.0.0.1 and ::1 are served without a token", opts.Listen)
			}
			if runF != nil {
				return runF(opts)
			}
			return serveRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Listen, "listen", serve.DefaultListen, "address to listen on, host:port")
	fl.StringVar(&opts.TokenFile, "token-file", "", "file of bearer tokens, one a line as name:token; required off loopback")
	fl.IntVar(&opts.MaxConcurrent, "max-concurrent", serve.DefaultMaxConcurrent, "creates and deletes run at once; more wait for a slot")
	fl.BoolVar(&opts.ReadOnly, "read-only", false, "serve GET requests only: no create, no delete")
	fl.IntVar(&opts.RateLimit, "rate-limit", serve.DefaultRateLimit, "creates and deletes one client may send a minute (0: no limit)")
	fl.DurationVar(&opts.ShutdownGrace, "shutdown-grace", serve.DefaultShutdownGrace, "after SIGTERM, how long operations under way may go on before they are interrupted")
	fl.DurationVar(&opts.Timeout, "timeout", 0, "how long each create or delete may take (default: the timeout setting, 10m)")
	_ = cmd.MarkFlagFilename("token-file")
	return cmd
}

func serveRun(ctx context.Context, opts *ServeOptions) error {
	o, err := serveOptions(ctx, opts)
	if err != nil {
		return err
	}
	srv, err := serve.New(o)
	if err != nil {
		return err
	}
	// SIGHUP reads the token file again at once (it is also read every tokenCheckEvery).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			_, _ = srv.ReloadTokens()
		}
	}()
	return srv.Run(ctx)
}

// tokenCheckEvery is how often serve reads its token file again, so that a rotated token
// file (a mounted Secret updates in place) takes effect without a restart or a signal.
const tokenCheckEvery = 30 * time.Second

// readTokens reads and parses the token file.
func readTokens(path string) (map[string]string, error) {
	data, err := input.ReadFile(path, "token file", maxTokenFile)
	if err != nil {
		return nil, withHint(err, "give --token-file a readable file of name:token lines")
	}
	tokens, err := serve.ParseTokens(data)
	if err != nil {
		return nil, &UsageError{Err: fmt.Errorf("%s: %w", path, err), Cmd: "storectl serve"}
	}
	return tokens, nil
}

// serveOptions wires the server to the factory's engine, cluster, audit log and the CLI's
// views, exit codes and hints, so that the API and the commands say the same things.
func serveOptions(ctx context.Context, opts *ServeOptions) (serve.Options, error) {
	f := opts.Factory
	var tokens map[string]string
	var reload func() (map[string]string, error)
	if opts.TokenFile != "" {
		var err error
		if tokens, err = readTokens(opts.TokenFile); err != nil {
			return serve.Options{}, err
		}
		reload = func() (map[string]string, error) { return readTokens(opts.TokenFile) }
	}
	timeout, err := f.timeout(opts.Timeout)
	if err != nil {
		return serve.Options{}, err
	}
	eng, err := f.Engine()
	if err != nil {
		return serve.Options{}, explain(ctx, err, "", "serve")
	}
	ops, err := f.Ops()
	if err != nil {
		return serve.Options{}, explain(ctx, err, "", "serve")
	}
	log, err := f.Audit()
	if err != nil {
		return serve.Options{}, err
	}
	return serve.Options{
		Engine: eng, Kube: ops.Doctor.Kube, Recorder: f.recorder(), AuditQuery: log.Query,
		Provisionings: ops.Cluster.Provisionings,
		Preflight:     func(ctx context.Context) error { return preflight(ctx, f, timeout) },
		StoreJSON:     func(s *store.Store) any { return newStoreView(s) },
		AuditJSON:     func(recs []audit.Record) any { return newAuditList(recs) },
		ExitCode:      ExitCode, Explain: explain, Hint: hintOf,
		Web:    web.Files,
		Listen: opts.Listen, Tokens: tokens, ReloadTokens: reload, TokenCheckEvery: tokenCheckEvery,
		ReadOnly: opts.ReadOnly, MaxConcurrent: opts.MaxConcurrent,
		RateLimit: opts.RateLimit, ShutdownGrace: opts.ShutdownGrace, Timeout: timeout,
		Version: f.Build.Version, ChartVersion: embeddedChart().Version,
		Log: slog.New(slog.NewJSONHandler(f.IOStreams.ErrOut, nil)),
		Now: f.Now,
	}, nil
}
