package serve

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// route is one pattern of the API and how it is guarded.
type route struct {
	pattern string
	handler http.HandlerFunc
	// public routes need no token: probes, the document, the dashboard's files.
	public bool
	// mutating routes are rate limited and refused by --read-only.
	mutating bool
	// stream routes keep their connection open and get no write deadline.
	stream bool
}

func (s *Server) routeTable() []route {
	return []route{
		{pattern: "GET /api/stores", handler: s.handleList},
		{pattern: "POST /api/stores", handler: s.handleCreate, mutating: true},
		{pattern: "GET /api/stores/{name}", handler: s.handleGet},
		{pattern: "DELETE /api/stores/{name}", handler: s.handleDelete, mutating: true},
		{pattern: "GET /api/stores/{name}/events", handler: s.handleStoreEvents, stream: true},
		{pattern: "GET /api/events", handler: s.handleFleetEvents, stream: true},
		{pattern: "GET /api/audit", handler: s.handleAudit},
		{pattern: "GET /api/stores/audit/log", handler: s.handleAudit},
		{pattern: "GET /api/metrics", handler: s.handleMetrics},
		{pattern: "GET /api/health", handler: s.handleHealth},
		{pattern: "GET /api/openapi.json", handler: s.handleOpenAPI, public: true},
		{pattern: "GET /livez", handler: s.handleLivez, public: true},
		{pattern: "GET /readyz", handler: s.handleReadyz, public: true},
		{pattern: "GET /metrics", handler: s.metrics.handler().ServeHTTP},
	}
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	streams := map[string]bool{}
	for _, rt := range s.routeTable() {
		mux.Handle(rt.pattern, s.guard(rt))
		streams[rt.pattern] = rt.stream
	}
	if s.opts.Web != nil {
		files := http.FileServerFS(s.opts.Web)
		mux.Handle("GET /", s.guard(route{public: true, handler: func(w http.ResponseWriter, r *http.Request) {
			setPageHeaders(w.Header())
			files.ServeHTTP(w, r)
		}}))
	}
	// Whatever no route matches is a problem document too, not the mux's plain text.
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		mux.Handle(m+" /api/", s.guard(route{public: true, handler: s.handleNoRoute}))
	}
	return s.logRequests(mux, streams)
}

// setPageHeaders are the dashboard's: its own files only, no inline script, no framing.
func setPageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'; object-src 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
}

// guard applies, in order: the Host check of a server without tokens, authentication,
// --read-only, the rate limit, the body limit and the write deadline.
func (s *Server) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		caller, err := s.admit(r, rt)
		if err != nil {
			s.writeProblem(w, r, err, r.PathValue("name"), "")
			return
		}
		if rt.mutating {
			if ok, wait := s.limiter.allow(clientKey(r, caller)); !ok {
				s.writeProblem(w, r, &requestError{status: http.StatusTooManyRequests, exitCode: exitError,
					detail:     fmt.Sprintf("more than %d changes a minute from this client", s.opts.RateLimit),
					hint:       "retry after the number of seconds in Retry-After",
					retryAfter: retryAfterSeconds(wait)}, r.PathValue("name"), "")
				return
			}
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		}
		if !rt.stream {
			_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(2 * time.Minute))
		}
		rt.handler(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, caller)))
	})
}

// admit refuses a request before any work: a foreign Host on a server without tokens, a
// missing or wrong token, a change to a read-only server.
func (s *Server) admit(r *http.Request, rt route) (string, error) {
	auth := s.auth.Load()
	if len(auth.digests) == 0 && !localHost(r.Host) {
		return "", &requestError{status: http.StatusForbidden, exitCode: 7,
			detail: fmt.Sprintf("host %q is not this machine: a server without --token-file answers only localhost, 127.0.0.1 and ::1", r.Host)}
	}
	caller := auth.caller(r)
	if !rt.public && caller == "" {
		return "", &requestError{status: http.StatusUnauthorized, exitCode: 7,
			detail: "a valid bearer token is required (Authorization: Bearer <token>)",
			hint:   "send a token from the server's --token-file"}
	}
	if rt.mutating && s.opts.ReadOnly {
		return "", &requestError{status: http.StatusMethodNotAllowed, exitCode: exitUsage,
			detail: "the server is read-only (--read-only): it serves GET requests only"}
	}
	return caller, nil
}

func (s *Server) handleNoRoute(w http.ResponseWriter, r *http.Request) {
	s.writeProblem(w, r, &requestError{status: http.StatusNotFound, exitCode: exitUsage,
		detail: fmt.Sprintf("no route %s %s; the routes are in /api/openapi.json", r.Method, r.URL.Path)}, "", "")
}

// statusRecorder remembers the status a handler answered with, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// logRequests writes one JSON line per request (never its headers, so no token) and counts
// it in the metrics by the route pattern the mux matched, which it sets on the request.
func (s *Server) logRequests(next http.Handler, streams map[string]bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		took := time.Since(start)
		s.metrics.answered(r.Pattern, rec.status, took, streams[r.Pattern])
		level := s.log.Info
		if strings.HasPrefix(r.URL.Path, "/livez") || strings.HasPrefix(r.URL.Path, "/readyz") {
			level = s.log.Debug
		}
		level("request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"durationMs", took.Milliseconds(), "remote", r.RemoteAddr)
	})
}
