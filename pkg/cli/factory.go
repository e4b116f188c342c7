package cli

import (
	"context"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/storectl/storectl/pkg/audit"
	"github.com/storectl/storectl/pkg/config"
	"github.com/storectl/storectl/pkg/kube"
	"github.com/storectl/storectl/pkg/output"
	"github.com/storectl/storectl/pkg/store"
)

// Engine is what the commands need from the store engine; *store.Engine implements it and
// tests pass a fake.
type Engine interface {
	Create(ctx context.Context, o store.CreateOptions) (*store.Store, error)
	List(ctx context.Context, o store.ListOptions) ([]store.Store, error)
	Get(ctx context.Context, name string) (*store.Store, error)
	Delete(ctx context.Context, name string, o store.DeleteOptions) error
	Wait(ctx context.Context, name string, o store.WaitOptions) (*store.Store, error)
	Credentials(ctx context.Context, name string) (*store.Credentials, error)
	// Changes calls notify after the cluster changed the stores, until ctx ends (list -w, get -w).
	Changes(ctx context.Context, o store.ChangesOptions, notify func()) error
}

var _ Engine = (*store.Engine)(nil)

// AuditLog is the local history the mutating commands append to and `storectl audit` reads.
type AuditLog interface {
	Append(r audit.Record) error
	Query(f audit.Filter) ([]audit.Record, error)
}

// Cluster describes the cluster a command talks to, for audit records.
type Cluster struct {
	Server  string
	Context string
	// Identity returns the Kubernetes user name, or "" when it cannot be learnt.
	Identity func(ctx context.Context) string
}

// BuildInfo says which build of storectl is running.
type BuildInfo struct {
	Version string
	Commit  string
	Date    string
}

// Stamped at build time:
//
//	go build -ldflags "-X github.com/storectl/storectl/pkg/cli.version=v0.1.0
//	  -X github.com/storectl/storectl/pkg/cli.commit=abc1234 -X github.com/storectl/storectl/pkg/cli.date=2026-01-02T03:04:05Z"
var version, commit, date string

// Build returns the build information stamped into the binary.
func Build() BuildInfo { return BuildInfo{Version: version, Commit: commit, Date: date} }

// Factory builds a command's dependencies lazily, so that version, completion and --help
// never read the config file, the kubeconfig or the audit log, nor touch the cluster.
type Factory struct {
	IOStreams *output.IOStreams
	Build     BuildInfo
	Now       func() time.Time

	// Config returns the effective settings, loaded once from the running command's flags.
	Config func() (*config.Config, error)
	// Engine returns the store engine for the selected cluster.
	Engine func() (Engine, error)
	// Cluster returns the server, context and identity of the selected cluster.
	Cluster func() (*Cluster, error)
	// Audit returns the audit log at the configured path.
	Audit func() (AuditLog, error)
	// Ops returns what doctor, stats, logs and events read the cluster with; nil in tests
	// that do not need it (create then runs no preflight).
	Ops func() (*Ops, error)
	// Backups returns the backup engine for the selected cluster.
	Backups func() (Backups, error)

	mu          sync.Mutex
	flags       *pflag.FlagSet
	needsDomain bool
}

// annotationNeedsDomain marks the commands that build host names for new stores: only they
// require the domain setting.
const annotationNeedsDomain = "storectl.dev/needs-domain"

// NewFactory wires the real dependencies.
//
//nolint:funlen // the lazy constructors of the factory, one after another
func NewFactory(ios *output.IOStreams, build BuildInfo) *Factory {
	f := &Factory{IOStreams: ios, Build: build, Now: time.Now}
	f.Config = onceValue(func() (*config.Config, error) {
		f.mu.Lock()
		flags, needsDomain := f.flags, f.needsDomain
		f.mu.Unlock()
		return config.Load(config.LoadOptions{Flags: flags, DomainOptional: !needsDomain})
	})
	clients := onceValue(func() (*kube.Clients, error) {
		cfg, err := f.Config()
		if err != nil {
			return nil, err
		}
		c, err := kube.NewClients(cfg.Kubeconfig, cfg.Context)
		if kube.Classify(err) == kube.KindConfig {
			err = withHint(err, "point storectl at a cluster with --kubeconfig <file> or KUBECONFIG=<file>, "+
				"and choose one of its contexts with --context <name>")
		}
		return c, err
	})
	f.Cluster = func() (*Cluster, error) {
		c, err := clients()
		if err != nil {
			return nil, err
		}
		return &Cluster{Server: c.Server, Context: c.Context, Identity: c.Identity}, nil
	}
	f.Engine = onceValue(func() (Engine, error) {
		cfg, err := f.Config()
		if err != nil {
			return nil, err
		}
		c, err := clients()
		if err != nil {
			return nil, err
		}
		eng, err := newEngine(cfg, c, f.Now)
		if err != nil {
			return nil, err
		}
		return serverNamed{Engine: eng, server: c.Server}, nil
	})
	f.Ops = onceValue(func() (*Ops, error) { return newOps(f, clients) })
	f.Backups = onceValue(func() (Backups, error) {
		eng, err := f.Engine()
		if err != nil {
			return nil, err
		}
		cfg, _ := f.Config() // loaded without error by f.Engine
		c, err := clients()
		if err != nil {
			return nil, err
		}
		return newBackups(cfg, c, eng, f.Build, f.Now)
	})
	f.Audit = func() (AuditLog, error) {
		cfg, err := f.Config()
		if err != nil {
			return nil, err
		}
		return fileAudit{path: cfg.AuditPath}, nil
	}
	return f
}

// setFlags tells the factory which command runs, so that its flags take part in the settings.
// timeout returns d, or the timeout setting when d is zero (no --timeout).
// It loads the configuration either way, so a broken one is reported first.
func (f *Factory) timeout(d time.Duration) (time.Duration, error) {
	cfg, err := f.Config()
	if err != nil || d != 0 {
		return d, err
	}
	return cfg.Timeout, nil
}

func (f *Factory) setCommand(cmd *cobra.Command) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.flags = cmd.Flags()
	f.needsDomain = cmd.Annotations[annotationNeedsDomain] == "true"
}

// serverNamed is an Engine whose errors name the API server it could not reach instead of
// the URL of the request that failed. Methods it does not list pass through unchanged.
type serverNamed struct {
	Engine
	server string
}

func (e serverNamed) name(err error) error { return kube.WithServer(err, e.server) }

// Unwrap returns the engine serverNamed wraps, for the capabilities it does not forward
// (upgrade, rollback, history, backup).
func (e serverNamed) Unwrap() Engine { return e.Engine }

// underlying returns the engine under any wrapper that forwards only Engine's methods.
func underlying(eng Engine) Engine {
	for {
		u, ok := eng.(interface{ Unwrap() Engine })
		if !ok {
			return eng
		}
		eng = u.Unwrap()
	}
}

// Create implements Engine.
func (e serverNamed) Create(ctx context.Context, o store.CreateOptions) (*store.Store, error) {
	s, err := e.Engine.Create(ctx, o)
	return s, e.name(err)
}

// List implements Engine.
func (e serverNamed) List(ctx context.Context, o store.ListOptions) ([]store.Store, error) {
	s, err := e.Engine.List(ctx, o)
	return s, e.name(err)
}

// Get implements Engine.
func (e serverNamed) Get(ctx context.Context, name string) (*store.Store, error) {
	s, err := e.Engine.Get(ctx, name)
	return s, e.name(err)
}

// Delete implements Engine.
func (e serverNamed) Delete(ctx context.Context, name string, o store.DeleteOptions) error {
	return e.name(e.Engine.Delete(ctx, name, o))
}

// Wait implements Engine.
func (e serverNamed) Wait(ctx context.Context, name string, o store.WaitOptions) (*store.Store, error) {
	s, err := e.Engine.Wait(ctx, name, o)
	return s, e.name(err)
}

// Credentials implements Engine.
func (e serverNamed) Credentials(ctx context.Context, name string) (*store.Credentials, error) {
	c, err := e.Engine.Credentials(ctx, name)
	return c, e.name(err)
}

// onceValue builds a dependency at most once per run; a failure is remembered too, so a
// broken kubeconfig gives the same error wherever it is needed.
func onceValue[T any](fn func() (T, error)) func() (T, error) {
	return sync.OnceValues(fn)
}

// fileAudit is the bbolt audit log behind the audit package's functions.
type fileAudit struct{ path string }

// Append adds a record under the default lock timeout.
func (a fileAudit) Append(r audit.Record) error {
	return audit.Append(a.path, r, audit.DefaultLockTimeout)
}

// Query reads records under the default lock timeout.
func (a fileAudit) Query(f audit.Filter) ([]audit.Record, error) {
	return audit.Query(a.path, f, audit.DefaultLockTimeout)
}
