package serve_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/storectl/storectl/pkg/serve/servetest"
	"github.com/storectl/storectl/pkg/store"
)

// The document is a valid OpenAPI 3.1 document, and the name rule it gives clients is the
// engine's.
func TestOpenAPIDocument(t *testing.T) {
	v, err := servetest.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	doc := v.Doc()
	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi %q, want 3.1", doc.OpenAPI)
	}
	name := doc.Components.Schemas["StoreName"].Value
	if name.MaxLength == nil || *name.MaxLength != store.MaxNameLength {
		t.Errorf("StoreName maxLength %v, want %d", name.MaxLength, store.MaxNameLength)
	}
	var reserved, prefixes []string
	if err := json.Unmarshal(mustRaw(t, name.Extensions["x-reserved-names"]), &reserved); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(mustRaw(t, name.Extensions["x-reserved-prefixes"]), &prefixes); err != nil {
		t.Fatal(err)
	}
	slices.Sort(reserved)
	if !slices.Equal(reserved, store.ReservedNames()) {
		t.Errorf("x-reserved-names %v\nengine's        %v", reserved, store.ReservedNames())
	}
	if !slices.Equal(prefixes, store.ReservedPrefixes()) {
		t.Errorf("x-reserved-prefixes %v, engine's %v", prefixes, store.ReservedPrefixes())
	}
	enum := name.Not.Value.AnyOf[0].Value.Enum
	if len(enum) != len(reserved) {
		t.Errorf("the not-enum of StoreName has %d names, x-reserved-names %d", len(enum), len(reserved))
	}
	// Names the engine refuses fail the schema, names it takes pass.
	for _, n := range []string{"shop", "audit", "kube-x", "Shop", "a-", "storectl-x", "my-shop-2"} {
		schemaOK := name.VisitJSON(n) == nil
		if engineOK := store.ValidateName(n) == nil; schemaOK != engineOK {
			t.Errorf("%q: schema accepts %v, engine accepts %v", n, schemaOK, engineOK)
		}
	}
}

func mustRaw(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
