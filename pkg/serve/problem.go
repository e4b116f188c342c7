package serve

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/storectl/storectl/pkg/store"
)

// Problem is an error as RFC 9457 problem details, with the storectl exit code of the same
// failure on the command line.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	ExitCode int    `json:"exitCode"`
	Hint     string `json:"hint,omitempty"`
}

// Exit codes the server answers with itself; the rest come from Options.ExitCode.
const (
	exitError = 1
	exitUsage = 2
)

// requestError is a refusal of the server's own (not the engine's): a status, an exit code
// and what was wrong.
type requestError struct {
	status   int
	exitCode int
	detail   string
	hint     string
	// retryAfter, when positive, is sent as Retry-After in seconds.
	retryAfter int
}

func (e *requestError) Error() string { return e.detail }

func badRequest(detail string) error {
	return &requestError{status: http.StatusBadRequest, exitCode: exitUsage, detail: detail}
}

// statusOf maps a storectl exit code, and for the codes that cover several cases the error,
// onto an HTTP status.
func statusOf(code int, err error) int {
	switch code {
	case 0:
		return http.StatusOK
	case exitUsage:
		if errors.Is(err, store.ErrInvalidName) || errors.Is(err, store.ErrInvalidValues) || errors.Is(err, store.ErrUnknownType) {
			return http.StatusUnprocessableEntity
		}
		return http.StatusBadRequest
	case 3:
		return http.StatusNotFound
	case 4, 8, 9:
		return http.StatusConflict
	case 5:
		return http.StatusGatewayTimeout
	case 6, 130:
		return http.StatusServiceUnavailable
	case 7:
		return http.StatusBadGateway
	}
	if errors.Is(err, store.ErrBusy) || errors.Is(err, store.ErrTerminating) {
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// problemOf builds the problem document of err as the request for store name and action
// met it.
func (s *Server) problemOf(ctx context.Context, err error, name, action string) (Problem, int) {
	var re *requestError
	if errors.As(err, &re) {
		return Problem{Type: "about:blank", Title: http.StatusText(re.status), Status: re.status,
			Detail: re.detail, ExitCode: re.exitCode, Hint: re.hint}, re.retryAfter
	}
	// A name refused before any work has no next step but the rule the message states.
	if s.opts.Explain != nil && !errors.Is(err, store.ErrInvalidName) {
		err = s.opts.Explain(ctx, err, name, action)
	}
	code := exitError
	if s.opts.ExitCode != nil {
		code = s.opts.ExitCode(err)
	}
	status := statusOf(code, err)
	p := Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: err.Error(), ExitCode: code}
	if s.opts.Hint != nil {
		p.Hint = s.opts.Hint(err)
	}
	return p, 0
}

// writeProblem answers with err as a problem document.
func (s *Server) writeProblem(w http.ResponseWriter, r *http.Request, err error, name, action string) {
	p, retry := s.problemOf(r.Context(), err, name, action)
	if retry > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retry))
	}
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="storectl"`)
	}
	if p.Status >= http.StatusInternalServerError {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "status", p.Status, "error", p.Detail)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
