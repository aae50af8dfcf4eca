// Package operator wires the oauth2-client-operator together: the manager and its cache, the
// leader-election write fence, the Hydra client, the fingerprint key, the reconciler, the drift
// scanner, metrics and health checks. cmd/ turns flags into Options and runs it; the
// integration suite runs the same wiring with its own Options, so what it tests is what ships.
package operator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/controllers"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/clientcache"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/drift"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
)

// LeaderElectionID is the fixed name of the Lease that replicas compete for.
const LeaderElectionID = "oauth2-client-operator.clientoperator.dev"

// Options configure the operator. The first group are the flags of cmd/ (named in brackets,
// where they are documented); the rest are for tests and embedders and are unset in cmd/.
// Start from DefaultOptions: a zero value means zero (a QPS of 0 is client-go's 5 per second).
type Options struct {
	HydraAdminURL           string        // --hydra-admin-url; required
	HydraPublicURL          string        // --hydra-public-url
	HydraTokenFile          string        // --hydra-admin-token-file
	HydraCAFile             string        // --hydra-ca-file
	HydraTimeout            time.Duration // --hydra-timeout
	HydraMaxIdleConns       int           // --hydra-max-idle-conns
	HydraPageSize           int           // --hydra-list-page-size
	MetricsAddr             string        // --metrics-bind-address; "0" disables
	ProbeAddr               string        // --health-probe-bind-address; "0" disables
	PprofAddr               string        // --pprof-bind-address; empty disables
	LeaderElect             bool          // --leader-elect
	LeaderElectionNamespace string        // --leader-election-namespace
	LeaseDuration           time.Duration // --leader-election-lease-duration
	RenewDeadline           time.Duration // --leader-election-renew-deadline
	RetryPeriod             time.Duration // --leader-election-retry-period
	SyncPeriod              time.Duration // --sync-period
	DriftInterval           time.Duration // --drift-interval; 0: see DriftScanInterval
	Concurrency             int           // --max-concurrent-reconciles
	KubeQPS                 float64       // --kube-api-qps
	KubeBurst               int           // --kube-api-burst
	WatchNamespaces         []string      // --watch-namespaces; nil: all
	ClientIDRules           []string      // --client-id-namespaces
	AdoptionNamespaces      []string      // --adoption-namespaces; nil: all
	OperatorNamespace       string        // --operator-namespace
	FingerprintKeySecret    string        // --fingerprint-key-secret
	ClusterName             string        // --cluster-name; empty: kube-system's UID
	WatchLabelSelector      string        // --watch-label-selector; empty: every OAuth2Client
	SuccessEvents           bool          // --success-events

	// StartupGrace is how long a started operator waits for the first drift scan before it
	// reads Ready clients one by one; a minute in cmd/.
	StartupGrace time.Duration
	// FingerprintKey, when set, is used instead of the key in FingerprintKeySecret, which is then
	// neither read nor created.
	FingerprintKey []byte
	// WrapHydra, when set, wraps the Hydra client that the reconciler and the drift scanner
	// share, inside the write fence: a test counts the calls the operator makes with it.
	WrapHydra func(hydra.Client) hydra.Client
	// ServerCheckInterval is how often AuthorizationServers and ClusterAuthorizationServers are
	// checked again; zero means controllers.DefaultServerCheckInterval. Tests shorten it.
	ServerCheckInterval time.Duration
	// EditCache, when set, changes the manager's cache options after the operator set its own:
	// a test hides a namespace from the manager to drive a reconciler of its own there.
	EditCache func(*cache.Options)
}

// DefaultDriftInterval is how often the drift scan runs unless --drift-interval (or a shorter
// --sync-period) says otherwise. A change made at Hydra behind the operator's back is found by
// the next scan, at most 33 s later with the ±10% jitter, and repaired by the reconcile that
// scan queues, so drift is repaired within a minute. A scan costs ceil(clients ÷ page size)
// list requests and no write; at 10,000 clients 20 requests every 30 s and about 3.5% of one
// core (docs/performance.md).
const DefaultDriftInterval = 30 * time.Second

// DefaultOptions are the defaults of cmd/'s flags. DriftInterval stays 0: its default depends
// on SyncPeriod (DriftScanInterval).
func DefaultOptions() Options {
	return Options{
		HydraTimeout:         10 * time.Second,
		HydraMaxIdleConns:    16,
		HydraPageSize:        500,
		MetricsAddr:          ":8080",
		ProbeAddr:            ":8081",
		LeaseDuration:        15 * time.Second,
		RenewDeadline:        10 * time.Second,
		RetryPeriod:          2 * time.Second,
		SyncPeriod:           10 * time.Minute,
		Concurrency:          4,
		KubeQPS:              200,
		KubeBurst:            400,
		FingerprintKeySecret: "oauth2-client-operator-fingerprint-key",
		StartupGrace:         time.Minute,
	}
}

// DriftScanInterval is the interval of the drift scan: DriftInterval when set; else
// DefaultDriftInterval, or SyncPeriod when that is shorter. Before --drift-interval existed,
// --sync-period set both the per-resource resync and the scan, so an installation that lowered
// it to repair drift sooner keeps scanning as often, and one that raised it to spare Hydra
// still gets repairs within a minute: a scan is a few list requests, unlike a resync.
func (o Options) DriftScanInterval() time.Duration {
	if o.DriftInterval > 0 {
		return o.DriftInterval
	}
	if o.SyncPeriod > 0 && o.SyncPeriod < DefaultDriftInterval {
		return o.SyncPeriod
	}
	return DefaultDriftInterval
}

// Validate reports options the operator can't start with.
func (o Options) Validate() error {
	if o.HydraAdminURL == "" {
		return errors.New("--hydra-admin-url (or HYDRA_ADMIN_URL) is required")
	}
	if _, err := shardSelector(o.WatchLabelSelector); err != nil {
		return err
	}
	return nil
}

// Operator is a wired manager, ready to start.
type Operator struct {
	mgr  ctrl.Manager
	opts Options
	// clusterName is the resolved --cluster-name.
	clusterName string
}

// New builds the operator for the cluster of cfg, which it copies rather than changes. It reads
// the Hydra token and CA files (and again whenever they change), the fingerprint key (creating it the first time) and Hydra's
// discovery document (up to discoveryWait, then the standard paths); ctx bounds those reads.
func New(ctx context.Context, cfg *rest.Config, o Options) (*Operator, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	// The fence guards Hydra at its transport, the last step before a request leaves the
	// process, so that the window between the check and the write is as short as it can be.
	fence := &leaseFence{enabled: o.LeaderElect, window: o.RenewDeadline}
	hydraClient, err := newHydraClient(o, fence)
	if err != nil {
		return nil, err
	}
	if o.WrapHydra != nil {
		hydraClient = o.WrapHydra(hydraClient)
	}
	// One state for the reconciler and the drift scanner: the scanner's list calls tell of an
	// outage (or the end of one) even when no resource has a pass.
	hydraClient = controllers.NewServerState(controllers.DefaultServer).Observe(hydraClient)

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))

	restConfig := rest.CopyConfig(cfg)
	restConfig.QPS, restConfig.Burst = float32(o.KubeQPS), o.KubeBurst
	restConfig.UserAgent = "oauth2-client-operator"
	// Before the write fence wraps the config: every replica reads (or the first creates) the
	// key before it competes for the lease.
	fingerprintKey := o.FingerprintKey
	if len(fingerprintKey) == 0 {
		if fingerprintKey, err = loadFingerprintKey(ctx, restConfig, scheme, operatorNamespace(o), o.FingerprintKeySecret); err != nil {
			return nil, err
		}
	}
	clusterName, err := installation(ctx, restConfig, o)
	if err != nil {
		return nil, err
	}
	electionConfig := rest.CopyConfig(restConfig)
	electionConfig.Wrap(fence.observe)
	restConfig.Wrap(fence.guard)
	restConfig.Dial = fence.dial((&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext)

	shard, _ := shardSelector(o.WatchLabelSelector) // checked by Validate
	cacheOpts := cacheOptions(o.WatchNamespaces, shard)
	if o.EditCache != nil {
		o.EditCache(&cacheOpts)
	}
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:                        scheme,
		Cache:                         cacheOpts,
		Metrics:                       metricsserver.Options{BindAddress: o.MetricsAddr},
		HealthProbeBindAddress:        o.ProbeAddr,
		PprofBindAddress:              o.PprofAddr,
		LeaderElection:                o.LeaderElect,
		LeaderElectionID:              leaderElectionID(shard),
		LeaderElectionNamespace:       o.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		LeaderElectionConfig:          electionConfig,
		LeaseDuration:                 &o.LeaseDuration,
		RenewDeadline:                 &o.RenewDeadline,
		RetryPeriod:                   &o.RetryPeriod,
		Client:                        client.Options{Cache: &client.CacheOptions{Unstructured: false}},
	})
	if err != nil {
		return nil, fmt.Errorf("creating manager: %w", err)
	}
	driftQueue := make(chan event.GenericEvent, 1024)
	store := clientcache.StoreOf(ctx, mgr.GetCache())
	newScanner := func(server string, c hydra.Client, selects func(*v1alpha1.OAuth2Client) bool) *drift.Scanner {
		return drift.New(drift.Options{
			Reader: mgr.GetClient(), Store: store, Hydra: c, Queue: driftQueue, Installation: clusterName,
			Interval: o.DriftScanInterval(), PageSize: o.HydraPageSize, StartupGrace: o.StartupGrace,
			Selects: selects, Server: server,
		})
	}
	scanner := newScanner(controllers.DefaultServer, hydraClient, func(obj *v1alpha1.OAuth2Client) bool { return obj.Spec.AuthorizationServerRef == nil })
	if err := mgr.Add(scanner); err != nil {
		return nil, err
	}
	// The servers of AuthorizationServer objects, each with a scanner of its own, started and
	// stopped with the server; like the default one, they scan only while this replica leads.
	scanners := &leaderTasks{}
	if err := mgr.Add(scanners); err != nil {
		return nil, err
	}
	directory := &controllers.ServerDirectory{
		WrapTransport: fence.guard, WrapConn: fence.conn, Workers: o.Concurrency,
		StartScanner: func(s *controllers.Server, selects func(*v1alpha1.OAuth2Client) bool) (controllers.DriftVerdicts, func()) {
			sc := newScanner(s.Name, s.Hydra, selects)
			return sc, scanners.run(sc.Start)
		},
	}
	serverKinds := servedServerKinds(mgr, o)
	reconciler := &controllers.OAuth2ClientReconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Scheme:                  mgr.GetScheme(),
		Hydra:                   hydraClient,
		Recorder:                mgr.GetEventRecorder("oauth2-client-operator"),
		QuietSuccess:            !o.SuccessEvents,
		SyncPeriod:              o.SyncPeriod,
		Endpoints:               publicEndpoints(ctx, o.HydraPublicURL, hydra.Options{Timeout: o.HydraTimeout, CAFile: o.HydraCAFile, Log: hydraLog()}),
		Policy:                  controllers.NamespacePolicy{ClientIDRules: o.ClientIDRules, AdoptionNamespaces: o.AdoptionNamespaces},
		FingerprintKey:          fingerprintKey,
		Installation:            clusterName,
		MaxConcurrentReconciles: o.Concurrency,
		Drift:                   scanner,
		DriftQueue:              driftQueue,
		Servers:                 directory,
		ServerKinds:             serverKinds,
	}
	if err := reconciler.SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("setting up the controller: %w", err)
	}
	if err := setupServerHealth(mgr, o, serverKinds, directory); err != nil {
		return nil, err
	}
	if err := controllers.RegisterMetrics(mgr.GetClient(), store); err != nil {
		return nil, fmt.Errorf("registering metrics: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return nil, err
	}
	return &Operator{mgr: mgr, opts: o, clusterName: clusterName}, nil
}

// Start runs the operator until ctx ends.
func (op *Operator) Start(ctx context.Context) error {
	ctrl.Log.WithName("setup").Info("Starting operator", "hydraAdminURL", hydra.RedactURL(op.opts.HydraAdminURL), "clusterName", op.clusterName,
		"watchNamespaces", strings.Join(op.opts.WatchNamespaces, ","), "watchLabelSelector", op.opts.WatchLabelSelector, "syncPeriod", op.opts.SyncPeriod.String(),
		"driftInterval", op.opts.DriftScanInterval().String(), "hydraListPageSize", op.opts.HydraPageSize)
	return op.mgr.Start(ctx)
}

// newHydraClient is the client of Hydra's admin API. It reads the token and CA files now, so
// that a wrong path fails the start, and again whenever they change: the kubelet updates a
// mounted Secret in place, and a rotated token or CA takes effect without a restart.
func newHydraClient(o Options, fence *leaseFence) (hydra.Client, error) {
	c, err := hydra.New(hydra.Options{AdminURL: o.HydraAdminURL, Timeout: o.HydraTimeout, MaxIdleConnsPerHost: o.HydraMaxIdleConns,
		UserAgent: "oauth2-client-operator", BearerTokenFile: o.HydraTokenFile, CAFile: o.HydraCAFile,
		WrapTransport: fence.guard, WrapConn: fence.conn, Log: hydraLog()})
	if err != nil {
		return nil, fmt.Errorf("hydra client (--hydra-admin-url, --hydra-admin-token-file, --hydra-ca-file): %w", err)
	}
	return c, nil
}

// hydraLog is where the Hydra client reports re-reading the token and CA files.
func hydraLog() logr.Logger { return ctrl.Log.WithName("hydra") }
