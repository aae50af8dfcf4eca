package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client/config"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/migrate"
)

// Exit statuses of `manager migrate`.
const (
	exitConverted = 0 // every resource was converted
	exitError     = 1 // bad flags, unreadable input, cluster unreachable
	exitRefused   = 2 // at least one resource was refused; the others were written
)

const migrateUsage = `Usage: manager migrate [flags]

Converts ory/hydra-maester's OAuth2Client resources (hydra.ory.sh/v1alpha1) into this
operator's (oauth2.clientoperator.dev/v1alpha1). Each keeps its name, namespace, Secret and
Secret key names, waits for that Secret (requireExistingSecret) instead of writing new
credentials, and takes over hydra-maester's Hydra client (adoptFrom: HydraMaester). The
runbook is docs/migrate-from-hydra-maester.md.

Input, exactly one of:
  -f, --filename PATH     a file, a directory (its *.yaml, *.yml, *.json; not recursive) or -
                          for stdin; repeatable. Multi-document YAML and lists (kubectl get
                          -o yaml) are read; other kinds are ignored and counted
  -n, --namespace NS      list them in a namespace of the cluster
  -A, --all-namespaces    list them in every namespace
  Cluster access: --kubeconfig, else $KUBECONFIG, else in-cluster, else ~/.kube/config. Only
  hydra.ory.sh oauth2clients are read; Secrets never are.

Output: multi-document YAML on stdout, or with --output-dir DIR one file per resource at
DIR/<namespace>/<name>.yaml. The report goes to stderr: one block per resource (mappings
worth knowing, and what to do, such as annotating the Secret so the new resource may use it,
or why it was refused), then "N converted, M refused, K other documents ignored".
Our CRD is stricter than hydra-maester's in places (redirect URIs, grant and response type
combinations): check the output with kubectl apply --server-side --dry-run=server -f.

Refused (reported, not converted): spec.hydraAdmin set (another Hydra); fields our API
has no place for (requestUris, requestObjectSigningAlg, sectorIdentifierUri,
tokenEndpointAuthSigningAlg, userinfoSignedResponseAlg, clientSecretExpiresAt) unless
--drop-unsupported; unknown spec fields; no secretName; a deletionPolicy other than
delete or orphan.

Exit status: 0 all converted; 2 at least one refused (the others are still written);
1 an error (bad flags, unreadable input, cluster unreachable).

Flags:
`

// migrateFlags are the parsed flags of `manager migrate`.
type migrateFlags struct {
	files         []string
	namespace     string
	allNamespaces bool
	kubeconfig    string
	outputDir     string
	dryRun        bool
	opts          migrate.Options
}

// newDynamicClient builds the cluster client; tests replace it with a fake.
var newDynamicClient = func(kubeconfig string) (dynamic.Interface, error) {
	cfg, err := restConfig(kubeconfig)
	if err != nil {
		return nil, err
	}
	return dynamic.NewForConfig(cfg)
}

// restConfig finds the cluster as controller-runtime's config.GetConfig does, with --kubeconfig
// first: the subcommand has its own flag set, so controller-runtime's --kubeconfig flag is not
// parsed here.
func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		return clientcmd.BuildConfigFromFlags("", kubeconfig)
	}
	return config.GetConfig()
}

// runMigrate is `manager migrate`: it returns the exit status, so that tests can call it.
func runMigrate(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	f, err := parseMigrateFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitConverted
	}
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "migrate: %v\nRun manager migrate --help for usage.\n", err)
		return exitError
	}
	in, err := readInput(f, stdin)
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "migrate: %v\n", err)
		return exitError
	}
	clients, results := migrate.ConvertAll(in, f.opts)
	report := stderr
	switch {
	case f.dryRun:
		report = stdout
	case f.outputDir != "":
		err = migrate.WriteDir(f.outputDir, clients)
	default:
		err = migrate.WriteStream(stdout, clients)
	}
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "migrate: writing manifests: %v\n", err)
		return exitError
	}
	if err := migrate.WriteReport(report, results, in.Ignored); err != nil {
		return exitError
	}
	for _, r := range results {
		if r.Refused() {
			return exitRefused
		}
	}
	return exitConverted
}

// parseMigrateFlags parses and checks the flags: exactly one input mode, no stray arguments.
func parseMigrateFlags(args []string, stderr io.Writer) (migrateFlags, error) {
	var f migrateFlags
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { printMigrateUsage(fs, stderr) }
	addFile := func(p string) error {
		if p == "" {
			return errors.New("empty path")
		}
		f.files = append(f.files, p)
		return nil
	}
	fs.Func("filename", "`PATH` of a file, a directory or - (stdin) with hydra-maester OAuth2Clients; repeatable", addFile)
	fs.Func("f", "Short for --filename", addFile)
	fs.StringVar(&f.namespace, "namespace", "", "List hydra-maester OAuth2Clients in the namespace `NS` of the cluster")
	fs.StringVar(&f.namespace, "n", "", "Short for --namespace")
	fs.BoolVar(&f.allNamespaces, "all-namespaces", false, "List hydra-maester OAuth2Clients in every namespace of the cluster")
	fs.BoolVar(&f.allNamespaces, "A", false, "Short for --all-namespaces")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "Kubeconfig `FILE` for --namespace and --all-namespaces; default: $KUBECONFIG, in-cluster, ~/.kube/config")
	fs.StringVar(&f.outputDir, "output-dir", "", "Write `DIR`/<namespace>/<name>.yaml per resource instead of YAML on stdout")
	fs.BoolVar(&f.dryRun, "dry-run", false, "Write no manifests; print only the report, on stdout")
	fs.StringVar(&f.opts.ClientIDKey, "client-id-key", migrate.DefaultClientIDKey, "The `KEY` that holds the client ID in hydra-maester's Secrets (its CLIENT_ID_KEY)")
	fs.StringVar(&f.opts.ClientSecretKey, "client-secret-key", migrate.DefaultClientSecretKey, "The `KEY` that holds the client secret in hydra-maester's Secrets (its CLIENT_SECRET_KEY)")
	fs.BoolVar(&f.opts.DropUnsupported, "drop-unsupported", false, "Convert resources with fields our API has no place for, without those fields (warned in the report)")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected arguments %s: give files with -f", strings.Join(fs.Args(), " "))
	}
	return f, f.check()
}

// shortFlags are the one-letter aliases of kubectl's input flags, printed beside the long names.
var shortFlags = map[string]string{"filename": "f", "namespace": "n", "all-namespaces": "A"}

// printMigrateUsage prints the help text and the flags with kubectl's double dashes, each
// alias on its long flag's line (Go's flag package accepts one dash or two).
func printMigrateUsage(fs *flag.FlagSet, w io.Writer) {
	var b strings.Builder
	b.WriteString(migrateUsage)
	fs.VisitAll(func(f *flag.Flag) {
		if len(f.Name) == 1 {
			return
		}
		name := "--" + f.Name
		if short, ok := shortFlags[f.Name]; ok {
			name = "-" + short + ", " + name
		}
		value, usage := flag.UnquoteUsage(f)
		if value != "" {
			name += " " + value
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "[]" {
			usage += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(&b, "  %s\n      %s\n", name, usage)
	})
	_, _ = io.WriteString(w, b.String())
}

// check refuses ambiguous input and key names the CRD would refuse.
func (f migrateFlags) check() error {
	modes := 0
	for _, set := range []bool{len(f.files) > 0, f.namespace != "", f.allNamespaces} {
		if set {
			modes++
		}
	}
	if modes != 1 {
		return errors.New("give exactly one input: -f/--filename, -n/--namespace or -A/--all-namespaces")
	}
	if f.kubeconfig != "" && len(f.files) > 0 {
		return errors.New("--kubeconfig applies to --namespace and --all-namespaces only")
	}
	return f.opts.Validate()
}

// readInput reads the files, or lists the cluster.
func readInput(f migrateFlags, stdin io.Reader) (migrate.Input, error) {
	if len(f.files) > 0 {
		return migrate.ReadPaths(f.files, stdin)
	}
	client, err := newDynamicClient(f.kubeconfig)
	if err != nil {
		return migrate.Input{}, fmt.Errorf("connecting to the cluster: %w", err)
	}
	ns := f.namespace
	if f.allNamespaces {
		ns = ""
	}
	in, err := migrate.ListFromCluster(context.Background(), client, ns)
	if err != nil {
		return in, fmt.Errorf("listing %s: %w", migrate.SourceGVR.GroupResource(), err)
	}
	return in, nil
}
