package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/paperrec/paperrec/live"
)

// latencyBuckets are the request duration histogram's bounds, in seconds:
// from a cached answer (0.1 ms) to the default deadline and past it.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// metrics are the server's Prometheus collectors.
//
// Safe for concurrent use.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec   // route, method, status
	latency  *prometheus.HistogramVec // route, method, status
	inFlight prometheus.Gauge         // every request being served
	atWork   prometheus.Gauge         // /v1 requests holding a place
	shed     prometheus.Counter
	// cacheHits counts answers sent from the answer cache.
	cacheHits prometheus.Counter
	handler   http.Handler // the text exposition of reg
}

// newMetrics registers the server's collectors, the Go runtime's and the
// process's on reg. current gives the service the engine gauges describe.
func newMetrics(reg *prometheus.Registry, current func() *view, status func() live.Status) *metrics {
	labels := []string{"route", "method", "status"}
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "paperrec_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status (499: the client left first, or the answer could not be written)."}, labels),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "paperrec_http_request_duration_seconds",
			Help: "Time to answer an HTTP request, by route pattern, method and status.", Buckets: latencyBuckets}, labels),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "paperrec_http_requests_in_flight",
			Help: "HTTP requests being served now."}),
		atWork: prometheus.NewGauge(prometheus.GaugeOpts{Name: "paperrec_requests_at_work",
			Help: "Requests of the /v1 routes holding one of the MaxInFlight places now."}),
		shed: prometheus.NewCounter(prometheus.CounterOpts{Name: "paperrec_requests_shed_total",
			Help: "Requests answered 503 at once because MaxInFlight requests were at work."}),
		cacheHits: prometheus.NewCounter(prometheus.CounterOpts{Name: "paperrec_answer_cache_hits_total",
			Help: "Lookups answered from the answer cache of the engine version, without computing."}),
	}
	stat := func(f func(v *view) float64) func() float64 {
		return func() float64 {
			if v := current(); v != nil {
				return f(v)
			}
			return 0
		}
	}
	reg.MustRegister(m.requests, m.latency, m.inFlight, m.atWork, m.shed, m.cacheHits,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "paperrec_ready",
			Help: "1 when an engine is loaded and answering, else 0."}, stat(func(*view) float64 { return 1 })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "paperrec_papers",
			Help: "Papers in the engine that answers requests."}, stat(func(v *view) float64 { return float64(v.svc.Len()) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "paperrec_themes",
			Help: "Research themes of the engine that answers requests."}, stat(func(v *view) float64 { return float64(v.svc.Stats().Themes) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "paperrec_engine_build_seconds",
			Help: "Time it took to build (or load from a snapshot) the engine that answers requests."},
			stat(func(v *view) float64 { return v.svc.Stats().Duration.Seconds() })),
		engineCollector{status},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return m
}

// engineCollector reports what the engine serves: the last change applied,
// the change its fit is of, and the SHA-256 of its snapshot (as a label of
// an info metric), read at each scrape. Nothing without a status.
type engineCollector struct{ status func() live.Status }

var (
	engineInfo = prometheus.NewDesc("paperrec_engine_info",
		"The engine that answers requests: 1, labelled with the SHA-256 of the snapshot of its fit (empty before one is saved).",
		[]string{"snapshot_sha256"}, nil)
	engineSeq = prometheus.NewDesc("paperrec_engine_seq",
		"The number of the last change of the corpus that the engine applied.", nil, nil)
	engineFitSeq = prometheus.NewDesc("paperrec_engine_fit_seq",
		"The change the engine's models were fitted as of; changes since were folded in.", nil, nil)
	engineRefitting = prometheus.NewDesc("paperrec_engine_refitting",
		"1 while a refit runs in the background.", nil, nil)
)

func (c engineCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- engineInfo
	ch <- engineSeq
	ch <- engineFitSeq
	ch <- engineRefitting
}

func (c engineCollector) Collect(ch chan<- prometheus.Metric) {
	if c.status == nil {
		return
	}
	st := c.status()
	refitting := 0.0
	if st.Refitting {
		refitting = 1
	}
	ch <- prometheus.MustNewConstMetric(engineInfo, prometheus.GaugeValue, 1, st.Snapshot)
	ch <- prometheus.MustNewConstMetric(engineSeq, prometheus.GaugeValue, float64(st.Seq))
	ch <- prometheus.MustNewConstMetric(engineFitSeq, prometheus.GaugeValue, float64(st.FitSeq))
	ch <- prometheus.MustNewConstMetric(engineRefitting, prometheus.GaugeValue, refitting)
}

// serve answers GET /metrics in the Prometheus text format.
func (m *metrics) serve(c *gin.Context) {
	m.handler.ServeHTTP(c.Writer, c.Request)
}
