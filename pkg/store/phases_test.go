package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	k8stesting "k8s.io/client-go/testing"

	"github.com/storectl/storectl/pkg/release"
)

// applyProbe records the API calls made before the first Apply.
type applyProbe struct {
	Releases
	mu     sync.Mutex
	before []k8stesting.Action
	env    *testEnv
	values []map[string]any
	// failed makes the latest revision read as failed, as a create that broke leaves it.
	failed bool
}

func (p *applyProbe) Get(ctx context.Context, ns, name string) (*release.Release, error) {
	r, err := p.Releases.Get(ctx, ns, name)
	p.mu.Lock()
	defer p.mu.Unlock()
	if r != nil && p.failed {
		r.Status = release.StatusFailed
	}
	return r, err
}

func (p *applyProbe) Apply(ctx context.Context, o release.ApplyOptions) (*release.Release, error) {
	p.mu.Lock()
	if p.before == nil {
		p.before = append([]k8stesting.Action{}, p.env.kube.Actions()...)
	}
	p.values = append(p.values, o.Values)
	p.mu.Unlock()
	return p.Releases.Apply(ctx, o)
}

// reads counts the reads (get, list, watch) per resource before the apply.
func (p *applyProbe) reads() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := map[string]int{}
	for _, a := range p.before {
		switch a.GetVerb() {
		case "get", "list":
			n[a.GetResource().Resource]++
		}
	}
	return n
}

func probeEnv(t *testing.T, objs ...any) (*testEnv, *applyProbe) {
	t.Helper()
	env := newEnv(t, Settings{})
	p := &applyProbe{Releases: env.rel, env: env}
	e, err := New(Options{Kube: env.kube, Releases: p, LockLease: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	env.e = e
	return env, p
}

// TestCreateReadsEachKindOnce: before it applies the chart, a create reads each kind of
// object once (the watcher's informers list it, and the decision, the credentials and the
// watch work from that one read), the namespace aside: it is read before and, when a
// concurrent creator won, after the create lock.
func TestCreateReadsEachKindOnce(t *testing.T) {
	t.Parallel()
	for _, resume := range []bool{false, true} {
		env, p := probeEnv(t)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if resume {
			if _, err := env.e.Create(ctx, CreateOptions{Name: "shop", Wait: false, Timeout: 5 * time.Second}); err != nil {
				t.Fatal(err)
			}
			env.kube.ClearActions()
			p.before, p.failed = nil, true
		}
		_, _ = env.e.Create(ctx, CreateOptions{Name: "shop", Wait: false, Timeout: 5 * time.Second})
		cancel()
		reads := p.reads()
		if len(reads) == 0 {
			t.Fatalf("resume=%v: no reads recorded before the apply", resume)
		}
		for _, kind := range []string{"pods", "statefulsets", "deployments", "jobs", "persistentvolumeclaims", "events", "ingresses"} {
			if reads[kind] != 1 {
				t.Errorf("resume=%v: %s read %d times before the apply, want once (all reads: %v)", resume, kind, reads[kind], reads)
			}
		}
		// The namespace is read when it is claimed and when the watcher starts.
		if reads["namespaces"] > 2 {
			t.Errorf("resume=%v: namespaces read %d times before the apply, want at most 2: %v", resume, reads["namespaces"], reads)
		}
		// The credentials Secret is read by name once; the release records' informer lists
		// secrets by label once.
		if reads["secrets"] > 2 {
			t.Errorf("resume=%v: secrets read %d times before the apply, want at most 2: %v", resume, reads["secrets"], reads)
		}
	}
}

// TestResumeKeepsRecordedInputs: resuming a store without values reapplies the values and
// settings it was made with, not the defaults or today's settings.
func TestResumeKeepsRecordedInputs(t *testing.T) {
	t.Parallel()
	env, p := probeEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	user := map[string]any{"wordpress": map[string]any{"maxRequestWorkers": 3}}
	env.e.settings.Domain = "first.test"
	if _, err := env.e.Create(ctx, CreateOptions{Name: "shop", Values: user, Timeout: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	env.e.settings.Domain = "second.test"
	p.failed = true
	_, _ = env.e.Create(ctx, CreateOptions{Name: "shop", Timeout: 2 * time.Second})
	if len(p.values) != 2 {
		t.Fatalf("%d applies, want 2 (the create and its resume)", len(p.values))
	}
	v := p.values[1]
	if got := v["wordpress"].(map[string]any)["maxRequestWorkers"]; fmt.Sprint(got) != "3" {
		t.Errorf("resume applied maxRequestWorkers=%v, want the recorded 3", got)
	}
	if got := v["store"].(map[string]any)["domain"]; got != "first.test" {
		t.Errorf("resume applied domain %v, want the recorded first.test", got)
	}
	in, ok, err := inputsOf(v)
	if err != nil || !ok || in.Settings.Domain != "first.test" || in.Values["wordpress"] == nil {
		t.Errorf("resume's recorded inputs = %+v, %v, %v", in, ok, err)
	}
	// New values given to the resume replace the recorded ones.
	_, _ = env.e.Create(ctx, CreateOptions{Name: "shop", Values: map[string]any{"wordpress": map[string]any{"maxRequestWorkers": 5}}, Timeout: 2 * time.Second})
	if got := p.values[len(p.values)-1]["wordpress"].(map[string]any)["maxRequestWorkers"]; fmt.Sprint(got) != "5" {
		t.Errorf("resume with new values applied maxRequestWorkers=%v, want 5", got)
	}
}
