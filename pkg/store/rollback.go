package store

import (
	"fmt"

	"github.com/storectl/storectl/pkg/release"
)

// planRollback chooses a rollback's values: those revision (0: the previous one that was
// deployed) was applied with, exactly.
func planRollback(revision int, p *changePlan) error {
	src, err := rollbackSource(p.snap.Name, revision, p.revs)
	if err != nil {
		return err
	}
	p.source = src
	p.values, err = jsonCopy(src.Values)
	return err
}

// rollbackSource finds the revision to return to. The default is the newest revision older
// than the latest that was deployed (deployed or superseded): after a failed upgrade, the
// revision still serving; after a good one, the one before it.
func rollbackSource(name string, revision int, revs []release.Revision) (*release.Revision, error) {
	latest := revs[len(revs)-1].Revision
	if revision > 0 {
		for i := range revs {
			if revs[i].Revision == revision {
				return &revs[i], nil
			}
		}
		return nil, &Error{Err: ErrNotFound, Store: name, Reason: ReasonNoRevision,
			Message: fmt.Sprintf("revision %d is not in the store's history (revisions %d to %d are kept)", revision, revs[0].Revision, latest)}
	}
	for i := len(revs) - 1; i >= 0; i-- {
		r := &revs[i]
		if r.Revision < latest && (r.Status == release.StatusDeployed || r.Status == release.StatusSuperseded) {
			return r, nil
		}
	}
	return nil, &Error{Err: ErrNotFound, Store: name, Reason: ReasonNoRevision,
		Message: fmt.Sprintf("no revision before %d was deployed", latest)}
}
