// Command manager runs the oauth2-client-operator: it registers OAuth2Client resources as
// clients at Ory Hydra and keeps their credentials in Secrets. It only turns its flags into
// operator.Options; internal/operator does the wiring. `manager migrate` (migrate.go) is the
// converter from ory/hydra-maester, internal/migrate.
package main

import (
	"context"
	"flag"
	"os"
	"strings"

	"github.com/go-logr/logr"
	"go.uber.org/zap/zapcore"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	// Mozilla's root certificates, used only when the system has none, as in the image, which
	// is built FROM scratch (make image) and has no CA bundle: so that a Hydra admin URL with a
	// publicly trusted certificate works without --hydra-ca-file. Embedding them, rather than
	// copying the build host's bundle into the image, keeps the image's digest independent of
	// the host. It adds 150 KB to the 34.7 MB binary (measured); a system bundle, where present,
	// wins.
	_ "golang.org/x/crypto/x509roots/fallback"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/operator"
)

func main() {
	// A subcommand, before the operator's flags are parsed: they don't apply to it.
	if len(os.Args) > 1 && os.Args[1] == "migrate" {
		os.Exit(runMigrate(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	tuneGC()
	opts := parseFlags()
	if err := run(opts); err != nil {
		ctrl.Log.WithName("setup").Error(err, "operator stopped")
		os.Exit(1)
	}
}

// parseFlags reads the operator's flags. Each can also be set with the environment variable in
// brackets in its usage text; a flag given on the command line wins.
func parseFlags() operator.Options {
	o := operator.DefaultOptions()
	var watchNamespaces, clientIDNamespaces, adoptNamespaces string
	fs := flag.CommandLine
	fs.StringVar(&o.HydraAdminURL, "hydra-admin-url", env("HYDRA_ADMIN_URL", ""), "Base URL of Hydra's admin API, such as http://hydra-admin:4445 [HYDRA_ADMIN_URL]")
	fs.StringVar(&o.HydraPublicURL, "hydra-public-url", env("HYDRA_PUBLIC_URL", ""), "Base URL of Hydra's public API (the issuer), for secretTemplate.includeEndpoints [HYDRA_PUBLIC_URL]")
	fs.StringVar(&o.HydraTokenFile, "hydra-admin-token-file", env("HYDRA_ADMIN_TOKEN_FILE", ""), "File with a bearer token for Hydra's admin API, re-read whenever it changes (no restart); never a flag value, so it can't show in the process list [HYDRA_ADMIN_TOKEN_FILE]")
	fs.StringVar(&o.HydraCAFile, "hydra-ca-file", env("HYDRA_CA_FILE", ""), "PEM CA bundle to verify Hydra's TLS certificate, re-read whenever it changes (no restart) [HYDRA_CA_FILE]")
	fs.DurationVar(&o.HydraTimeout, "hydra-timeout", envDuration("HYDRA_TIMEOUT", o.HydraTimeout), "Timeout of one request to Hydra [HYDRA_TIMEOUT]")
	fs.IntVar(&o.HydraMaxIdleConns, "hydra-max-idle-conns", envInt("HYDRA_MAX_IDLE_CONNS", o.HydraMaxIdleConns), "Keep-alive connections kept open to Hydra [HYDRA_MAX_IDLE_CONNS]")
	fs.IntVar(&o.HydraPageSize, "hydra-list-page-size", envInt("HYDRA_LIST_PAGE_SIZE", o.HydraPageSize), "Clients per page when the periodic drift check lists Hydra's clients (Hydra allows up to 1000) [HYDRA_LIST_PAGE_SIZE]")
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", env("METRICS_BIND_ADDRESS", o.MetricsAddr), "Address of the Prometheus metrics endpoint; 0 disables it [METRICS_BIND_ADDRESS]")
	fs.StringVar(&o.PprofAddr, "pprof-bind-address", env("PPROF_BIND_ADDRESS", o.PprofAddr), "Address of Go's /debug/pprof endpoints, for profiling; empty disables them [PPROF_BIND_ADDRESS]")
	fs.StringVar(&o.ProbeAddr, "health-probe-bind-address", env("HEALTH_PROBE_BIND_ADDRESS", o.ProbeAddr), "Address of /healthz and /readyz [HEALTH_PROBE_BIND_ADDRESS]")
	fs.BoolVar(&o.LeaderElect, "leader-elect", envBool("LEADER_ELECT", o.LeaderElect), "Elect a leader among replicas with a Lease named "+operator.LeaderElectionID+" (with a suffix per --watch-label-selector) [LEADER_ELECT]")
	fs.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", env("LEADER_ELECTION_NAMESPACE", ""), "Namespace of the leader-election Lease; default: the pod's namespace [LEADER_ELECTION_NAMESPACE]")
	fs.DurationVar(&o.LeaseDuration, "leader-election-lease-duration", envDuration("LEADER_ELECTION_LEASE_DURATION", o.LeaseDuration), "How long a standby waits before taking over an unrenewed lease [LEADER_ELECTION_LEASE_DURATION]")
	fs.DurationVar(&o.RenewDeadline, "leader-election-renew-deadline", envDuration("LEADER_ELECTION_RENEW_DEADLINE", o.RenewDeadline), "How long the leader keeps trying to renew before it stops working [LEADER_ELECTION_RENEW_DEADLINE]")
	fs.DurationVar(&o.RetryPeriod, "leader-election-retry-period", envDuration("LEADER_ELECTION_RETRY_PERIOD", o.RetryPeriod), "How often candidates try to acquire or renew the lease [LEADER_ELECTION_RETRY_PERIOD]")
	fs.DurationVar(&o.DriftInterval, "drift-interval", envDuration("DRIFT_INTERVAL", o.DriftInterval), "How often the leader lists Hydra's clients to find and repair drift (±10% jitter); 0 or unset: 30s, or --sync-period if that is shorter [DRIFT_INTERVAL]")
	fs.DurationVar(&o.SyncPeriod, "sync-period", envDuration("SYNC_PERIOD", o.SyncPeriod), "How often a resource with a provided Secret re-reads it, and a ClientIDConflict is re-checked (±10% jitter) [SYNC_PERIOD]")
	fs.IntVar(&o.Concurrency, "max-concurrent-reconciles", envInt("MAX_CONCURRENT_RECONCILES", o.Concurrency), "Parallel reconciles, and so parallel requests to Hydra [MAX_CONCURRENT_RECONCILES]")
	fs.Float64Var(&o.KubeQPS, "kube-api-qps", envFloat("KUBE_API_QPS", o.KubeQPS), "Sustained requests per second to the Kubernetes API, per resource type (the API server's priority and fairness still applies) [KUBE_API_QPS]")
	fs.IntVar(&o.KubeBurst, "kube-api-burst", envInt("KUBE_API_BURST", o.KubeBurst), "Burst of requests to the Kubernetes API, per resource type [KUBE_API_BURST]")
	fs.BoolVar(&o.SuccessEvents, "success-events", envBool("SUCCESS_EVENTS", o.SuccessEvents), "Also record a Normal Event for each routine success (Created, Updated, Deleted), at one API request per change and memory the event recorder holds for six minutes; Warnings and the Events of repairs, rotations and takeovers are recorded either way [SUCCESS_EVENTS]")
	fs.StringVar(&o.WatchLabelSelector, "watch-label-selector", env("WATCH_LABEL_SELECTOR", ""), "Shard: reconcile only the OAuth2Clients this label selector matches, such as oauth2.clientoperator.dev/shard=shard1 (and !oauth2.clientoperator.dev/shard for the default shard); each shard elects its own leader; empty: all [WATCH_LABEL_SELECTOR]")
	fs.StringVar(&watchNamespaces, "watch-namespaces", env("WATCH_NAMESPACES", ""), "Comma-separated namespaces to watch; empty: all [WATCH_NAMESPACES]")
	fs.StringVar(&clientIDNamespaces, "client-id-namespaces", env("CLIENT_ID_NAMESPACES", ""), "Comma-separated grants of client IDs beyond a namespace's own prefix \"<namespace>.\" (spec.clientID or a provided Secret): a namespace pattern (any ID) or namespace-pattern=id-pattern; empty: none; * for every namespace, any ID [CLIENT_ID_NAMESPACES]")
	fs.StringVar(&o.OperatorNamespace, "operator-namespace", env("POD_NAMESPACE", ""), "The operator's own namespace, which holds its fingerprint key; default: the pod's namespace, else --leader-election-namespace, else default [POD_NAMESPACE]")
	fs.StringVar(&o.FingerprintKeySecret, "fingerprint-key-secret", env("FINGERPRINT_KEY_SECRET", o.FingerprintKeySecret), "Secret in --operator-namespace with the key of the credentials fingerprints in status; created with a random key if missing [FINGERPRINT_KEY_SECRET]")
	fs.StringVar(&o.ClusterName, "cluster-name", env("CLUSTER_NAME", ""), "This cluster's name in the owner mark of every client it registers, so that clusters sharing an authorization server never take each other's clients: a DNS label, fixed for the cluster's life; default: the UID of the kube-system namespace [CLUSTER_NAME]")
	fs.StringVar(&adoptNamespaces, "adoption-namespaces", env("ADOPTION_NAMESPACES", "*"), "Comma-separated namespaces allowed to adopt existing Hydra clients; * for all [ADOPTION_NAMESPACES]")
	zapOpts := zap.Options{Development: envBool("LOG_DEVELOPMENT", false)}
	zapOpts.BindFlags(fs)
	flag.Parse()
	ctrl.SetLogger(newLogger(zapOpts))
	o.WatchNamespaces = namespaceList(watchNamespaces)
	o.ClientIDRules = clientIDRules(clientIDNamespaces)
	o.AdoptionNamespaces = namespaceList(adoptNamespaces)
	return o
}

// newLogger builds the operator's logger from zap's flags. zap's production default puts a stack
// trace on every error line; a failed reconcile is logged once, as one line with its reason, and
// twenty lines of controller-runtime's frames under it say nothing about the failure. Stack
// traces stay for panics, for --zap-devel, and for an explicit --zap-stacktrace-level.
func newLogger(o zap.Options) logr.Logger {
	if o.StacktraceLevel == nil && !o.Development {
		o.StacktraceLevel = zapcore.PanicLevel
	}
	return zap.New(zap.UseFlagOptions(&o))
}

func run(o operator.Options) error {
	// Before the kubeconfig is looked for: a missing flag is the first thing to report.
	if err := o.Validate(); err != nil {
		return err
	}
	op, err := operator.New(context.Background(), ctrl.GetConfigOrDie(), o)
	if err != nil {
		return err
	}
	return op.Start(ctrl.SetupSignalHandler())
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
