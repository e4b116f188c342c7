package cli

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storectl/storectl/pkg/audit"
	"github.com/storectl/storectl/pkg/backup"
	"github.com/storectl/storectl/pkg/store"
)

// fakeChanger adds upgrade, rollback and history to the fake engine.
type fakeChanger struct {
	*fakeEngine
	upgrade  func(ctx context.Context, o store.UpgradeOptions) (*store.ChangeResult, error)
	rollback func(ctx context.Context, o store.RollbackOptions) (*store.ChangeResult, error)
	history  func(ctx context.Context, name string) ([]store.HistoryEntry, error)
}

func (c *fakeChanger) Upgrade(ctx context.Context, o store.UpgradeOptions) (*store.ChangeResult, error) {
	c.record("upgrade " + o.Name)
	return c.upgrade(ctx, o)
}

func (c *fakeChanger) Rollback(ctx context.Context, o store.RollbackOptions) (*store.ChangeResult, error) {
	c.record("rollback " + o.Name)
	return c.rollback(ctx, o)
}

func (c *fakeChanger) History(ctx context.Context, name string) ([]store.HistoryEntry, error) {
	c.record("history " + name)
	return c.history(ctx, name)
}

func changerHarness(t *testing.T) (*harness, *fakeChanger) {
	h := newHarness(t, false)
	c := &fakeChanger{fakeEngine: h.eng}
	h.f.Engine = func() (Engine, error) { return c, nil }
	return h, c
}

func upgraded(name string) *store.ChangeResult {
	return &store.ChangeResult{Name: name, Operation: store.OperationUpgrade, RevisionBefore: 1, RevisionAfter: 2,
		ChartBefore: "0.1.0", ChartAfter: "0.2.0", VersionsBefore: store.Versions{WordPress: "7.1"}, VersionsAfter: store.Versions{WordPress: "7.2"},
		Store: &store.Store{Name: name, Phase: store.PhaseReady, Revision: 2}}
}

// A fleet upgrade goes past a failing store, bounded by --parallel, and ends with a
// summary and a non-zero exit.
func TestUpgradeFleetSummarisesAndFails(t *testing.T) {
	t.Parallel()
	h, c := changerHarness(t)
	var running, peak atomic.Int32
	c.upgrade = func(_ context.Context, o store.UpgradeOptions) (*store.ChangeResult, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(20 * time.Millisecond)
		if o.Name == "s3" {
			res := upgraded(o.Name)
			res.RevisionAfter, res.Store = 0, nil
			return res, &store.Error{Err: store.ErrFailed, Store: o.Name, Component: store.ComponentWordPress, Reason: "CrashLoopBackOff",
				Pod: "s3-wordpress-1", Container: "wordpress", Message: "back-off restarting failed container"}
		}
		return upgraded(o.Name), nil
	}
	code := h.run("upgrade", "s1", "s2", "s3", "s4", "s5", "--parallel", "2", "--yes", "--no-backup", "-o", "json")
	if code != ExitError {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitError, h.stderr())
	}
	var rows []FleetRow
	if err := json.Unmarshal([]byte(h.stdout()), &rows); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, h.stdout())
	}
	outcomes := map[string]int{}
	for _, r := range rows {
		outcomes[r.Outcome]++
		if r.Name == "s3" && (r.Outcome != FleetFailed || !strings.Contains(r.Error, "CrashLoopBackOff") || r.ExitCode != ExitError) {
			t.Errorf("failed row = %+v", r)
		}
	}
	if len(rows) != 5 || outcomes[FleetSucceeded] != 4 || outcomes[FleetFailed] != 1 {
		t.Errorf("outcomes = %v over %d rows", outcomes, len(rows))
	}
	if p := peak.Load(); p > 2 {
		t.Errorf("%d upgrades ran at once with --parallel 2", p)
	}
	recs, _ := h.audit.Query(audit.Filter{Action: "upgrade"})
	if len(recs) != 5 {
		t.Fatalf("%d audit records, want 5", len(recs))
	}
	for _, r := range recs {
		if r.Store != "s3" && (r.RevisionBefore != 1 || r.RevisionAfter != 2 || r.VersionsAfter == nil || r.VersionsAfter.WordPress != "7.2") {
			t.Errorf("audit record = %+v", r)
		}
	}
}

// A refused change exits 9 and says what to do; it is recorded as failed.
func TestUpgradeRefusedExitsNine(t *testing.T) {
	t.Parallel()
	h, c := changerHarness(t)
	c.upgrade = func(_ context.Context, o store.UpgradeOptions) (*store.ChangeResult, error) {
		return nil, &store.Error{Err: store.ErrRefused, Store: o.Name, Component: store.VersionMariaDB, Reason: store.ReasonDowngrade,
			Message: "MariaDB 10.11 is older than 11.8, which the store's data has run"}
	}
	if code := h.run("upgrade", "shop", "--mariadb-version", "10.11"); code != ExitRefused {
		t.Fatalf("exit %d, want %d", code, ExitRefused)
	}
	if !strings.Contains(h.stderr(), "backup") || !strings.Contains(h.stderr(), "--force") {
		t.Errorf("stderr lacks the next step:\n%s", h.stderr())
	}
	recs, _ := h.audit.Query(audit.Filter{Action: "upgrade"})
	if len(recs) != 1 || recs[0].Outcome != audit.OutcomeFailed {
		t.Errorf("audit = %+v", recs)
	}
	if !strings.Contains(exitCodesHelp(), "  9  refused before any change, to protect the store's data: an upgrade or rollback") {
		t.Errorf("help exit-codes lacks 9:\n%s", exitCodesHelp())
	}
}

func TestUpgradeUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"upgrade"},
		{"upgrade", "a", "--all"},
		{"upgrade", "a", "b"}, // several stores without a terminal need --yes
		{"upgrade", "a", "--parallel", "0"},
		{"rollback", "a", "two"},
	} {
		h, _ := changerHarness(t)
		if code := h.run(args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, ExitUsage)
		}
		if calls := h.eng.Calls(); len(calls) != 0 {
			t.Errorf("%v reached the engine: %v", args, calls)
		}
	}
}

func TestHistoryJoinsTheAuditLog(t *testing.T) {
	t.Parallel()
	h, c := changerHarness(t)
	t0 := testNow.Add(-time.Hour)
	c.history = func(context.Context, string) ([]store.HistoryEntry, error) {
		return []store.HistoryEntry{
			{Revision: 1, Time: t0, Status: "superseded", ChartVersion: "0.1.0", Operation: store.OperationInstall},
			{Revision: 2, Time: t0.Add(time.Minute), Status: "deployed", ChartVersion: "0.1.0", Operation: store.OperationRollback, Source: 1,
				Versions: store.Versions{WordPress: "7.1"}},
		}, nil
	}
	_ = h.audit.Append(audit.Record{Time: t0.Add(5 * time.Second), Action: "create", Store: "shop", Actor: "alice", Outcome: audit.OutcomeSucceeded, Duration: 90 * time.Second})
	_ = h.audit.Append(audit.Record{Time: t0.Add(time.Minute), Action: "rollback", Store: "shop", Actor: "bob", Outcome: audit.OutcomeSucceeded,
		Duration: 30 * time.Second, RevisionBefore: 1, RevisionAfter: 2})
	if code := h.run("history", "shop", "-o", "json"); code != 0 {
		t.Fatalf("exit %d: %s", code, h.stderr())
	}
	var got []RevisionView
	if err := json.Unmarshal([]byte(h.stdout()), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Actor != "alice" || got[0].DurationSeconds != 90 || got[1].Actor != "bob" || got[1].Source != 1 ||
		got[1].Versions[store.VersionWordPress] != "7.1" {
		t.Errorf("history = %+v", got)
	}
}

// failingBackups is a backup engine whose every backup fails.
type failingBackups struct {
	Backups
	calls []string
}

func (b *failingBackups) Backup(_ context.Context, name string, _ io.Writer, _ backup.BackupOptions) (*backup.Manifest, error) {
	b.calls = append(b.calls, name)
	return nil, errors.New("exec into the database pod: stream ended early")
}

// An upgrade backs the store up first, after a dry run shows the change is allowed: a failed
// backup changes nothing and says how to go on; --no-backup skips it; a refused upgrade takes
// no backup.
func TestUpgradeBacksUpFirst(t *testing.T) {
	t.Parallel()
	h, c := changerHarness(t)
	bk := &failingBackups{}
	h.f.Backups = func() (Backups, error) { return bk, nil }
	var applied []bool
	c.upgrade = func(_ context.Context, o store.UpgradeOptions) (*store.ChangeResult, error) {
		applied = append(applied, o.DryRun)
		return &store.ChangeResult{Name: o.Name, Operation: "upgrade", DryRun: o.DryRun, RevisionBefore: 1, RevisionAfter: 2}, nil
	}
	dir := t.TempDir()
	if code := h.run("upgrade", "shop", "--backup-dir", dir); code == 0 {
		t.Fatalf("upgrade after a failed backup exited 0")
	}
	if len(bk.calls) != 1 || len(applied) != 1 || !applied[0] {
		t.Errorf("backups %v, upgrade calls (dry run?) %v: want one dry run, one backup, no change", bk.calls, applied)
	}
	if !strings.Contains(h.stderr(), "--no-backup") || !strings.Contains(h.stderr(), "nothing was changed") {
		t.Errorf("stderr does not say nothing changed and how to go on:\n%s", h.stderr())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a failed backup left %d files in %s", len(entries), dir)
	}

	applied, bk.calls = nil, nil
	if code := h.run("upgrade", "shop", "--no-backup"); code != 0 {
		t.Fatalf("upgrade --no-backup: exit %d\n%s", code, h.stderr())
	}
	if len(bk.calls) != 0 || len(applied) != 1 || applied[0] {
		t.Errorf("--no-backup: backups %v, upgrade calls %v", bk.calls, applied)
	}

	applied, bk.calls = nil, nil
	c.upgrade = func(_ context.Context, o store.UpgradeOptions) (*store.ChangeResult, error) {
		applied = append(applied, o.DryRun)
		return nil, &store.Error{Err: store.ErrRefused, Store: o.Name, Reason: store.ReasonDowngrade, Message: "older"}
	}
	if code := h.run("upgrade", "shop"); code != ExitRefused {
		t.Errorf("refused upgrade: exit %d, want %d", code, ExitRefused)
	}
	if len(bk.calls) != 0 {
		t.Errorf("a refused upgrade took a backup: %v", bk.calls)
	}
}
