//go:build e2e

package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/storectl/storectl/pkg/store"
)

func TestParseTestTimings(t *testing.T) {
	t.Parallel()
	var o store.Options
	err := parseTestTimings("lock-lease=6s, image-pull-grace=5s,crash-loop-restarts=1,volume-grace=2s,config-error-grace=4s", &o)
	if err != nil {
		t.Fatal(err)
	}
	want := store.FailFast{ImagePullGrace: 5 * time.Second, CrashLoopRestarts: 1, UnschedulableGrace: store.DefaultUnschedulableGrace,
		VolumeGrace: 2 * time.Second, ConfigErrorGrace: 4 * time.Second}
	if o.LockLease != 6*time.Second || o.FailFast == nil || *o.FailFast != want {
		t.Errorf("lock lease %s, fail-fast %+v; want 6s and %+v", o.LockLease, o.FailFast, want)
	}

	// Keys not named keep the engine's defaults.
	o = store.Options{}
	if err := parseTestTimings("image-pull-grace=1s", &o); err != nil {
		t.Fatal(err)
	}
	want = store.DefaultFailFast
	want.ImagePullGrace = time.Second
	if o.LockLease != 0 || *o.FailFast != want {
		t.Errorf("lock lease %s, fail-fast %+v; want the default lease and %+v", o.LockLease, o.FailFast, want)
	}
}

func TestParseTestTimingsRefusesWhatItCannotRead(t *testing.T) {
	t.Parallel()
	for spec, msg := range map[string]string{
		"lock-lease":                "not key=value",
		"lease=5s":                  `unknown key "lease"`,
		"image-pull-grace=soon":     "not a positive duration",
		"volume-grace=0s":           "not a positive duration",
		"crash-loop-restarts=0":     "at least 1",
		"crash-loop-restarts=twice": "whole number",
	} {
		var o store.Options
		err := parseTestTimings(spec, &o)
		if err == nil || !strings.Contains(err.Error(), msg) || !strings.Contains(err.Error(), EnvTestTimings) {
			t.Errorf("%s: err = %v, want one naming %s that says %q", spec, err, EnvTestTimings, msg)
		}
	}
}
