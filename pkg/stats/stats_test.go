package stats

import (
	"reflect"
	"testing"
	"time"
)

func secs(ns ...int) []time.Duration {
	out := make([]time.Duration, len(ns))
	for i, n := range ns {
		out[i] = time.Duration(n) * time.Second
	}
	return out
}

func TestNearestRank(t *testing.T) {
	t.Parallel()
	tests := []struct {
		values []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 50, 0},
		{secs(7), 50, 7 * time.Second},
		{secs(7), 95, 7 * time.Second},
		{secs(1, 2), 50, 1 * time.Second},
		{secs(1, 2, 3, 4), 50, 2 * time.Second},
		{secs(1, 2, 3, 4, 5), 50, 3 * time.Second},
		// 20 values: rank ceil(0.95*20) = 19.
		{secs(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20), 95, 19 * time.Second},
		// 21 values: rank ceil(0.95*21) = 20.
		{secs(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21), 95, 20 * time.Second},
		// 10 values: p95 is the maximum, as nearest rank gives below 20 values.
		{secs(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 95, 10 * time.Second},
		{secs(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 50, 5 * time.Second},
	}
	for _, tt := range tests {
		if got := NearestRank(tt.values, tt.p); got != tt.want {
			t.Errorf("NearestRank(%v, %v) = %v, want %v", tt.values, tt.p, got, tt.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	s := func(action, outcome, reason string, d int) Sample {
		return Sample{Action: action, Outcome: outcome, Reason: reason, Duration: time.Duration(d) * time.Second}
	}
	samples := []Sample{
		s("create", OutcomeSucceeded, "", 40), s("create", OutcomeSucceeded, "", 10), s("create", OutcomeSucceeded, "", 30),
		s("create", OutcomeSucceeded, "", 20), s("create", OutcomeFailed, "ImagePullBackOff", 5),
		s("create", OutcomeFailed, "Timeout", 600), s("create", OutcomeFailed, "ImagePullBackOff", 7),
		s("create", OutcomeInterrupted, "Interrupted", 3), s("create", OutcomeFailed, "", 1),
		s("delete", OutcomeSucceeded, "", 15), s("delete", OutcomeFailed, "Unreachable", 2),
	}
	got := Summarize(samples)
	want := []Action{
		{Action: "create", Count: 9, Outcomes: map[string]int{"succeeded": 4, "failed": 4, "interrupted": 1},
			N: 4, P50: 20 * time.Second, P95: 40 * time.Second, Max: 40 * time.Second,
			Reasons: []Reason{{"ImagePullBackOff", 2}, {"Interrupted", 1}, {"Timeout", 1}, {"Unknown", 1}}},
		{Action: "delete", Count: 2, Outcomes: map[string]int{"succeeded": 1, "failed": 1},
			N: 1, P50: 15 * time.Second, P95: 15 * time.Second, Max: 15 * time.Second,
			Reasons: []Reason{{"Unreachable", 1}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Summarize:\n got %+v\nwant %+v", got, want)
	}
	if got := Summarize(nil); len(got) != 0 {
		t.Errorf("Summarize(nil) = %+v, want none", got)
	}
}
