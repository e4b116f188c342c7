package serve

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/storectl/storectl/pkg/audit"
	"github.com/storectl/storectl/pkg/store"
)

// runner runs the creates and deletes the API accepts: in the background, under the
// server's lifetime instead of the request's, at most max at once, one at a time per store.
type runner struct {
	slots chan struct{}
	fleet *fleet

	mu      sync.Mutex
	running map[string]string // store name → action
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func newRunner(maxConcurrent int, f *fleet) *runner {
	ctx, cancel := context.WithCancel(context.Background())
	return &runner{slots: make(chan struct{}, maxConcurrent), fleet: f, running: map[string]string{}, ctx: ctx, cancel: cancel}
}

// start bases the operations on ctx, which must not end when the server is told to stop.
func (r *runner) start(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ctx, r.cancel = context.WithCancel(ctx)
}

// count returns the number of operations under way.
func (r *runner) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.running)
}

// stop lets the operations under way go on for grace, then interrupts them and waits for
// them to end: each releases its store's Lease and records how it ended.
func (r *runner) stop(grace time.Duration) {
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		r.cancel()
		<-done
	}
	r.cancel()
}

// job is one operation to run.
type job struct {
	action, name string
	// recorder records it; its identity already names the caller.
	recorder *audit.Recorder
	// run does the work, reporting progress.
	run func(ctx context.Context, onProgress func(store.Progress)) (*store.Store, error)
	// accepted tells, from a progress report, that the request may be answered: the
	// operation holds the store and goes on alone.
	accepted func(store.Progress) bool
	// ended is called with the outcome, after the audit record.
	ended func(action string, err error, took time.Duration)
}

// submit starts j and waits until it is accepted or has ended; the error is the
// operation's when it ended before it was accepted. After an acceptance, ended delivers
// the operation's outcome once it ends.
func (r *runner) submit(reqCtx context.Context, j job) (ended <-chan error, err error) {
	if err := r.claim(reqCtx, j); err != nil {
		return nil, err
	}
	accepted := make(chan struct{})
	var once sync.Once
	result := make(chan error, 1)
	onProgress := func(p store.Progress) {
		r.fleet.progress(j.name, p)
		if j.accepted(p) {
			once.Do(func() { close(accepted) })
		}
	}
	r.mu.Lock()
	ctx := r.ctx
	r.mu.Unlock()
	go func() {
		defer r.wg.Done()
		defer r.release(j.name)
		start := time.Now()
		op := j.recorder.Begin(ctx, j.action, j.name)
		s, err := j.run(ctx, onProgress)
		_ = op.End(ctx, err, func(rec *audit.Record) {
			if s != nil {
				rec.ChartVersion = s.ChartVersion
			}
		})
		if j.ended != nil {
			j.ended(j.action, err, time.Since(start))
		}
		result <- err
	}()
	select {
	case <-accepted:
		return result, nil
	case err := <-result:
		return nil, err
	case <-reqCtx.Done():
		// The client left; the operation goes on.
		return nil, reqCtx.Err()
	}
}

// claim takes a slot and the store for j, or says why not.
func (r *runner) claim(reqCtx context.Context, j job) error {
	r.mu.Lock()
	if a, busy := r.running[j.name]; busy {
		r.mu.Unlock()
		return &store.Error{Err: store.ErrBusy, Store: j.name, Reason: store.ReasonLocked,
			Message: fmt.Sprintf("this server is already running a %s of store %q", a, j.name)}
	}
	r.running[j.name] = j.action
	r.mu.Unlock()
	timer := time.NewTimer(slotWait)
	defer timer.Stop()
	select {
	case r.slots <- struct{}{}:
		r.wg.Add(1)
		return nil
	case <-timer.C:
	case <-reqCtx.Done():
	}
	r.mu.Lock()
	delete(r.running, j.name)
	r.mu.Unlock()
	return &requestError{status: http.StatusServiceUnavailable, exitCode: exitError, retryAfter: int(slotWait / time.Second),
		detail: fmt.Sprintf("the server runs %d operations already (--max-concurrent)", cap(r.slots)),
		hint:   "retry after the number of seconds in Retry-After"}
}

func (r *runner) release(name string) {
	<-r.slots
	r.mu.Lock()
	delete(r.running, name)
	r.mu.Unlock()
}
