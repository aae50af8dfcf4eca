// Command manager runs the oauth2-client-operator: it registers OAuth2Client resources as
// clients at Ory Hydra and keeps their credentials in Secrets.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/controllers"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/drift"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/secrets"
)

// LeaderElectionID is the fixed name of the Lease that replicas compete for.
const LeaderElectionID = "oauth2-client-operator.clientoperator.dev"

// options are the operator's flags. Each can also be set with the environment variable in
// brackets in its usage text; a flag given on the command line wins.
type options struct {
	hydraAdminURL, hydraPublicURL       string
	hydraTokenFile, hydraCAFile         string
	hydraTimeout                        time.Duration
	hydraMaxIdleConns                   int
	hydraPageSize                       int
	metricsAddr, probeAddr, pprofAddr   string
	leaderElect                         bool
	leaderElectionNamespace             string
	leaseDuration, renewDeadline, retry time.Duration
	syncPeriod                          time.Duration
	concurrency                         int
	kubeQPS                             float64
	kubeBurst                           int
	watchNamespaces                     string
	clientIDNamespaces, adoptNamespaces string
	operatorNamespace                   string
	fingerprintKeySecret                string
	caBundle                            []byte // the contents of hydraCAFile
}

// discoveryWait is how long the operator tries at start to read Hydra's discovery document
// before it falls back to the standard paths: long enough for Hydra starting beside it.
const discoveryWait = 5 * time.Second

func main() {
	tuneGC()
	opts := parseFlags()
	if err := run(opts); err != nil {
		ctrl.Log.WithName("setup").Error(err, "operator stopped")
		os.Exit(1)
	}
}

func parseFlags() options {
	var o options
	fs := flag.CommandLine
	fs.StringVar(&o.hydraAdminURL, "hydra-admin-url", env("HYDRA_ADMIN_URL", ""), "Base URL of Hydra's admin API, such as http://hydra-admin:4445 [HYDRA_ADMIN_URL]")
	fs.StringVar(&o.hydraPublicURL, "hydra-public-url", env("HYDRA_PUBLIC_URL", ""), "Base URL of Hydra's public API (the issuer), for secretTemplate.includeEndpoints [HYDRA_PUBLIC_URL]")
	fs.StringVar(&o.hydraTokenFile, "hydra-admin-token-file", env("HYDRA_ADMIN_TOKEN_FILE", ""), "File with a bearer token for Hydra's admin API (re-read at start; never a flag value, so it can't show in the process list) [HYDRA_ADMIN_TOKEN_FILE]")
	fs.StringVar(&o.hydraCAFile, "hydra-ca-file", env("HYDRA_CA_FILE", ""), "PEM CA bundle to verify Hydra's TLS certificate [HYDRA_CA_FILE]")
	fs.DurationVar(&o.hydraTimeout, "hydra-timeout", envDuration("HYDRA_TIMEOUT", 10*time.Second), "Timeout of one request to Hydra [HYDRA_TIMEOUT]")
	fs.IntVar(&o.hydraMaxIdleConns, "hydra-max-idle-conns", envInt("HYDRA_MAX_IDLE_CONNS", 16), "Keep-alive connections kept open to Hydra [HYDRA_MAX_IDLE_CONNS]")
	fs.IntVar(&o.hydraPageSize, "hydra-list-page-size", envInt("HYDRA_LIST_PAGE_SIZE", 500), "Clients per page when the periodic drift check lists Hydra's clients (Hydra allows up to 1000) [HYDRA_LIST_PAGE_SIZE]")
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", env("METRICS_BIND_ADDRESS", ":8080"), "Address of the Prometheus metrics endpoint; 0 disables it [METRICS_BIND_ADDRESS]")
	fs.StringVar(&o.pprofAddr, "pprof-bind-address", env("PPROF_BIND_ADDRESS", ""), "Address of Go's /debug/pprof endpoints, for profiling; empty disables them [PPROF_BIND_ADDRESS]")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", env("HEALTH_PROBE_BIND_ADDRESS", ":8081"), "Address of /healthz and /readyz [HEALTH_PROBE_BIND_ADDRESS]")
	fs.BoolVar(&o.leaderElect, "leader-elect", envBool("LEADER_ELECT", false), "Elect a leader among replicas with a Lease named "+LeaderElectionID+" [LEADER_ELECT]")
	fs.StringVar(&o.leaderElectionNamespace, "leader-election-namespace", env("LEADER_ELECTION_NAMESPACE", ""), "Namespace of the leader-election Lease; default: the pod's namespace [LEADER_ELECTION_NAMESPACE]")
	fs.DurationVar(&o.leaseDuration, "leader-election-lease-duration", envDuration("LEADER_ELECTION_LEASE_DURATION", 15*time.Second), "How long a standby waits before taking over an unrenewed lease [LEADER_ELECTION_LEASE_DURATION]")
	fs.DurationVar(&o.renewDeadline, "leader-election-renew-deadline", envDuration("LEADER_ELECTION_RENEW_DEADLINE", 10*time.Second), "How long the leader keeps trying to renew before it stops working [LEADER_ELECTION_RENEW_DEADLINE]")
	fs.DurationVar(&o.retry, "leader-election-retry-period", envDuration("LEADER_ELECTION_RETRY_PERIOD", 2*time.Second), "How often candidates try to acquire or renew the lease [LEADER_ELECTION_RETRY_PERIOD]")
	fs.DurationVar(&o.syncPeriod, "sync-period", envDuration("SYNC_PERIOD", 10*time.Minute), "How often each Ready client is compared with Hydra again to repair drift (±10% jitter) [SYNC_PERIOD]")
	fs.IntVar(&o.concurrency, "max-concurrent-reconciles", envInt("MAX_CONCURRENT_RECONCILES", 4), "Parallel reconciles, and so parallel requests to Hydra [MAX_CONCURRENT_RECONCILES]")
	fs.Float64Var(&o.kubeQPS, "kube-api-qps", envFloat("KUBE_API_QPS", 200), "Sustained requests per second to the Kubernetes API, per resource type (the API server's priority and fairness still applies) [KUBE_API_QPS]")
	fs.IntVar(&o.kubeBurst, "kube-api-burst", envInt("KUBE_API_BURST", 400), "Burst of requests to the Kubernetes API, per resource type [KUBE_API_BURST]")
	fs.StringVar(&o.watchNamespaces, "watch-namespaces", env("WATCH_NAMESPACES", ""), "Comma-separated namespaces to watch; empty: all [WATCH_NAMESPACES]")
	fs.StringVar(&o.clientIDNamespaces, "client-id-namespaces", env("CLIENT_ID_NAMESPACES", ""), "Comma-separated grants of client IDs beyond a namespace's own prefix \"<namespace>.\" (spec.clientID or a provided Secret): a namespace pattern (any ID) or namespace-pattern=id-pattern; empty: none; * for every namespace, any ID [CLIENT_ID_NAMESPACES]")
	fs.StringVar(&o.operatorNamespace, "operator-namespace", env("POD_NAMESPACE", ""), "The operator's own namespace, which holds its fingerprint key; default: the pod's namespace, else --leader-election-namespace, else default [POD_NAMESPACE]")
	fs.StringVar(&o.fingerprintKeySecret, "fingerprint-key-secret", env("FINGERPRINT_KEY_SECRET", "oauth2-client-operator-fingerprint-key"), "Secret in --operator-namespace with the key of the credentials fingerprints in status; created with a random key if missing [FINGERPRINT_KEY_SECRET]")
	fs.StringVar(&o.adoptNamespaces, "adoption-namespaces", env("ADOPTION_NAMESPACES", "*"), "Comma-separated namespaces allowed to adopt existing Hydra clients; * for all [ADOPTION_NAMESPACES]")
	zapOpts := zap.Options{Development: envBool("LOG_DEVELOPMENT", false)}
	zapOpts.BindFlags(fs)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	return o
}

func run(o options) error {
	log := ctrl.Log.WithName("setup")
	if o.hydraAdminURL == "" {
		return fmt.Errorf("--hydra-admin-url (or HYDRA_ADMIN_URL) is required")
	}
	if o.hydraCAFile != "" {
		ca, err := os.ReadFile(o.hydraCAFile)
		if err != nil {
			return fmt.Errorf("reading --hydra-ca-file: %w", err)
		}
		o.caBundle = ca
	}
	hydraClient, err := newHydraClient(o)
	if err != nil {
		return err
	}

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))

	restConfig := ctrl.GetConfigOrDie()
	restConfig.QPS, restConfig.Burst = float32(o.kubeQPS), o.kubeBurst
	restConfig.UserAgent = "oauth2-client-operator"
	// Before the write fence wraps the config: every replica reads (or the first creates) the
	// key before it competes for the lease.
	fingerprintKey, err := loadFingerprintKey(restConfig, scheme, operatorNamespace(o), o.fingerprintKeySecret)
	if err != nil {
		return err
	}
	fence := &leaseFence{enabled: o.leaderElect, window: o.renewDeadline}
	electionConfig := rest.CopyConfig(restConfig)
	electionConfig.Wrap(fence.observe)
	restConfig.Wrap(fence.guard)
	hydraClient = fencedHydra{Client: hydraClient, fence: fence}

	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:                        scheme,
		Cache:                         cacheOptions(o),
		Metrics:                       metricsserver.Options{BindAddress: o.metricsAddr},
		HealthProbeBindAddress:        o.probeAddr,
		PprofBindAddress:              o.pprofAddr,
		LeaderElection:                o.leaderElect,
		LeaderElectionID:              LeaderElectionID,
		LeaderElectionNamespace:       o.leaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		LeaderElectionConfig:          electionConfig,
		LeaseDuration:                 &o.leaseDuration,
		RenewDeadline:                 &o.renewDeadline,
		RetryPeriod:                   &o.retry,
		Client:                        client.Options{Cache: &client.CacheOptions{Unstructured: false}},
	})
	if err != nil {
		return fmt.Errorf("creating manager: %w", err)
	}
	driftQueue := make(chan event.GenericEvent, 1024)
	scanner := drift.New(drift.Options{
		Reader: mgr.GetClient(), Store: oauth2ClientStore(mgr),
		Hydra: hydraClient, Queue: driftQueue,
		Interval: o.syncPeriod, PageSize: o.hydraPageSize, StartupGrace: time.Minute,
	})
	if err := mgr.Add(scanner); err != nil {
		return err
	}
	reconciler := &controllers.OAuth2ClientReconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Scheme:                  mgr.GetScheme(),
		Hydra:                   hydraClient,
		Recorder:                mgr.GetEventRecorder("oauth2-client-operator"),
		SyncPeriod:              o.syncPeriod,
		Endpoints:               publicEndpoints(o),
		Policy:                  controllers.NamespacePolicy{ClientIDRules: clientIDRules(o.clientIDNamespaces), AdoptionNamespaces: namespaceList(o.adoptNamespaces)},
		FingerprintKey:          fingerprintKey,
		MaxConcurrentReconciles: o.concurrency,
		Drift:                   scanner,
		DriftQueue:              driftQueue,
	}
	if err := reconciler.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the controller: %w", err)
	}
	if err := controllers.RegisterMetrics(mgr.GetClient()); err != nil {
		return fmt.Errorf("registering metrics: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	log.Info("Starting operator", "hydraAdminURL", hydra.RedactURL(o.hydraAdminURL), "watchNamespaces", o.watchNamespaces, "syncPeriod", o.syncPeriod.String())
	return mgr.Start(ctrl.SetupSignalHandler())
}

// oauth2ClientStore is the informer store that holds the cached OAuth2Clients, for the drift
// scan to read without copying them; nil (the scan then lists) where the cache has no single
// store, as with several watched namespaces.
func oauth2ClientStore(mgr ctrl.Manager) interface{ List() []any } {
	informer, err := mgr.GetCache().GetInformer(context.Background(), &v1alpha1.OAuth2Client{})
	if err != nil {
		return nil
	}
	if shared, ok := informer.(toolscache.SharedIndexInformer); ok {
		return shared.GetStore()
	}
	return nil
}

// cacheOptions caches only the Secrets the operator manages (selected by label), so memory does
// not grow with the Secrets of the rest of the cluster, and limits every cache to the watched
// namespaces when there is a list.
func cacheOptions(o options) cache.Options {
	managed := labels.SelectorFromSet(labels.Set{v1alpha1.ManagedByLabel: v1alpha1.ManagedByValue})
	opts := cache.Options{
		ByObject:         map[client.Object]cache.ByObject{&corev1.Secret{}: {Label: managed}},
		DefaultTransform: slimForCache,
	}
	if ns := namespaceList(o.watchNamespaces); len(ns) > 0 {
		opts.DefaultNamespaces = map[string]cache.Config{}
		for _, n := range ns {
			opts.DefaultNamespaces[n] = cache.Config{}
		}
	}
	return opts
}

// slimForCache drops what the operator never reads from objects before they enter the cache:
// managedFields, often the largest part of an object, and the copy of the whole manifest that
// client-side `kubectl apply` keeps in an annotation. Nothing is written back from these
// copies except through patches computed between two of them, so the dropped fields are never
// touched at the API server.
func slimForCache(in any) (any, error) {
	if obj, err := meta.Accessor(in); err == nil {
		if obj.GetManagedFields() != nil {
			obj.SetManagedFields(nil)
		}
		if a := obj.GetAnnotations(); a != nil {
			if _, ok := a[corev1.LastAppliedConfigAnnotation]; ok {
				delete(a, corev1.LastAppliedConfigAnnotation)
				obj.SetAnnotations(a)
			}
		}
	}
	return in, nil
}

// publicEndpoints are the URLs secretTemplate.includeEndpoints puts into Secrets: those Hydra's
// discovery document advertises, or, when it cannot be read at start (Hydra not up yet), the
// standard paths under --hydra-public-url, which are Hydra's own when the issuer is that URL.
func publicEndpoints(o options) secrets.Endpoints {
	if o.hydraPublicURL == "" {
		return secrets.Endpoints{}
	}
	log := ctrl.Log.WithName("setup")
	var found hydra.PublicEndpoints
	err := wait.PollUntilContextTimeout(context.Background(), time.Second, discoveryWait, true, func(ctx context.Context) (bool, error) {
		ep, err := hydra.Discover(ctx, o.hydraPublicURL, hydra.Options{Timeout: o.hydraTimeout, CABundle: o.caBundle})
		found = ep
		return err == nil, nil
	})
	if err != nil {
		log.Info("Hydra's discovery document could not be read; using the standard paths under --hydra-public-url", "publicURL", o.hydraPublicURL)
		return secrets.EndpointsFromPublicURL(o.hydraPublicURL)
	}
	log.Info("Read Hydra's discovery document", "issuer", found.Issuer)
	return secrets.Endpoints{Issuer: found.Issuer, Token: found.Token, Authorization: found.Authorization, JWKS: found.JWKS}
}

func newHydraClient(o options) (hydra.Client, error) {
	hopts := hydra.Options{AdminURL: o.hydraAdminURL, Timeout: o.hydraTimeout, MaxIdleConnsPerHost: o.hydraMaxIdleConns, UserAgent: "oauth2-client-operator", CABundle: o.caBundle}
	if o.hydraTokenFile != "" {
		token, err := os.ReadFile(o.hydraTokenFile)
		if err != nil {
			return nil, fmt.Errorf("reading --hydra-admin-token-file: %w", err)
		}
		hopts.BearerToken = strings.TrimSpace(string(token))
	}
	return hydra.New(hopts)
}

// clientIDRules parses --client-id-namespaces: comma-separated grants, each kept as written
// ("*" is a pattern that matches every namespace); empty grants nothing.
func clientIDRules(s string) []string {
	var out []string
	for _, rule := range strings.Split(s, ",") {
		if rule = strings.TrimSpace(rule); rule != "" {
			out = append(out, rule)
		}
	}
	return out
}

// namespaceList parses a comma-separated list; empty or * means no restriction (nil).
func namespaceList(s string) []string {
	var out []string
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		if n == "*" {
			return nil
		}
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}
