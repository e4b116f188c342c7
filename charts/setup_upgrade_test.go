package charts

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// requireMaintenanceOff fails the test when the site is left in maintenance mode.
func (f *setupFixture) requireMaintenanceOff(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(f.wpPath, ".maintenance")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the site is left in maintenance mode (.maintenance: %v)", err)
	}
}

// installed runs the script once on a new store and fails the test if it fails.
func (f *setupFixture) installed(t *testing.T) {
	t.Helper()
	if r := f.run(t); r.err != nil {
		t.Fatalf("first run: %v\n%s", r.err, r.stderr)
	}
}

func wantChanges(t *testing.T, r setupResult, want ...string) {
	t.Helper()
	got := mutating(r.calls)
	if len(got) != len(want) {
		t.Fatalf("changes:\n%s\nwant %d: %v", strings.Join(got, "\n"), len(want), want)
	}
	for i, w := range want {
		if !strings.Contains(got[i], w) {
			t.Errorf("change %d = %q, want %q", i, got[i], w)
		}
	}
}

func TestSetupScriptUpgradesTheWordPressDatabase(t *testing.T) {
	t.Parallel()
	f := newSetupFixture(t)
	f.installed(t)
	if v := f.stateFile(t, "options/db_version"); v != "60717" {
		t.Fatalf("a new install's db_version = %q, want the files' 60717", v)
	}
	// The WordPress pod synced a newer release's files onto the volume.
	writeCoreVersion(t, f.wpPath, "7.2", 61003)

	r := f.run(t)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	wantChanges(t, r, "maintenance-mode activate", "core update-db", "maintenance-mode deactivate", "rewrite flush")
	if v := f.stateFile(t, "options/db_version"); v != "61003" {
		t.Errorf("db_version after the upgrade = %q, want 61003", v)
	}
	if !strings.Contains(r.stdout, "upgrading the WordPress database from version 60717 to 61003") {
		t.Errorf("the upgrade is not reported:\n%s", r.stdout)
	}
	f.requireMaintenanceOff(t)

	// Nothing left to upgrade: the next run stays out of maintenance mode.
	again := f.run(t)
	if again.err != nil || len(mutating(again.calls)) > 0 {
		t.Errorf("the run after the upgrade: %v, changes %v", again.err, mutating(again.calls))
	}
}

func TestSetupScriptLeavesADatabaseNewerThanTheFiles(t *testing.T) {
	t.Parallel()
	f := newSetupFixture(t)
	f.installed(t)
	writeFile(t, filepath.Join(f.state, "options", "db_version"), "61003")
	r := f.run(t)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	wantChanges(t, r)
	if v := f.stateFile(t, "options/db_version"); v != "61003" {
		t.Errorf("db_version = %q: the database was moved back to the files' version", v)
	}
}

func TestSetupScriptEndsMaintenanceModeWhenAnUpgradeFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fail  string
		bump  func(t *testing.T, f *setupFixture)
		wantE string
	}{
		{"wp core update-db fails", "core update-db",
			func(t *testing.T, f *setupFixture) { writeCoreVersion(t, f.wpPath, "7.2", 61003) },
			"injected failure of 'core update-db'"},
		{"installing the new WooCommerce fails", "plugin install",
			func(t *testing.T, f *setupFixture) {
				writeFile(t, filepath.Join(f.state, "woocommerce.version"), "10.9.4")
				writeFile(t, filepath.Join(f.state, "options", "woocommerce_db_version"), "10.9.4")
			},
			"injected failure of 'plugin install'"},
		{"wp wc update fails", "wc update",
			func(t *testing.T, f *setupFixture) {
				writeFile(t, filepath.Join(f.state, "options", "woocommerce_db_version"), "10.9.4")
			},
			"injected failure of 'wc update'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newSetupFixture(t)
			f.installed(t)
			tt.bump(t, f)
			r := f.run(t, "FAKE_WP_FAIL="+tt.fail)
			if r.err == nil {
				t.Fatalf("the script succeeded although %s:\n%s", tt.name, r.stdout)
			}
			if !strings.Contains(r.stderr, tt.wantE) {
				t.Errorf("the failure is not shown:\n%s", r.stderr)
			}
			changes := mutating(r.calls)
			if len(changes) < 2 || !strings.Contains(changes[0], "maintenance-mode activate") ||
				!strings.Contains(changes[len(changes)-1], "maintenance-mode deactivate") {
				t.Errorf("changes do not begin and end with maintenance mode:\n%s", strings.Join(changes, "\n"))
			}
			f.requireMaintenanceOff(t)

			// The next run, without the fault, finishes the upgrade.
			r = f.run(t)
			if r.err != nil {
				t.Fatalf("the run after the failure: %v\n%s", r.err, r.stderr)
			}
			if f.stateFile(t, "options/db_version") != "61003" && tt.fail == "core update-db" {
				t.Error("the next run did not upgrade the WordPress database")
			}
			if v := f.stateFile(t, "options/woocommerce_db_version"); v != "11.1.2" {
				t.Errorf("WooCommerce's database at %s after the next run, want 11.1.2", v)
			}
			f.requireMaintenanceOff(t)
		})
	}
}

func TestSetupScriptTakesOverAMaintenanceModeLeftOn(t *testing.T) {
	t.Parallel()
	f := newSetupFixture(t)
	f.installed(t)
	// A run killed after its upgrade steps, before it ended maintenance mode.
	writeFile(t, filepath.Join(f.wpPath, ".maintenance"), "<?php $upgrading = "+strconv.FormatInt(time.Now().Unix(), 10)+"; ?>")
	r := f.run(t)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	wantChanges(t, r, "maintenance-mode deactivate")
	f.requireMaintenanceOff(t)
}

func TestSetupScriptWaitsForThisRevisionsWordPressFiles(t *testing.T) {
	t.Parallel()
	f := newSetupFixture(t)
	f.installed(t)
	// The previous revision's pod recorded its image; this revision's has not synced yet.
	writeFile(t, filepath.Join(f.wpPath, ".storectl-core"), "wordpress:7.0-php8.3-apache\n")
	writeCoreVersion(t, f.wpPath, "7.0", 58975)
	r := f.run(t, "SETUP_TIMEOUT=1", "POLL_SECONDS=0.2")
	if r.err == nil || !strings.Contains(r.stderr, "waiting for WordPress files in "+f.wpPath+" from "+f.env["CORE_IMAGE"]) {
		t.Fatalf("err %v, stderr:\n%s", r.err, r.stderr)
	}
	if len(r.calls) > 0 {
		t.Errorf("the script ran WP-CLI on the previous revision's files: %v", r.calls)
	}
}
