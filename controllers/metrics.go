package controllers

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/clientcache"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
)

// clientsDesc is the gauge of OAuth2Clients by condition, for alerts such as "any Stalled" or
// "Ready=False for 15 minutes". It carries no names of resources and no secrets: its cardinality
// grows with the servers (few), not the clients.
var clientsDesc = prometheus.NewDesc(
	"oauth2_client_operator_clients",
	"OAuth2Client resources by authorization server, condition type, status and reason.",
	[]string{"server", "condition", "status", "reason"}, nil,
)

// The rotation gauges, from status.rotation at scrape time, by server and strategy: like the
// conditions gauge, they carry no resource names, so they stay few at any number of clients;
// the resources behind an alert are one kubectl query away (docs/operations.md).
var (
	oldestCredentialsDesc = prometheus.NewDesc(
		"oauth2_client_operator_credentials_oldest_age_seconds",
		"Age of the oldest credentials among the OAuth2Clients with a recorded issue time (status.rotation.credentialsIssuedAt), by server and rotation strategy (none: no spec.rotation).",
		[]string{"server", "strategy"}, nil,
	)
	overdueRotationsDesc = prometheus.NewDesc(
		"oauth2_client_operator_rotations_overdue",
		"OAuth2Clients whose scheduled rotation (status.rotation.nextRotationTime) is more than "+overdueAfter.String()+" past, by server and strategy.",
		[]string{"server", "strategy"}, nil,
	)
)

// overdueAfter is how late a scheduled rotation may be before the gauge counts it: a pass
// carries it out within seconds, unless the server is down or the resource is not Ready.
const overdueAfter = 10 * time.Minute

// conditionCollector computes the gauge from the cache at scrape time, so no reconcile has to
// keep counters in step and the numbers can't drift from the resources.
type conditionCollector struct {
	reader client.Reader
	store  clientcache.Store
}

// RegisterMetrics registers the gauge of OAuth2Clients by condition on controller-runtime's
// registry, served at the manager's metrics endpoint. The collector reads the cached objects
// from store, the informer store behind reader, when there is one (clientcache says why).
func RegisterMetrics(reader client.Reader, store clientcache.Store) error {
	return metrics.Registry.Register(&conditionCollector{reader: reader, store: store})
}

func (c *conditionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- clientsDesc
	ch <- oldestCredentialsDesc
	ch <- overdueRotationsDesc
}

func (c *conditionCollector) Collect(ch chan<- prometheus.Metric) {
	clients, err := clientcache.List(context.Background(), c.reader, c.store)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(clientsDesc, err)
		return
	}
	type key struct{ server, condition, status, reason string }
	counts := map[key]int{}
	ages := rotationAges{now: time.Now()}
	for _, obj := range clients {
		server := DefaultServer
		if k, ok := referencedServer(obj); ok {
			server = k.String()
		}
		ages.add(server, obj)
		for _, t := range []string{v1alpha1.ConditionReady, v1alpha1.ConditionReconciling, v1alpha1.ConditionStalled} {
			if cond := meta.FindStatusCondition(obj.Status.Conditions, t); cond != nil {
				counts[key{server, t, string(cond.Status), cond.Reason}]++
			} else if t == v1alpha1.ConditionReady {
				counts[key{server, t, "Unknown", ""}]++
			}
		}
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(clientsDesc, prometheus.GaugeValue, float64(n), k.server, k.condition, k.status, k.reason)
	}
	ages.collect(ch)
}

// rotationAges gathers the rotation gauges over the resources of one scrape.
type rotationAges struct {
	now     time.Time
	oldest  map[[2]string]time.Duration
	overdue map[[2]string]int
}

func (a *rotationAges) add(server string, obj *v1alpha1.OAuth2Client) {
	st := obj.Status.Rotation
	if st == nil || st.CredentialsIssuedAt == nil {
		return
	}
	if a.oldest == nil {
		a.oldest, a.overdue = map[[2]string]time.Duration{}, map[[2]string]int{}
	}
	strategy := "none"
	if obj.Spec.Rotation != nil {
		strategy = string(obj.Spec.Rotation.Strategy)
	}
	k := [2]string{server, strategy}
	a.oldest[k] = max(a.oldest[k], a.now.Sub(st.CredentialsIssuedAt.Time))
	if _, seen := a.overdue[k]; !seen {
		a.overdue[k] = 0
	}
	if st.NextRotationTime != nil && a.now.Sub(st.NextRotationTime.Time) > overdueAfter {
		a.overdue[k]++
	}
}

func (a *rotationAges) collect(ch chan<- prometheus.Metric) {
	for k, age := range a.oldest {
		ch <- prometheus.MustNewConstMetric(oldestCredentialsDesc, prometheus.GaugeValue, age.Seconds(), k[0], k[1])
		ch <- prometheus.MustNewConstMetric(overdueRotationsDesc, prometheus.GaugeValue, float64(a.overdue[k]), k[0], k[1])
	}
}

// The authorization server's state (ServerState): an alert on the gauge tells of an outage once,
// however many resources wait for it; the counter says why, by cause.
var (
	serverUp = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "oauth2_client_operator_authorization_server_up",
		Help: "Whether the authorization server answered the operator's last call (1) or was unavailable (0); no series before the first call.",
	}, []string{"server"})

	serverErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "oauth2_client_operator_authorization_server_errors_total",
		Help: "Calls to the authorization server that found it unavailable, by cause: unreachable, timeout, unauthorized, server_error.",
	}, []string{"server", "cause"})

	// rotations counts rotations of credentials: success when the server accepted the new
	// credentials, error for a pass that could not finish one (it is retried).
	rotations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "oauth2_client_operator_rotations_total",
		Help: "Credential rotations by server, strategy and result: success (the server accepts the new credentials) or error (a pass could not finish the rotation; it is retried).",
	}, []string{"server", "strategy", "result"})

	registerServerOnce sync.Once
)

// serverCauses are the counter's causes, each with a series from the start so that rate()
// and increase() see the first failure.
var serverCauses = []hydra.Cause{hydra.CauseUnreachable, hydra.CauseTimeout, hydra.CauseUnauthorized, hydra.CauseServerError}

// registerServerMetrics registers the collectors once per process (tests build several
// ServerStates) and starts the counter of each cause of server at zero.
func registerServerMetrics(server string) {
	registerServerOnce.Do(func() {
		for _, c := range []prometheus.Collector{serverUp, serverErrors, rotations} {
			var already prometheus.AlreadyRegisteredError
			if err := metrics.Registry.Register(c); err != nil && !errors.As(err, &already) {
				panic(err)
			}
		}
	})
	for _, cause := range serverCauses {
		serverErrors.WithLabelValues(server, string(cause))
	}
}

// forgetServerMetrics drops the series of a server that no longer exists.
func forgetServerMetrics(server string) {
	serverUp.DeleteLabelValues(server)
	serverErrors.DeletePartialMatch(prometheus.Labels{"server": server})
}
