package release

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Only kinds a template declares literally are listed ahead; a templated apiVersion or kind
// is left to the drift check, which reads it from the manifest.
func TestTemplateKindsTakesLiteralDeclarations(t *testing.T) {
	tpl := `{{- if .Values.cron.enabled }}
apiVersion: batch/v1
kind: CronJob
metadata:
  name: x
spec:
  jobTemplate:
    spec:
      template:
        kind: NotAKind
{{- end }}
---
apiVersion: v1
kind: Service
---
apiVersion: {{ .Values.api }}
kind: Ingress
---
# a comment only
`
	want := []schema.GroupVersionKind{{Group: "batch", Version: "v1", Kind: "CronJob"}, {Version: "v1", Kind: "Service"}}
	if got := templateKinds(tpl); !reflect.DeepEqual(got, want) {
		t.Errorf("templateKinds = %v, want %v", got, want)
	}
}
