package servetest_test

import (
	"net/http"
	"testing"

	"github.com/storectl/storectl/pkg/serve/servetest"
)

// The validator fails answers that break the document, so that passing it means something.
func TestValidatorRejects(t *testing.T) {
	t.Parallel()
	v, err := servetest.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	js := http.Header{"Content-Type": {"application/json"}}
	problem := http.Header{"Content-Type": {"application/problem+json"}}
	cases := []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
	}{
		{"store without keys", "GET", "/api/stores/shop", 200, js, `{"name":"shop"}`},
		{"unknown phase", "GET", "/api/stores", 200, js, `{"items":[{"name":"x","status":"Sleeping"}]}`},
		{"problem without exit code", "GET", "/api/stores/shop", 404, problem, `{"type":"about:blank","title":"Not Found","status":404,"detail":"x"}`},
		{"undeclared status", "GET", "/api/stores", 418, js, `{}`},
		{"no such path", "GET", "/api/nothing/here/at/all", 200, js, `{}`},
	}
	for _, tc := range cases {
		if err := v.Check(tc.method, tc.path, nil, nil, tc.status, tc.header, []byte(tc.body)); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	ok := `{"type":"about:blank","title":"Not Found","status":404,"detail":"x","exitCode":3}`
	if err := v.Check("GET", "/api/stores/shop", nil, nil, 404, problem, []byte(ok)); err != nil {
		t.Errorf("a valid problem: %v", err)
	}
}
