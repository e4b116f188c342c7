package serve

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/storectl/storectl/pkg/audit"
	"github.com/storectl/storectl/pkg/store"
)

// Engine is what the server needs of the store engine; the CLI's engine implements it.
type Engine interface {
	Create(ctx context.Context, o store.CreateOptions) (*store.Store, error)
	List(ctx context.Context, o store.ListOptions) ([]store.Store, error)
	Get(ctx context.Context, name string) (*store.Store, error)
	Delete(ctx context.Context, name string, o store.DeleteOptions) error
	Wait(ctx context.Context, name string, o store.WaitOptions) (*store.Store, error)
}

// Defaults of the server's settings.
const (
	DefaultListen        = "127.0.0.1:8080"
	DefaultMaxConcurrent = 4
	// DefaultRateLimit is the mutating requests one client may make per minute.
	DefaultRateLimit = 30
	// DefaultShutdownGrace is how long operations under way may go on after SIGTERM before
	// they are interrupted.
	DefaultShutdownGrace = 20 * time.Second
	// MaxBodyBytes bounds a request body.
	MaxBodyBytes = 1 << 20
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout = 10 * time.Second
	// DefaultKeepAlive is how often an event stream gets a comment line.
	DefaultKeepAlive = 15 * time.Second
	// slotWait is how long a mutating request waits for one of the --max-concurrent slots.
	slotWait = 10 * time.Second
)

// Options configure a Server. Engine, Kube, Recorder, AuditQuery, StoreJSON and AuditJSON
// are required.
type Options struct {
	Engine Engine
	// Kube is the clientset the shared cache watches with and readiness probes.
	Kube kubernetes.Interface
	// Recorder records every mutating operation; the server adds the caller to its actor.
	Recorder *audit.Recorder
	// AuditQuery reads the audit log.
	AuditQuery func(audit.Filter) ([]audit.Record, error)
	// Provisionings reads every store's provisioning from the cluster, for /api/metrics.
	Provisionings func(ctx context.Context) ([]store.Provisioning, error)
	// Preflight, when set, checks the cluster before a create, as `storectl create` does.
	Preflight func(ctx context.Context) error
	// StoreJSON and AuditJSON give the -o json shapes of a store and of audit records.
	StoreJSON func(*store.Store) any
	AuditJSON func([]audit.Record) any
	// ExitCode, Explain and Hint are the CLI's: the exit code of an error, the next step
	// attached to it, and that next step.
	ExitCode func(error) int
	Explain  func(ctx context.Context, err error, name, action string) error
	Hint     func(error) string
	// Web is the dashboard, served at /; nil serves none.
	Web fs.FS

	Listen string
	// Tokens maps each accepted bearer token to its name; empty means no authentication,
	// which only a loopback listener allows.
	Tokens map[string]string
	// ReloadTokens, when set, reads the token file again: on ReloadTokens calls (the CLI's
	// SIGHUP) and every TokenCheckEvery, so that tokens rotate, a mounted Secret's included,
	// without a restart. It is only used when Tokens is not empty.
	ReloadTokens    func() (map[string]string, error)
	TokenCheckEvery time.Duration
	ReadOnly        bool
	MaxConcurrent   int
	// RateLimit is the mutating requests per minute per client; 0 means no limit.
	RateLimit     int
	ShutdownGrace time.Duration
	// Timeout bounds each create and delete; 0 means the engine's default.
	Timeout time.Duration
	// KeepAlive is how often an event stream gets a comment line; 0 means DefaultKeepAlive.
	KeepAlive time.Duration
	Version   string
	// ChartVersion is the version of the store chart the binary embeds.
	ChartVersion string
	Log          *slog.Logger
	Now          func() time.Time
}

// Server is a running storectl serve.
type Server struct {
	opts    Options
	log     *slog.Logger
	fleet   *fleet
	ops     *runner
	metrics *metrics
	limiter *limiter
	auth    atomic.Pointer[authenticator]
	handler http.Handler
	// reloadMu serialises token reloads; lastReloadErr is the last failure logged, so that
	// a file broken for an hour is reported once, not at every check.
	reloadMu      sync.Mutex
	lastReloadErr string
}

// New checks the options and builds the server; Run serves.
func New(o Options) (*Server, error) {
	if o.Engine == nil || o.Kube == nil || o.Recorder == nil || o.AuditQuery == nil || o.StoreJSON == nil || o.AuditJSON == nil {
		return nil, errors.New("serve: Engine, Kube, Recorder, AuditQuery, StoreJSON and AuditJSON are required")
	}
	if o.Listen == "" {
		o.Listen = DefaultListen
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = DefaultMaxConcurrent
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = DefaultShutdownGrace
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.KeepAlive <= 0 {
		o.KeepAlive = DefaultKeepAlive
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	auth, err := newAuthenticator(o.Listen, o.Tokens)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: o, log: o.Log, limiter: newLimiter(o.RateLimit, o.Now)}
	s.auth.Store(auth)
	s.fleet = newFleet(o.Engine, o.Kube, o.Log)
	s.ops = newRunner(o.MaxConcurrent, s.fleet)
	s.metrics = newMetrics(o.Version, o.ChartVersion, s.fleet)
	s.handler = s.routes()
	return s, nil
}

func (s *Server) reloads() bool {
	return s.opts.ReloadTokens != nil && len(s.opts.Tokens) > 0
}

// ReloadTokens reads the token file again and, when it holds another set of tokens, serves
// those from the next request on; requests already admitted go on. A file that cannot be
// read or parsed leaves the tokens in force and is reported (its tokens never are).
// changed says the tokens in force changed.
func (s *Server) ReloadTokens() (changed bool, err error) {
	if !s.reloads() {
		return false, nil
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	tokens, err := s.opts.ReloadTokens()
	if err == nil && len(tokens) == 0 {
		err = errors.New("token file holds no token")
	}
	if err != nil {
		if msg := err.Error(); msg != s.lastReloadErr {
			s.lastReloadErr = msg
			s.log.Warn("token file not reloaded; the tokens in force stay", "error", msg)
		}
		return false, err
	}
	s.lastReloadErr = ""
	next, err := newAuthenticator(s.opts.Listen, tokens)
	if err != nil {
		return false, err
	}
	if next.same(s.auth.Load()) {
		return false, nil
	}
	s.auth.Store(next)
	s.log.Info("tokens reloaded", "tokens", len(next.digests))
	return true, nil
}

// checkTokens reloads the token file every interval until ctx ends.
func (s *Server) checkTokens(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_, _ = s.ReloadTokens()
		}
	}
}

// Handler returns the server's HTTP handler, for tests.
func (s *Server) Handler() http.Handler { return s.handler }

// Run listens and serves until ctx ends, then shuts down: it stops accepting, ends the event
// streams, lets operations under way go on for the shutdown grace, interrupts the rest (each
// releases its store's Lease and records the interruption) and returns.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.opts.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Serve is Run on a listener of the caller's.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	// Operations outlive the requests that start them and the signal that stops the server:
	// they end by the shutdown grace, not at once.
	s.ops.start(context.WithoutCancel(ctx))
	streams, endStreams := context.WithCancel(ctx)
	defer endStreams()
	go s.fleet.run(streams)
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return streams },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	if s.reloads() && s.opts.TokenCheckEvery > 0 {
		go s.checkTokens(streams, s.opts.TokenCheckEvery)
	}
	s.log.Info("listening", "address", ln.Addr().String(), "auth", s.auth.Load().mode(), "readOnly", s.opts.ReadOnly,
		"maxConcurrent", s.opts.MaxConcurrent, "rateLimitPerMinute", s.opts.RateLimit)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		s.ops.stop(0)
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "operations", s.ops.count(), "grace", s.opts.ShutdownGrace.String())
	endStreams()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	shutErr := srv.Shutdown(sctx)
	s.ops.stop(s.opts.ShutdownGrace)
	s.log.Info("stopped")
	if shutErr != nil && !errors.Is(shutErr, context.DeadlineExceeded) {
		return shutErr
	}
	return nil
}
