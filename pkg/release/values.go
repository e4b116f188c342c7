package release

import "context"

// Values returns the values the latest revision of the release was applied with: the
// complete values storectl layered (they never hold a secret).
func (h *Helm) Values(ctx context.Context, namespace, name string) (map[string]any, error) {
	r, err := latest(h.config(ctx, namespace), name)
	if err != nil {
		return nil, err
	}
	return copyValues(r.Config), nil
}
