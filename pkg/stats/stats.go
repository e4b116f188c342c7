// Package stats computes operation figures (counts by outcome, duration percentiles, failure
// reasons) from samples, whether they come from the audit log or from the cluster.
package stats

import (
	"math"
	"sort"
	"time"
)

// Sample is one operation that ended.
type Sample struct {
	Action   string
	Outcome  string // succeeded, failed or interrupted
	Reason   string // the bounded reason of an operation that did not succeed
	Duration time.Duration
}

// Outcomes samples carry.
const (
	OutcomeSucceeded   = "succeeded"
	OutcomeFailed      = "failed"
	OutcomeInterrupted = "interrupted"
)

// Action is the figures of one action.
type Action struct {
	Action string
	// Count is the number of samples; Outcomes splits it by outcome.
	Count    int
	Outcomes map[string]int
	// Durations are over succeeded samples only (N of them): how long the action takes when
	// it works. P50 and P95 are nearest-rank percentiles.
	N             int
	P50, P95, Max time.Duration
	// Reasons are the reasons of samples that did not succeed, most frequent first.
	Reasons []Reason
}

// Reason is how often one reason ended an action.
type Reason struct {
	Reason string
	Count  int
}

// Summarize returns the figures per action, sorted by action name.
func Summarize(samples []Sample) []Action {
	by := map[string][]Sample{}
	for _, s := range samples {
		by[s.Action] = append(by[s.Action], s)
	}
	out := make([]Action, 0, len(by))
	for action, ss := range by {
		out = append(out, summarizeAction(action, ss))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Action < out[j].Action })
	return out
}

func summarizeAction(action string, ss []Sample) Action {
	a := Action{Action: action, Count: len(ss), Outcomes: map[string]int{}}
	var durations []time.Duration
	reasons := map[string]int{}
	for _, s := range ss {
		a.Outcomes[s.Outcome]++
		if s.Outcome == OutcomeSucceeded {
			durations = append(durations, s.Duration)
			continue
		}
		r := s.Reason
		if r == "" {
			r = "Unknown"
		}
		reasons[r]++
	}
	sort.Slice(durations, func(i, j int) bool { return durations[i] < durations[j] })
	a.N = len(durations)
	a.P50, a.P95 = NearestRank(durations, 50), NearestRank(durations, 95)
	if a.N > 0 {
		a.Max = durations[a.N-1]
	}
	for r, n := range reasons {
		a.Reasons = append(a.Reasons, Reason{Reason: r, Count: n})
	}
	sort.Slice(a.Reasons, func(i, j int) bool {
		if a.Reasons[i].Count != a.Reasons[j].Count {
			return a.Reasons[i].Count > a.Reasons[j].Count
		}
		return a.Reasons[i].Reason < a.Reasons[j].Reason
	})
	return a
}

// NearestRank returns the p-th percentile of sorted by the nearest-rank method: the smallest
// value with at least p% of the values at or below it. It is 0 for no values.
func NearestRank(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}
