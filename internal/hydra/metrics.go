package hydra

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Request metrics let operators tell a slow or failing Hydra apart from a slow operator, and
// show how much load reconciliation puts on Hydra. They are served by controller-runtime's
// metrics endpoint together with the reconciler's own metrics.
var (
	requestsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "oauth2_client_operator_hydra_requests_total",
		Help: "Requests to Hydra's admin API, by authorization server, operation and HTTP status code (error when no answer arrived).",
	}, []string{"server", "operation", "code"})

	requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "oauth2_client_operator_hydra_request_duration_seconds",
		Help:    "Duration of requests to Hydra's admin API, by authorization server, operation and HTTP status code (error when no answer arrived).",
		Buckets: prometheus.DefBuckets,
	}, []string{"server", "operation", "code"})

	registerOnce sync.Once
)

// registerMetrics registers the collectors on first use. Tests and the manager may build
// several clients in one process; a collector registered by an earlier copy of the package
// (as in some test set-ups) is tolerated rather than a panic.
func registerMetrics() {
	registerOnce.Do(func() {
		for _, c := range []prometheus.Collector{requestsTotal, requestDuration} {
			var already prometheus.AlreadyRegisteredError
			if err := metrics.Registry.Register(c); err != nil && !errors.As(err, &already) {
				panic(err)
			}
		}
	})
}

func observe(server, op string, resp *http.Response, d time.Duration) {
	code := statusLabel(resp)
	requestsTotal.WithLabelValues(server, op, code).Inc()
	// By code too: a timeout (error) or a refusal is far slower or faster than a success, and
	// mixing them would hide both in the latency of the operation.
	requestDuration.WithLabelValues(server, op, code).Observe(d.Seconds())
}

// ForgetServer drops the request metrics of a server that no longer exists, so that a
// deleted server object leaves no series behind.
func ForgetServer(server string) {
	requestsTotal.DeletePartialMatch(prometheus.Labels{"server": server})
	requestDuration.DeletePartialMatch(prometheus.Labels{"server": server})
}
