// Package servetest checks storectl serve's responses against its OpenAPI document, for the
// unit and end-to-end tests of the server.
package servetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/storectl/storectl/pkg/serve"
)

// Validator holds the parsed document and a router over its paths.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
}

// NewValidator loads and validates the embedded OpenAPI document.
func NewValidator() (*Validator, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(serve.OpenAPIYAML)
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi.yaml is not a valid document: %w", err)
	}
	// The document's server is "/": paths match whatever host a test server has.
	routed := *doc
	routed.Servers = nil
	r, err := legacy.NewRouter(&routed)
	if err != nil {
		return nil, fmt.Errorf("route openapi.yaml: %w", err)
	}
	return &Validator{doc: doc, router: r}, nil
}

// Doc returns the document.
func (v *Validator) Doc() *openapi3.T { return v.doc }

// Check validates one exchange: the request against its operation, and the response's
// status, headers and body against what the operation declares. The path is matched
// against the document's paths whatever the host.
func (v *Validator) Check(method, target string, reqHeader http.Header, reqBody []byte, status int, header http.Header, body []byte) error {
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(method, "http://storectl.invalid"+u.RequestURI(), bytes.NewReader(reqBody))
	if err != nil {
		return err
	}
	for k, vs := range reqHeader {
		req.Header[k] = vs
	}
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("%s %s: no operation in the document: %w", method, u.Path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	// A request the server refuses is still checked against the response it declares; the
	// request itself is checked only when the server accepted it.
	if status < 400 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			return fmt.Errorf("%s %s: request: %w", method, u.Path, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	out.SetBodyBytes(body)
	if strings.HasPrefix(header.Get("Content-Type"), "text/event-stream") {
		out.Options.ExcludeResponseBody = true
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return fmt.Errorf("%s %s: response %d: %w", method, u.Path, status, err)
	}
	return nil
}

// Client is an http.Client for one server whose every response is checked with a
// Validator; Errs collects what failed.
type Client struct {
	Base  string
	Token string
	V     *Validator
	HTTP  *http.Client
	Errs  []error
}

// Response is one checked answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends a request with an optional JSON body and checks the answer.
func (c *Client) Do(method, path string, body []byte) (Response, error) {
	req, err := http.NewRequest(method, c.Base+path, bytes.NewReader(body))
	if err != nil {
		return Response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, err
	}
	if verr := c.V.Check(method, path, req.Header, body, resp.StatusCode, resp.Header, b); verr != nil {
		c.Errs = append(c.Errs, verr)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// CheckSchema validates a JSON value against one of the document's component schemas, such
// as the data of an event (Store, Progress, Deleted).
func (v *Validator) CheckSchema(name string, data []byte) error {
	ref := v.doc.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("no schema %q in the document", name)
	}
	var value any
	if err := json.Unmarshal(data, &value); err != nil {
		return fmt.Errorf("%s: not JSON: %w", name, err)
	}
	if err := ref.Value.VisitJSON(value, openapi3.EnableJSONSchema2020()); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
