package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/storectl/storectl/pkg/audit"
	"github.com/storectl/storectl/pkg/store"
)

// createRequest is the body of POST /api/stores.
type createRequest struct {
	Name   string         `json:"name"`
	Type   string         `json:"type"`
	Values map[string]any `json:"values"`
}

// items is the envelope of every list the API returns.
type items struct {
	Items any `json:"items"`
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	if s.fleet.isSynced() {
		out := make([]any, 0)
		for _, st := range s.fleet.list() {
			out = append(out, s.opts.StoreJSON(st))
		}
		writeJSON(w, http.StatusOK, items{Items: out})
		return
	}
	all, err := s.opts.Engine.List(r.Context(), store.ListOptions{})
	if err != nil {
		s.writeProblem(w, r, err, "", "list")
		return
	}
	out := make([]any, 0, len(all))
	for i := range all {
		out = append(out, s.opts.StoreJSON(s.fleet.view(&all[i])))
	}
	writeJSON(w, http.StatusOK, items{Items: out})
}

// lookup returns store name from the shared cache, or read live when the cache does not
// have it (yet).
func (s *Server) lookup(ctx context.Context, name string) (*store.Store, error) {
	if err := store.ValidateName(name); err != nil {
		return nil, err
	}
	if s.fleet.isSynced() {
		if st := s.fleet.get(name); st != nil {
			return st, nil
		}
	}
	st, err := s.opts.Engine.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	return s.fleet.view(st), nil
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	st, err := s.lookup(r.Context(), name)
	if err != nil {
		s.writeProblem(w, r, err, name, "get")
		return
	}
	writeJSON(w, http.StatusOK, s.opts.StoreJSON(st))
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	req, err := decodeCreate(r)
	if err == nil {
		err = store.ValidateName(req.Name)
	}
	if err == nil && s.opts.Preflight != nil {
		err = s.opts.Preflight(r.Context())
	}
	if err == nil {
		err = s.refuseReady(r.Context(), req.Name)
	}
	if err != nil {
		s.writeProblem(w, r, err, req.Name, "create")
		return
	}
	j := job{action: "create", name: req.Name, recorder: s.recorderFor(callerOf(r.Context())), ended: s.metrics.ended,
		run: func(ctx context.Context, onProgress func(store.Progress)) (*store.Store, error) {
			return s.createAndWait(ctx, req, onProgress)
		},
		// The namespace step is done once the create holds the store's Lease.
		accepted: func(p store.Progress) bool {
			return p.Step == store.ComponentNamespace && p.State == store.ProgressDone
		},
	}
	ended, err := s.ops.submit(r.Context(), j)
	if err != nil {
		s.writeProblem(w, r, err, req.Name, "create")
		return
	}
	st, err := s.opts.Engine.Get(r.Context(), req.Name)
	// A create that found the store Ready ends right after its namespace step.
	select {
	case oerr := <-ended:
		if oerr != nil {
			err = oerr
		}
	default:
	}
	if err != nil {
		s.writeProblem(w, r, err, req.Name, "create")
		return
	}
	s.fleet.put(st)
	w.Header().Set("Location", "/api/stores/"+url.PathEscape(st.Name))
	writeJSON(w, http.StatusAccepted, s.opts.StoreJSON(s.fleet.view(st)))
}

// createAndWait creates a store in two steps, as `storectl create --wait=false` and
// `storectl wait` do: the create holds the store's Lease until the install is handed to the
// cluster, then the wait follows it to Ready. A server stopped during the wait leaves a
// store whose install goes on in the cluster, which the next wait or create sees to Ready.
func (s *Server) createAndWait(ctx context.Context, req createRequest, onProgress func(store.Progress)) (*store.Store, error) {
	timeout := s.opts.Timeout
	if timeout <= 0 {
		timeout = store.DefaultTimeout
	}
	start := time.Now()
	st, err := s.opts.Engine.Create(ctx, store.CreateOptions{Name: req.Name, Type: req.Type, Values: req.Values,
		Timeout: timeout, OnProgress: onProgress})
	if err != nil {
		return st, err
	}
	return s.opts.Engine.Wait(ctx, req.Name, store.WaitOptions{For: "ready", Timeout: max(timeout-time.Since(start), time.Second),
		OnProgress: onProgress})
}

// refuseReady answers a create of a store that exists and is Ready, as the engine would,
// without claiming it: nothing is to be done. A store Ready whose release is still pending
// is left to the create, which finishes it.
func (s *Server) refuseReady(ctx context.Context, name string) error {
	st, err := s.opts.Engine.Get(ctx, name)
	if err != nil || st.Phase != store.PhaseReady || strings.HasPrefix(st.ReleaseStatus, "pending") {
		return nil
	}
	return &store.Error{Err: store.ErrAlreadyExists, Store: name, Reason: store.ReasonAlreadyExists,
		Message: "the store already exists and is Ready; nothing was changed", Components: st.Components}
}

// decodeCreate reads a create request: JSON, no unknown fields, within the body limit.
func decodeCreate(r *http.Request) (createRequest, error) {
	var req createRequest
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return req, &requestError{status: http.StatusUnsupportedMediaType, exitCode: exitUsage,
			detail: "the body must be JSON, sent with Content-Type: application/json"}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(&req)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("more than one JSON value")
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return req, &requestError{status: http.StatusRequestEntityTooLarge, exitCode: exitUsage,
			detail: fmt.Sprintf("the body is larger than %d bytes", MaxBodyBytes)}
	case err != nil:
		return req, badRequest("the body is not a create request: " + err.Error())
	}
	return req, nil
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := store.ValidateName(name); err != nil {
		s.writeProblem(w, r, err, name, "delete")
		return
	}
	j := job{action: "delete", name: name, recorder: s.recorderFor(callerOf(r.Context())),
		run: func(ctx context.Context, onProgress func(store.Progress)) (*store.Store, error) {
			return nil, s.opts.Engine.Delete(ctx, name, store.DeleteOptions{Wait: true, Timeout: s.opts.Timeout, OnProgress: onProgress})
		},
		// The first step is reported once the store was found and is being deleted.
		accepted: func(store.Progress) bool {
			s.fleet.setDeleting(name, true)
			return true
		},
		ended: func(action string, err error, took time.Duration) {
			s.fleet.setDeleting(name, false)
			s.fleet.mark(name)
			s.metrics.ended(action, err, took)
		},
	}
	if _, err := s.ops.submit(r.Context(), j); err != nil {
		s.writeProblem(w, r, err, name, "delete")
		return
	}
	st := s.fleet.get(name)
	if st == nil {
		// Gone from the cache already: the delete is far along.
		st = &store.Store{Name: name, Type: store.TypeWooCommerce, Namespace: store.Namespace(name), Phase: store.PhaseDeleting,
			Reason: "DeleteRequested", Message: "the server is deleting the store"}
	}
	writeJSON(w, http.StatusAccepted, s.opts.StoreJSON(st))
}

// recorderFor is the server's audit Recorder with the caller in front of the server's own
// Kubernetes identity: "<caller> via <identity>".
func (s *Server) recorderFor(caller string) *audit.Recorder {
	rec := *s.opts.Recorder
	base := s.opts.Recorder.Identity
	rec.Identity = func(ctx context.Context) string {
		id := ""
		if base != nil {
			id = base(ctx)
		}
		if id == "" {
			id = audit.OSUser()
		}
		return caller + " via " + id
	}
	return &rec
}

func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) {
	f, err := auditFilter(r.URL.Query(), s.opts.Now())
	if err != nil {
		s.writeProblem(w, r, err, "", "audit")
		return
	}
	recs, err := s.opts.AuditQuery(f)
	if err != nil {
		if errors.Is(err, audit.ErrLocked) {
			err = &requestError{status: http.StatusServiceUnavailable, exitCode: exitError, retryAfter: 1,
				detail: err.Error(), hint: "retry in a moment"}
		}
		s.writeProblem(w, r, err, "", "audit")
		return
	}
	writeJSON(w, http.StatusOK, items{Items: s.opts.AuditJSON(recs)})
}

// auditFilter reads the audit filters: store, action, since (a duration or an RFC 3339
// time) and limit.
func auditFilter(q url.Values, now time.Time) (audit.Filter, error) {
	f := audit.Filter{Store: q.Get("store"), Action: q.Get("action")}
	if v := q.Get("since"); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			f.Since = now.Add(-d)
		} else if t, err := time.Parse(time.RFC3339, v); err == nil {
			f.Since = t
		} else {
			return f, badRequest(fmt.Sprintf("since %q is neither a positive duration (24h) nor an RFC 3339 time", v))
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return f, badRequest(fmt.Sprintf("limit %q is not 0 or a positive number", v))
		}
		f.Limit = n
	}
	return f, nil
}
