package serve

import (
	"context"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/storectl/storectl/pkg/audit"
	"github.com/storectl/storectl/pkg/store"
)

// metrics are the server's Prometheus metrics, on a registry of its own: operations by kind
// and outcome, their durations, failures by reason, stores by phase and the build. No
// label carries a store name, so the series stay bounded however many stores come and go.
type metrics struct {
	reg        *prometheus.Registry
	operations *prometheus.CounterVec
	durations  *prometheus.HistogramVec
	failures   *prometheus.CounterVec
	// requests and latency are the HTTP side, by route pattern (never the path: a store's
	// name is not a label) and status code.
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(version, chartVersion string, f *fleet) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storectl_operations_total",
			Help: "Creates and deletes the server ran, by operation and outcome (succeeded, failed, interrupted).",
		}, []string{"operation", "outcome"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "storectl_operation_duration_seconds",
			Help:    "How long the server's creates and deletes took, whatever their outcome.",
			Buckets: []float64{1, 2, 5, 10, 20, 30, 60, 120, 300, 600},
		}, []string{"operation"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storectl_provision_failures_total",
			Help: "Creates that did not succeed, by reason (ImagePullBackOff, Timeout, LimitReached, ...).",
		}, []string{"reason"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storectl_http_requests_total",
			Help: "HTTP requests answered, by route pattern (such as \"GET /api/stores/{name}\") and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "storectl_http_request_duration_seconds",
			Help:    "How long HTTP requests took to answer, by route pattern; event streams, open for as long as their client listens, are left out.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "storectl_build_info",
		Help: "The storectl build serving, always 1.",
	}, []string{"version", "chart_version", "goversion"})
	if version == "" {
		version = "dev"
	}
	if chartVersion == "" {
		chartVersion = "unknown"
	}
	build.WithLabelValues(version, chartVersion, runtime.Version()).Set(1)
	m.reg.MustRegister(m.operations, m.durations, m.failures, m.requests, m.latency, build, storesCollector{f: f},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, op := range []string{"create", "delete"} {
		for _, oc := range []string{audit.OutcomeSucceeded, audit.OutcomeFailed, audit.OutcomeInterrupted} {
			m.operations.WithLabelValues(op, oc)
		}
	}
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// answered counts one HTTP request. route is the pattern that matched ("" when none did).
func (m *metrics) answered(route string, code int, took time.Duration, stream bool) {
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	if !stream {
		m.latency.WithLabelValues(route).Observe(took.Seconds())
	}
}

// ended counts one operation that ended.
func (m *metrics) ended(action string, err error, took time.Duration) {
	outcome := audit.Outcome(context.Background(), err)
	m.operations.WithLabelValues(action, outcome).Inc()
	m.durations.WithLabelValues(action).Observe(took.Seconds())
	if action == "create" && outcome == audit.OutcomeFailed {
		reason := store.OutcomeReason(err)
		if reason == "" {
			reason = "Unknown"
		}
		m.failures.WithLabelValues(reason).Inc()
	}
}

// storesCollector reports the stores by phase from the shared cache at each scrape.
type storesCollector struct{ f *fleet }

var storesDesc = prometheus.NewDesc("storectl_stores", "Stores in the cluster, by phase.", []string{"phase"}, nil)

// Describe implements prometheus.Collector.
func (c storesCollector) Describe(ch chan<- *prometheus.Desc) { ch <- storesDesc }

// Collect implements prometheus.Collector.
func (c storesCollector) Collect(ch chan<- prometheus.Metric) {
	if !c.f.isSynced() {
		return
	}
	for phase, n := range c.f.counts() {
		ch <- prometheus.MustNewConstMetric(storesDesc, prometheus.GaugeValue, float64(n), string(phase))
	}
}
