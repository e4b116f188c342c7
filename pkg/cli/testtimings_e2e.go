//go:build e2e

package cli

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/storectl/storectl/pkg/store"
)

// EnvTestTimings names the engine timings of a build for end-to-end tests, as
// comma-separated key=value pairs, for example
//
//	STORECTL_TEST_TIMINGS=lock-lease=6s,image-pull-grace=5s,crash-loop-restarts=1
//
// Keys not named keep the engine's defaults. Only a binary built with the e2e
// tag reads it; a release build ignores it, so its timings are always the
// engine's own.
const EnvTestTimings = "STORECTL_TEST_TIMINGS"

func init() {
	testTimings = func(o *store.Options) error {
		spec := os.Getenv(EnvTestTimings)
		if spec == "" {
			return nil
		}
		return parseTestTimings(spec, o)
	}
}

// parseTestTimings sets the timings spec names on o.
func parseTestTimings(spec string, o *store.Options) error {
	ff := store.DefaultFailFast
	if o.FailFast != nil {
		ff = *o.FailFast
	}
	durations := map[string]*time.Duration{
		"lock-lease":         &o.LockLease,
		"image-pull-grace":   &ff.ImagePullGrace,
		"volume-grace":       &ff.VolumeGrace,
		"config-error-grace": &ff.ConfigErrorGrace,
	}
	for _, kv := range strings.Split(spec, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return fmt.Errorf("%s: %q is not key=value", EnvTestTimings, kv)
		}
		if key == "crash-loop-restarts" {
			n, err := strconv.ParseInt(value, 10, 32)
			if err != nil || n < 1 {
				return fmt.Errorf("%s: crash-loop-restarts=%s is not a whole number of at least 1", EnvTestTimings, value)
			}
			ff.CrashLoopRestarts = int32(n)
			continue
		}
		d, known := durations[key]
		if !known {
			known := []string{"crash-loop-restarts"}
			for k := range durations {
				known = append(known, k)
			}
			sort.Strings(known)
			return fmt.Errorf("%s: unknown key %q; the keys are %s", EnvTestTimings, key, strings.Join(known, ", "))
		}
		v, err := time.ParseDuration(value)
		if err != nil || v <= 0 {
			return fmt.Errorf("%s: %s=%s is not a positive duration such as 5s", EnvTestTimings, key, value)
		}
		*d = v
	}
	o.FailFast = &ff
	return nil
}
