package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/storectl/storectl/pkg/release"
)

// InputsKey is the top-level chart value under which every revision records its Inputs.
// The chart renders nothing from it.
const InputsKey = "storectl"

// Inputs are what a revision of a store was made from besides the chart: the settings
// storectl applied and the user's chart values. Each revision records them in its release
// values, so resuming, upgrading or rolling back a store reuses what it was made with
// rather than re-deriving it from the configuration of the day. Neither holds a secret:
// values that look like one are refused (CheckValues).
type Inputs struct {
	Settings Settings       `json:"settings"`
	Values   map[string]any `json:"values,omitempty"`
}

// value returns in as a chart value (JSON-shaped maps, as Helm stores values).
func (in Inputs) value() (map[string]any, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// inputsOf reads the Inputs recorded in a revision's values; ok is false for a revision
// made before storectl recorded them.
func inputsOf(values map[string]any) (in Inputs, ok bool, err error) {
	raw, ok := values[InputsKey]
	if !ok {
		return Inputs{}, false, nil
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return Inputs{}, false, err
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return Inputs{}, false, fmt.Errorf("recorded inputs: %w", err)
	}
	return in, true, nil
}

// recordedInputs reads the Inputs of a store's revision (0: the latest). ok is false when
// the release or the record does not exist.
func (e *Engine) recordedInputs(ctx context.Context, name string, revision int) (Inputs, bool, error) {
	vals, err := e.rel.Values(ctx, Namespace(name), name, revision)
	if errors.Is(err, release.ErrNotFound) {
		return Inputs{}, false, nil
	}
	if err != nil {
		return Inputs{}, false, clusterErr(ctx, name, "read the release's values", err)
	}
	return inputsOf(vals)
}

// recordable returns the settings a store records: the cluster-wide policies (max-stores,
// isolation overrides) are the operator's of the day, not the store's.
func recordable(s Settings) Settings {
	s.MaxStores, s.TenantIsolationOverrides = 0, nil
	return s
}
