package serve

import (
	_ "embed" // the OpenAPI document
	"net/http"
	"sync"

	"sigs.k8s.io/yaml"
)

// OpenAPIYAML is the OpenAPI 3.1 document of the API, as written.
//
//go:embed openapi.yaml
var OpenAPIYAML []byte

// openAPIJSON is the document as served at /api/openapi.json, converted on first use: as
// a package variable it was converted at start-up by every command, about 3 ms and 12,000
// allocations before main.
var openAPIJSON = sync.OnceValue(func() []byte { return mustJSON(OpenAPIYAML) })

func mustJSON(y []byte) []byte {
	j, err := yaml.YAMLToJSON(y)
	if err != nil {
		panic("serve: openapi.yaml is not valid YAML: " + err.Error())
	}
	return j
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(openAPIJSON())
}
