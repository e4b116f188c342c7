package audit

import (
	"context"
	"errors"
	"time"

	"github.com/storectl/storectl/pkg/kube"
	"github.com/storectl/storectl/pkg/store"
)

// IdentityTimeout bounds the identity lookup made for a record.
const IdentityTimeout = 3 * time.Second

// interruptedIdentityWait is how long an interrupted or unreachable operation still waits
// for the identity: Ctrl-C must stop storectl within moments, not after another round trip.
const interruptedIdentityWait = 300 * time.Millisecond

// Appender is where a Recorder writes: a *Log, or a test's memory.
type Appender interface {
	Append(Record) error
}

// Recorder records the mutating operations one client of the engine runs — the CLI, or a
// server — with the same rules for the actor, the outcome and the timing. It is safe for
// concurrent use.
type Recorder struct {
	// Open returns the log; it is called when an operation ends, so a command that fails
	// before it changes anything never opens the file.
	Open func() (Appender, error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Server and Context say which cluster the operations run against.
	Server, Context string
	// Identity returns the Kubernetes user name, "" when unknown; nil means the OS user.
	Identity func(context.Context) string
}

// Operation is one operation being recorded.
type Operation struct {
	r        *Recorder
	rec      Record
	started  time.Time
	identity chan string
}

func (r *Recorder) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

// Begin starts recording action on store. The identity is looked up while the operation
// runs, not after it.
func (r *Recorder) Begin(ctx context.Context, action, storeName string) *Operation {
	o := &Operation{r: r, started: r.now(), identity: make(chan string, 1),
		rec: Record{Action: action, Store: storeName, Server: r.Server, Context: r.Context}}
	if r.Identity == nil {
		o.identity <- ""
		return o
	}
	go func() {
		// Detached from the operation's context: an interrupted operation still deserves
		// its actor in the record.
		ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), IdentityTimeout)
		defer cancel()
		o.identity <- r.Identity(ictx)
	}()
	return o
}

// Outcome classifies how an operation ended.
func Outcome(ctx context.Context, err error) string {
	switch {
	case err == nil:
		return OutcomeSucceeded
	case errors.Is(err, store.ErrInterrupted), errors.Is(err, context.Canceled), errors.Is(ctx.Err(), context.Canceled):
		return OutcomeInterrupted
	default:
		return OutcomeFailed
	}
}

// End appends the operation's record: its outcome from err, the details fill sets (nil:
// none), the duration and the actor. The error is the log's; the operation's own outcome is
// what its caller reports, so callers warn about it rather than fail.
func (o *Operation) End(ctx context.Context, err error, fill func(*Record)) error {
	rec := o.rec
	rec.Time = o.r.now()
	rec.Duration = rec.Time.Sub(o.started)
	rec.Outcome = Outcome(ctx, err)
	if err != nil {
		rec.Error, rec.Reason = err.Error(), store.OutcomeReason(err)
	}
	if fill != nil {
		fill(&rec)
	}
	wait := IdentityTimeout
	if rec.Outcome == OutcomeInterrupted || errors.Is(err, store.ErrUnreachable) || kube.IsUnreachable(err) {
		wait = interruptedIdentityWait
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case rec.Actor = <-o.identity:
	case <-timer.C:
	}
	if rec.Actor == "" {
		rec.Actor = OSUser()
	}
	log, aerr := o.r.Open()
	if aerr == nil {
		aerr = log.Append(rec)
	}
	return aerr
}
