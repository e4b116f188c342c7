package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/storectl/storectl/pkg/release"
)

// HistoryEntry is one revision of a store, as `storectl history` shows it.
type HistoryEntry struct {
	Revision     int       `json:"revision"`
	Time         time.Time `json:"time"`
	Status       string    `json:"status"`
	ChartVersion string    `json:"chartVersion"`
	Versions     Versions  `json:"versions"`
	// Operation is install, upgrade or rollback.
	Operation string `json:"operation"`
	// Source is, for a rollback, the revision whose values it returned to.
	Source      int    `json:"source,omitempty"`
	Description string `json:"description,omitempty"`
}

// History returns the stored revisions of a store, oldest first. A store without a release
// has none.
func (e *Engine) History(ctx context.Context, name string) ([]HistoryEntry, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if _, err := e.storeNamespace(ctx, name); err != nil {
		return nil, err
	}
	cr, err := e.changeReleases(name)
	if err != nil {
		return nil, err
	}
	revs, err := cr.Revisions(ctx, Namespace(name), name)
	if errors.Is(err, release.ErrNotFound) {
		return []HistoryEntry{}, nil
	}
	if err != nil {
		return nil, clusterErr(ctx, name, "read the release history", err)
	}
	out := make([]HistoryEntry, 0, len(revs))
	for i := range revs {
		r := &revs[i]
		op, source := operationOf(r)
		out = append(out, HistoryEntry{Revision: r.Revision, Time: r.LastDeployed, Status: r.Status,
			ChartVersion: r.ChartVersion, Versions: versionsOf(r), Operation: op, Source: source, Description: r.Description})
	}
	return out, nil
}

// operationOf reads which operation made a revision; one that recorded none was made by create.
func operationOf(r *release.Revision) (string, int) {
	rec, _ := r.Values[InputsKey].(map[string]any)
	op, _ := rec["operation"].(string)
	if op == "" {
		op = OperationInstall
	}
	var source int
	switch n := rec["source"].(type) {
	case float64:
		source = int(n)
	case int:
		source = n
	}
	return op, source
}

// upgradeAvailable returns this storectl's chart version when it is newer than version.
func (e *Engine) upgradeAvailable(version string) string {
	cr, ok := e.rel.(changeReleases)
	if !ok {
		return ""
	}
	mine, err := cr.ChartVersion()
	if err != nil || version == "" {
		return ""
	}
	if c, ok := compareVersions(semverCore(version), semverCore(mine)); ok && c < 0 {
		return mine
	}
	return ""
}

// semverCore drops a pre-release or build suffix ("0.2.0-rc.1": "0.2.0").
func semverCore(v string) string {
	for i, r := range v {
		if r == '-' || r == '+' {
			return v[:i]
		}
	}
	return v
}

// changeReleases is what upgrade, rollback and history need of the release backend beyond
// Releases; pkg/release's Helm implements it.
type changeReleases interface {
	// Revisions returns every stored revision with its values and manifest, oldest first.
	Revisions(ctx context.Context, namespace, name string) ([]release.Revision, error)
	// Plan renders what applying would make with the chart this storectl installs.
	Plan(ctx context.Context, o release.ApplyOptions) (*release.Revision, error)
	// ChartVersion is the version of the chart this storectl installs.
	ChartVersion() (string, error)
}

var _ changeReleases = (*release.Helm)(nil)

func (e *Engine) changeReleases(name string) (changeReleases, error) {
	cr, ok := e.rel.(changeReleases)
	if !ok {
		return nil, fmt.Errorf("store %s: the release backend keeps no revisions to upgrade from", name)
	}
	return cr, nil
}
