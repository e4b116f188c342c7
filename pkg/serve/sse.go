package serve

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// progressData is the data of an `event: progress`.
type progressData struct {
	Component      string  `json:"component"`
	State          string  `json:"state"`
	Message        string  `json:"message"`
	ElapsedSeconds float64 `json:"elapsedSeconds"`
}

// deletedData is the data of an `event: deleted`.
type deletedData struct {
	Name string `json:"name"`
}

// sseWriter writes Server-Sent Events and flushes each.
type sseWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func startStream(w http.ResponseWriter) *sseWriter {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	sw := &sseWriter{w: w, rc: http.NewResponseController(w)}
	// However long a stream lasts, no read deadline of the server's applies to it.
	_ = sw.rc.SetReadDeadline(time.Time{})
	_ = sw.rc.Flush()
	return sw
}

func (sw *sseWriter) send(kind string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(sw.w, "event: %s\ndata: %s\n\n", kind, data); err != nil {
		return err
	}
	return sw.rc.Flush()
}

func (sw *sseWriter) keepAlive() error {
	if _, err := fmt.Fprint(sw.w, ": keep-alive\n\n"); err != nil {
		return err
	}
	return sw.rc.Flush()
}

// sendEvent writes one event of the fleet.
func (s *Server) sendEvent(sw *sseWriter, ev event) error {
	switch ev.kind {
	case "store":
		return sw.send("store", s.opts.StoreJSON(ev.store))
	case "progress":
		p := ev.progress
		return sw.send("progress", progressData{Component: p.Step, State: p.State, Message: p.Message,
			ElapsedSeconds: float64(p.Elapsed.Milliseconds()) / 1000})
	case "deleted":
		return sw.send("deleted", deletedData{Name: ev.name})
	}
	return nil
}

func (s *Server) handleStoreEvents(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, err := s.lookup(r.Context(), name); err != nil {
		s.writeProblem(w, r, err, name, "get")
		return
	}
	if s.waitSynced(w, r) {
		s.stream(w, r, name)
	}
}

func (s *Server) handleFleetEvents(w http.ResponseWriter, r *http.Request) {
	if !s.waitSynced(w, r) {
		return
	}
	s.stream(w, r, "")
}

// waitSynced holds a stream until the shared cache has its first read, so that the
// snapshot it starts with is complete.
func (s *Server) waitSynced(w http.ResponseWriter, r *http.Request) bool {
	timer := time.NewTimer(30 * time.Second)
	defer timer.Stop()
	select {
	case <-s.fleet.synced:
		return true
	case <-timer.C:
		s.writeProblem(w, r, &requestError{status: http.StatusServiceUnavailable, exitCode: 6, retryAfter: 5,
			detail: "the store cache has not synced with the cluster yet"}, "", "")
	case <-r.Context().Done():
	}
	return false
}

// stream sends the stores it follows as they are, then every change, until the client
// leaves, the server stops, the stream lags too far, or its one store is deleted.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, name string) {
	sub, snapshot := s.fleet.subscribe(name)
	defer s.fleet.unsubscribe(sub)
	sw := startStream(w)
	for _, st := range snapshot {
		if err := sw.send("store", s.opts.StoreJSON(st)); err != nil {
			return
		}
	}
	tick := time.NewTicker(keepAliveInterval)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-sub.gone:
			return
		case <-tick.C:
			if sw.keepAlive() != nil {
				return
			}
		case ev := <-sub.ch:
			if err := s.sendEvent(sw, ev); err != nil {
				return
			}
			if name != "" && ev.kind == "deleted" {
				return
			}
		}
	}
}
