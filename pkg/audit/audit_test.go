package audit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// helperEnv switches the test binary into a helper process (see TestMain), so that tests can
// exercise the file lock across real processes: flock is per open file, not per goroutine.
const helperEnv = "AUDIT_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "append":
		os.Exit(helperAppend())
	case "hold":
		os.Exit(helperHold())
	default:
		fmt.Fprintf(os.Stderr, "unknown helper %q\n", os.Getenv(helperEnv))
		os.Exit(2)
	}
}

// helperAppend appends AUDIT_TEST_N records tagged with AUDIT_TEST_WORKER to AUDIT_TEST_PATH.
func helperAppend() int {
	path := os.Getenv("AUDIT_TEST_PATH")
	worker := os.Getenv("AUDIT_TEST_WORKER")
	n, err := strconv.Atoi(os.Getenv("AUDIT_TEST_N"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	for i := range n {
		if err := Append(path, workerRecord(worker, i), 60*time.Second); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

// helperHold opens AUDIT_TEST_PATH for writing, says so on stdout and keeps it open until
// its stdin is closed.
func helperHold() int {
	db, err := bolt.Open(os.Getenv("AUDIT_TEST_PATH"), 0o600, &bolt.Options{Timeout: 10 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("held")
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = db.Close()
	return 0
}

func workerRecord(worker string, i int) Record {
	return Record{
		Actor:    "worker-" + worker,
		Action:   "create",
		Store:    fmt.Sprintf("%s-%d", worker, i),
		Outcome:  OutcomeSucceeded,
		Duration: time.Duration(i) * time.Millisecond,
	}
}

func helperCmd(t *testing.T, mode string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), append([]string{helperEnv + "=" + mode}, env...)...)
	return cmd
}

func tempLog(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "state", "storectl", "audit.db")
}

func TestAppendQueryRoundTrip(t *testing.T) {
	t.Parallel()
	path := tempLog(t)
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	in := []Record{
		{Time: base, Actor: "kubernetes-admin", Server: "https://127.0.0.1:6443", Context: "sandbox",
			Action: "create", Store: "shop", Outcome: OutcomeSucceeded, Duration: 93 * time.Second, ChartVersion: "0.1.0"},
		{Time: base.Add(time.Minute), Actor: "alice", Server: "https://k3s.example:6443", Context: "prod",
			Action: "delete", Store: "shop", Outcome: OutcomeFailed, Error: "namespace store-shop is still terminating",
			Duration: 1500 * time.Millisecond},
		{Time: base.Add(2 * time.Minute), Actor: "system:serviceaccount:ci:storectl", Action: "create", Store: "blog",
			Outcome: OutcomeInterrupted, Error: "interrupted", Duration: 2 * time.Second, ChartVersion: "0.2.0"},
	}
	for _, r := range in {
		if err := Append(path, r, time.Second); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	got, err := Query(path, Filter{}, time.Second)
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if len(got) != len(in) {
		t.Fatalf("Query returned %d records, want %d", len(got), len(in))
	}
	for i, r := range got {
		want := in[len(in)-1-i] // newest first
		want.ID = uint64(len(in) - i)
		if !r.Time.Equal(want.Time) || r.Time.Location() != time.UTC {
			t.Errorf("record %d: time %v, want %v in UTC", i, r.Time, want.Time)
		}
		r.Time, want.Time = time.Time{}, time.Time{}
		if r != want {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, r, want)
		}
	}
}

func TestAppendFillsTimeAndActor(t *testing.T) {
	t.Parallel()
	path := tempLog(t)
	before := time.Now()
	if err := Append(path, Record{Action: "delete", Store: "x", Outcome: OutcomeSucceeded}, time.Second); err != nil {
		t.Fatal(err)
	}
	got, err := Query(path, Filter{}, time.Second)
	if err != nil || len(got) != 1 {
		t.Fatalf("Query = %v, %v; want one record", got, err)
	}
	if got[0].Time.Before(before.Add(-time.Second)) || got[0].Time.After(time.Now().Add(time.Second)) {
		t.Errorf("time %v is not the time of the append (%v)", got[0].Time, before)
	}
	if got[0].Actor != OSUser() || got[0].Actor == "" {
		t.Errorf("actor %q, want the OS user %q", got[0].Actor, OSUser())
	}
}

func TestAppendRejectsIncompleteRecords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		record  Record
		wantErr string
	}{
		{"no action", Record{Outcome: OutcomeSucceeded}, "no action"},
		{"no outcome", Record{Action: "create"}, `outcome ""`},
		{"unknown outcome", Record{Action: "create", Outcome: "ok"}, `outcome "ok"; allowed: succeeded, failed, interrupted`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := tempLog(t)
			err := Append(path, tt.record, time.Second)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Append error = %v, want it to contain %q", err, tt.wantErr)
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a refused record created the log file (stat error %v)", err)
			}
		})
	}
}

func TestQueryFilters(t *testing.T) {
	t.Parallel()
	path := tempLog(t)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	seed := []struct {
		action, store string
		at            time.Duration
	}{
		{"create", "a", 0},
		{"create", "b", time.Hour},
		{"delete", "a", 2 * time.Hour},
		{"create", "a", 3 * time.Hour},
		{"delete", "b", 4 * time.Hour},
	}
	for _, s := range seed {
		r := Record{Time: t0.Add(s.at), Action: s.action, Store: s.store, Outcome: OutcomeSucceeded, Actor: "t"}
		if err := Append(path, r, time.Second); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		filter  Filter
		wantIDs []uint64
	}{
		{"all, newest first", Filter{}, []uint64{5, 4, 3, 2, 1}},
		{"store", Filter{Store: "a"}, []uint64{4, 3, 1}},
		{"action", Filter{Action: "delete"}, []uint64{5, 3}},
		{"store and action", Filter{Store: "a", Action: "create"}, []uint64{4, 1}},
		{"since is inclusive", Filter{Since: t0.Add(3 * time.Hour)}, []uint64{5, 4}},
		{"limit keeps the newest", Filter{Limit: 2}, []uint64{5, 4}},
		{"limit after filtering", Filter{Store: "b", Limit: 1}, []uint64{5}},
		{"negative limit is no limit", Filter{Action: "create", Limit: -1}, []uint64{4, 2, 1}},
		{"no match", Filter{Store: "zzz"}, []uint64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Query(path, tt.filter, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			ids := []uint64{}
			for _, r := range got {
				ids = append(ids, r.ID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(tt.wantIDs) {
				t.Errorf("IDs %v, want %v", ids, tt.wantIDs)
			}
		})
	}
}

func TestQueryMissingLogIsEmptyAndNotCreated(t *testing.T) {
	t.Parallel()
	path := tempLog(t)
	got, err := Query(path, Filter{}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got == nil || len(got) != 0 {
		t.Errorf("Query = %#v, want an empty, non-nil slice", got)
	}
	if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Query created %s (stat error %v)", filepath.Dir(path), err)
	}
}

// TestConcurrentAppendLosesNothing appends from several OS processes and many goroutines at
// once and checks that every record is present exactly once with a distinct ID.
func TestConcurrentAppendLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	path := tempLog(t)
	const (
		processes     = 4
		perProcess    = 40
		goroutines    = 16
		perGoroutine  = 10
		totalExpected = processes*perProcess + goroutines*perGoroutine
	)
	want := map[string]bool{}
	var cmds []*exec.Cmd
	outs := make([]*bytes.Buffer, processes)
	for p := range processes {
		worker := fmt.Sprintf("p%d", p)
		for i := range perProcess {
			want[fmt.Sprintf("%s-%d", worker, i)] = true
		}
		cmd := helperCmd(t, "append", "AUDIT_TEST_PATH="+path, "AUDIT_TEST_WORKER="+worker,
			"AUDIT_TEST_N="+strconv.Itoa(perProcess))
		outs[p] = &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = outs[p], outs[p]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*perGoroutine+1)

	// A reader runs alongside the writers: it must never fail nor see the log shrink.
	stopReading := make(chan struct{})
	readerDone := make(chan struct{})
	reads := 0
	go func() {
		defer close(readerDone)
		last := 0
		for {
			select {
			case <-stopReading:
				return
			default:
			}
			got, err := Query(path, Filter{}, 60*time.Second)
			if err != nil {
				errs <- fmt.Errorf("concurrent Query: %w", err)
				return
			}
			if len(got) < last {
				errs <- fmt.Errorf("concurrent Query saw %d records after %d", len(got), last)
				return
			}
			last = len(got)
			reads++
		}
	}()
	for g := range goroutines {
		worker := fmt.Sprintf("g%d", g)
		for i := range perGoroutine {
			want[fmt.Sprintf("%s-%d", worker, i)] = true
		}
		wg.Go(func() {
			for i := range perGoroutine {
				if err := Append(path, workerRecord(worker, i), 60*time.Second); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	for p, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper process %d (pid %d): %v\n%s", p, cmd.Process.Pid, err, outs[p])
		}
	}
	close(stopReading)
	<-readerDone
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if reads == 0 {
		t.Error("the concurrent reader never completed a Query")
	}

	got, err := Query(path, Filter{}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != totalExpected {
		t.Errorf("log holds %d records, want %d", len(got), totalExpected)
	}
	seenStore := map[string]int{}
	seenID := map[uint64]bool{}
	for _, r := range got {
		seenStore[r.Store]++
		if seenID[r.ID] {
			t.Errorf("ID %d used twice", r.ID)
		}
		seenID[r.ID] = true
	}
	for s := range want {
		if seenStore[s] != 1 {
			t.Errorf("record %s present %d times, want once", s, seenStore[s])
		}
	}
	for id := uint64(1); id <= totalExpected; id++ {
		if !seenID[id] {
			t.Errorf("ID %d missing: IDs are not dense", id)
		}
	}
}

// TestKilledWriterLeavesAUsableLog kills a process while it appends in a loop: every record
// it committed is still there, the IDs stay dense and the next append works.
func TestKilledWriterLeavesAUsableLog(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	path := tempLog(t)
	cmd := helperCmd(t, "append", "AUDIT_TEST_PATH="+path, "AUDIT_TEST_WORKER=k", "AUDIT_TEST_N=1000000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := Query(path, Filter{Limit: 1}, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 1 && got[0].ID >= 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the helper did not append 20 records in 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no chance to close the file
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killed = true

	if err := Append(path, workerRecord("after", 0), 5*time.Second); err != nil {
		t.Fatalf("Append after the kill: %v", err)
	}
	got, err := Query(path, Filter{}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Store != "after-0" {
		t.Errorf("newest record is %q, want the one appended after the kill", got[0].Store)
	}
	for i, r := range got {
		if want := uint64(len(got) - i); r.ID != want {
			t.Fatalf("record %d has ID %d, want %d: IDs are not dense after the kill", i, r.ID, want)
		}
		if i > 0 && r.Store != fmt.Sprintf("k-%d", r.ID-1) {
			t.Fatalf("record %d is %q, want k-%d", r.ID, r.Store, r.ID-1)
		}
	}
}

// holdLock starts a helper process that keeps path open for writing until the test ends.
func holdLock(t *testing.T, path string) {
	t.Helper()
	cmd := helperCmd(t, "hold", "AUDIT_TEST_PATH="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "held\n" {
		t.Fatalf("helper did not take the lock: %q %v; stderr: %s", line, err, stderr.String())
	}
}

func TestLockedLogFailsWithinTimeout(t *testing.T) {
	path := tempLog(t)
	if err := Append(path, workerRecord("seed", 0), time.Second); err != nil {
		t.Fatal(err)
	}
	holdLock(t, path)

	const timeout = 400 * time.Millisecond
	ops := map[string]func() error{
		"Append": func() error { return Append(path, workerRecord("late", 0), timeout) },
		"Query":  func() error { _, err := Query(path, Filter{}, timeout); return err },
	}
	for name, op := range ops {
		start := time.Now()
		err := op()
		elapsed := time.Since(start)
		if !errors.Is(err, ErrLocked) {
			t.Fatalf("%s error = %v, want ErrLocked", name, err)
		}
		if elapsed > timeout+time.Second {
			t.Errorf("%s took %s, far beyond its lock timeout %s", name, elapsed, timeout)
		}
		if elapsed < timeout/2 {
			t.Errorf("%s gave up after %s, before its lock timeout %s", name, elapsed, timeout)
		}
		for _, want := range []string{path, "another storectl process", timeout.String()} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s error %q does not mention %q", name, err, want)
			}
		}
	}
}

func TestLockReleasedAfterHolderExits(t *testing.T) {
	path := tempLog(t)
	if err := Append(path, workerRecord("seed", 0), time.Second); err != nil {
		t.Fatal(err)
	}
	t.Run("hold", func(t *testing.T) { holdLock(t, path) }) // its cleanup releases the lock
	if err := Append(path, workerRecord("after", 0), time.Second); err != nil {
		t.Fatalf("Append after the holder exited: %v", err)
	}
}

func TestCorruptLogIsReportedAndLeftUntouched(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte("this is not a database\n"), 1000)
	valid := filepath.Join(t.TempDir(), "valid.db")
	if err := Append(valid, workerRecord("v", 0), time.Second); err != nil {
		t.Fatal(err)
	}
	damaged, err := os.ReadFile(valid)
	if err != nil {
		t.Fatal(err)
	}
	// Overwrite both meta pages (page 0 and page 1 at the default 4 KiB page size).
	copy(damaged[16:64], bytes.Repeat([]byte{0xff}, 48))
	copy(damaged[4096+16:4096+64], bytes.Repeat([]byte{0xff}, 48))

	// Keep the meta pages, scramble every page after them: bbolt panics on such pages, and
	// the panic must come back as ErrCorrupt.
	scrambled, err := os.ReadFile(valid)
	if err != nil {
		t.Fatal(err)
	}
	for i := 2 * 4096; i < len(scrambled); i++ {
		scrambled[i] = 0xa5
	}

	tests := map[string][]byte{
		"short text":          []byte("hello\n"),
		"long text":           big,
		"damaged meta page":   damaged,
		"scrambled data page": scrambled,
	}
	for name, content := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "audit.db")
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			appendErr := Append(path, workerRecord("x", 0), time.Second)
			_, queryErr := Query(path, Filter{}, time.Second)
			for op, err := range map[string]error{"Append": appendErr, "Query": queryErr} {
				if !errors.Is(err, ErrCorrupt) {
					t.Errorf("%s error = %v, want ErrCorrupt", op, err)
					continue
				}
				for _, want := range []string{path, "mv " + path, "left untouched"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("%s error %q does not mention %q", op, err, want)
					}
				}
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("the corrupt file is gone: %v", err)
			}
			if !bytes.Equal(after, content) {
				t.Errorf("the corrupt file was modified")
			}
		})
	}
}

func TestForeignBoltFileIsRefused(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("jobs"))
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), []byte("v"))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}

	if err := Append(path, workerRecord("x", 0), time.Second); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), `bucket "jobs"`) {
		t.Errorf("Append error = %v, want ErrCorrupt naming the foreign bucket", err)
	}
	if _, err := Query(path, Filter{}, time.Second); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Query error = %v, want ErrCorrupt", err)
	}
	db, err = bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_ = db.View(func(tx *bolt.Tx) error {
		var names []string
		_ = tx.ForEach(func(name []byte, _ *bolt.Bucket) error { names = append(names, string(name)); return nil })
		if fmt.Sprint(names) != "[jobs]" {
			t.Errorf("buckets after the refused append: %v, want only [jobs]", names)
		}
		return nil
	})
}

func TestPermissions(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	path := filepath.Join(root, "a", "b", "audit.db")
	if err := Append(path, workerRecord("x", 0), time.Second); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{filepath.Join(root, "a"), filepath.Join(root, "a", "b")} {
		info, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o700 {
			t.Errorf("%s has mode %v, want 0700", dir, info.Mode().Perm())
		}
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, info.Mode().Perm())
	}

	// A log that was made readable by others is tightened on the next append.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Append(path, workerRecord("x", 1), time.Second); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("after append the mode is %v, want 0600", info.Mode().Perm())
	}
}

func TestDefaultPathFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"xdg state home", map[string]string{"XDG_STATE_HOME": "/xdg/state", "HOME": "/home/u"}, "/xdg/state/storectl/audit.db"},
		{"home fallback", map[string]string{"HOME": "/home/u"}, "/home/u/.local/state/storectl/audit.db"},
		{"relative xdg is ignored", map[string]string{"XDG_STATE_HOME": "state", "HOME": "/home/u"}, "/home/u/.local/state/storectl/audit.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := DefaultPathFor(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			if got != tt.want {
				t.Errorf("DefaultPathFor = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOSUser(t *testing.T) {
	t.Parallel()
	got := OSUser()
	if got == "" || got == "unknown" {
		t.Fatalf("OSUser() = %q, want the name of the user running the test", got)
	}
	out, err := exec.Command("id", "-un").Output()
	if err != nil {
		t.Skipf("no id(1) to compare with: %v", err)
	}
	if want := strings.TrimSpace(string(out)); got != want {
		t.Errorf("OSUser() = %q, id -un says %q", got, want)
	}
}

func BenchmarkAppend(b *testing.B) {
	path := filepath.Join(b.TempDir(), "audit.db")
	r := workerRecord("bench", 0)
	for b.Loop() {
		if err := Append(path, r, 5*time.Second); err != nil {
			b.Fatal(err)
		}
	}
}
