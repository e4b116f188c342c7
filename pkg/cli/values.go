package cli

import (
	"errors"
	"fmt"
	"io/fs"

	"helm.sh/helm/v3/pkg/strvals"
	"sigs.k8s.io/yaml"

	"github.com/storectl/storectl/pkg/input"
)

// chartValues merges a --values file and --set pairs the way Helm does: the file first,
// then each --set in order, later ones winning. Every problem is a usage error, found before
// any API call.
func chartValues(file string, sets []string) (map[string]any, error) {
	values := map[string]any{}
	if file != "" {
		data, err := input.ReadFile(file, "--values file", input.MaxValuesFile)
		switch {
		case errors.Is(err, input.ErrTooLarge):
			return nil, &UsageError{Err: err}
		case errors.Is(err, fs.ErrNotExist):
			return nil, &UsageError{Err: fmt.Errorf("--values file %s does not exist; give the path of a YAML file of chart values", file)}
		case err != nil:
			return nil, &UsageError{Err: fmt.Errorf("read --values file %s: %w", file, err)}
		}
		if err := yaml.Unmarshal(data, &values); err != nil {
			return nil, &UsageError{Err: fmt.Errorf("--values file %s is not a YAML map of chart values: %w", file, err)}
		}
		if values == nil {
			values = map[string]any{}
		}
	}
	for _, s := range sets {
		if err := strvals.ParseInto(s, values); err != nil {
			return nil, &UsageError{Err: fmt.Errorf("malformed --set %q: %w; write key=value, nested keys with dots (a.b=c), lists as {a,b}", s, err)}
		}
	}
	return values, nil
}
