//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/image"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

// The image `make image` builds (internal/image, hack/image): the same digest from two builds of
// the same commit, and its binary run the way config/manager's Deployment runs the image.

const imageTag = "oauth2-client-operator:e2e"

// builtImage is one image build as hack/image does it: go build with the image's flags, then the
// image with the commit's time and revision, written as an OCI layout and a tarball.
type builtImage struct {
	opts    image.Options
	img     v1.Image
	written image.Written
	took    time.Duration
}

// buildImage builds the binary and the image into dir: a separate go build run each time.
func buildImage(ctx context.Context, dir string) (*builtImage, error) {
	start := time.Now()
	created, err := image.SourceDate(ctx, moduleRoot)
	if err != nil {
		return nil, err
	}
	labels := image.Labels(image.Source{Revision: image.Revision(ctx, moduleRoot), Version: "e2e", Created: created})
	binPath := filepath.Join(dir, "manager")
	logPath := filepath.Join(dir, "build.log")
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	err = image.BuildBinary(ctx, moduleRoot, "linux", "amd64", binPath, log)
	_ = log.Close()
	if err != nil {
		out, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("%w\n%s", err, out)
	}
	binary, err := os.ReadFile(binPath)
	if err != nil {
		return nil, err
	}
	b := &builtImage{opts: image.Options{Binary: binary, OS: "linux", Arch: "amd64", Created: created, Labels: labels}}
	if b.img, err = image.Build(b.opts); err != nil {
		return nil, err
	}
	if b.written, err = image.Write(b.img, filepath.Join(dir, "out"), imageTag); err != nil {
		return nil, err
	}
	b.took = time.Since(start)
	return b, nil
}

// The first build is shared by the tests of this file: a build with the image's flags
// (-trimpath) compiles every package again, a minute or more here.
var firstImage struct {
	once  sync.Once
	built *builtImage
	err   error
}

func sharedImage(t *testing.T) *builtImage {
	t.Helper()
	firstImage.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		defer cancel()
		dir := filepath.Join(workDir, "image-1")
		if firstImage.err = os.MkdirAll(dir, 0o755); firstImage.err == nil {
			firstImage.built, firstImage.err = buildImage(ctx, dir)
		}
	})
	if firstImage.err != nil {
		t.Fatalf("building the image: %v", firstImage.err)
	}
	return firstImage.built
}

// TestImageIsReproducible builds the image twice from this commit, each time with its own go
// build and its own output folder, and wants the same digest and byte-identical outputs. The
// control rows show the comparison can fail: a changed label or binary changes the digest.
func TestImageIsReproducible(t *testing.T) {
	first := sharedImage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	second, err := buildImage(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("digest %s (first build %s, second %s)", first.written.Digest, first.took.Round(time.Second), second.took.Round(time.Second))
	if first.written.Digest != second.written.Digest {
		t.Errorf("two builds of the same commit: %s and %s", first.written.Digest, second.written.Digest)
	}
	if !bytes.Equal(first.opts.Binary, second.opts.Binary) {
		t.Errorf("the two go builds gave different binaries (%x, %x)", sha256.Sum256(first.opts.Binary), sha256.Sum256(second.opts.Binary))
	}
	for _, rel := range []string{"image.tar", "oci/index.json"} {
		a, errA := os.ReadFile(filepath.Join(filepath.Dir(first.written.OCIDir), rel))
		b, errB := os.ReadFile(filepath.Join(filepath.Dir(second.written.OCIDir), rel))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs between the two builds (%v, %v)", rel, errA, errB)
		}
	}

	controls := map[string]func(*image.Options){
		"the version label": func(o *image.Options) {
			o.Labels = maps.Clone(o.Labels)
			o.Labels["org.opencontainers.image.version"] = "e2e-changed"
		},
		"one byte of the binary": func(o *image.Options) {
			o.Binary = slices.Clone(o.Binary)
			o.Binary[len(o.Binary)-1] ^= 1
		},
	}
	for what, change := range controls {
		o := second.opts
		change(&o)
		changed, err := image.Build(o)
		if err != nil {
			t.Fatal(err)
		}
		if d, _ := changed.Digest(); d == first.written.Digest {
			t.Errorf("changing %s left the digest at %s: the comparison above proves nothing", what, d)
		}
	}
}

// TestImageHasNoShellAndRunsAsNonroot reads the built image's config and files.
func TestImageHasNoShellAndRunsAsNonroot(t *testing.T) {
	img := sharedImage(t).img
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	// runAsNonRoot (config/manager) can only be checked by the kubelet for a numeric user.
	if cfg.Config.User != "65532:65532" {
		t.Errorf("the image runs as %q, want 65532:65532", cfg.Config.User)
	}
	for _, key := range []string{"title", "description", "source", "revision", "version", "created"} {
		if cfg.Config.Labels["org.opencontainers.image."+key] == "" {
			t.Errorf("no label org.opencontainers.image.%s: %v", key, cfg.Config.Labels)
		}
	}
	headers, err := image.Headers(img)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		if name := strings.TrimSuffix(h.Name, "/"); name == "bin" || strings.HasPrefix(name, "bin/") || strings.HasSuffix(name, "/sh") {
			t.Errorf("the image has %s", h.Name)
		}
	}
}

// TestImageBinaryRunsAsDeployed runs the binary read from the image's layer (not the one the
// build left on disk) with the argv a container runtime gives it under config/manager's
// Deployment: the container's command, else the image's entrypoint, then its args; the
// Deployment's env with the test's Hydra and namespace; the image's working directory. It must
// reconcile an OAuth2Client to Ready with a Secret whose credentials Hydra accepts.
//
// What differs from a pod, and why: the two listeners move to free loopback ports (flags after
// the Deployment's win), since :8080 and :8081 may be taken on a shared machine; the API server
// comes from KUBECONFIG and the Lease's namespace from LEADER_ELECTION_NAMESPACE, which a pod
// gets from its service account mount. The process runs as the image's user (65532) when the
// test runs as root, which can switch users, and as the test's user otherwise.
func TestImageBinaryRunsAsDeployed(t *testing.T) {
	dumpLogsOnFailure(t)
	img := sharedImage(t).img
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	binary, err := image.ReadBinary(img)
	if err != nil {
		t.Fatal(err)
	}
	user := imageUser(t, cfg.Config.User)
	binPath := user.writeFile(t, "manager", binary, 0o755)
	kubeconfig, err := os.ReadFile(cp.KubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	adminToken, err := os.ReadFile(adminTokenFile)
	if err != nil {
		t.Fatal(err)
	}

	raw, err := os.ReadFile(filepath.Join(moduleRoot, "config", "manager", "manager.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	container := manager(managerDeployment(t, parseManifests(t, raw)))
	argv := containerArgv(t, *container, cfg.Config)
	if argv[0] != image.BinaryPath {
		t.Fatalf("the container runs %q, but the image holds the operator at %s", argv[0], image.BinaryPath)
	}

	const ns = "image-operator"
	newNamespace(t, ns)
	env := deploymentEnv(t, container.Env, map[string]string{
		"HYDRA_ADMIN_URL":  hydra.AdminURL(),
		"HYDRA_PUBLIC_URL": hydra.PublicURL(),
	}, ns)
	env = append(env, "KUBECONFIG="+user.writeFile(t, "kubeconfig", kubeconfig, 0o600), "LEADER_ELECTION_NAMESPACE="+ns,
		// Every operator of the suite gets the admin token, so the leak check covers its log too.
		"HYDRA_ADMIN_TOKEN_FILE="+user.writeFile(t, "hydra-admin-token", adminToken, 0o600))

	pauseSuiteOperator(t)
	op, _ := startLoggedOperator(t, "image", "operator from the image", testenv.OperatorOptions{
		Bin:         binPath, // argv[0], /manager in the image
		LeadingArgs: argv[1:],
		Env:         env,
		Dir:         cfg.Config.WorkingDir,
		Credential:  user.credential,
	})

	if user.credential != nil {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", op.Pid()))
		if want := fmt.Sprintf("\nUid:\t%d\t", user.credential.Uid); err != nil || !strings.Contains(string(status), want) {
			t.Errorf("the operator does not run as uid %d (%v):\n%s", user.credential.Uid, err, status)
		}
	}

	_, mount := deployClient(t, ns, "image-client", service("", "x.read"))
	c := readCredentials(t, mount)
	if tok, err := clientCredentials(c, authBasic, "x.read"); err != nil || tok.ok() != nil {
		t.Fatalf("client_credentials with the Secret's credentials: %v %v", err, tok)
	}
}

// containerArgv is what a container runtime executes for a Kubernetes container: its command,
// else the image's entrypoint, followed by its args, else the image's cmd. The Deployment's
// command must be the image's entrypoint, or the Dockerfile and make image would disagree with
// what the cluster runs.
func containerArgv(t *testing.T, c corev1.Container, cfg v1.Config) []string {
	t.Helper()
	command, args := c.Command, c.Args
	if len(command) == 0 {
		command = cfg.Entrypoint
	} else if !slices.Equal(command, cfg.Entrypoint) {
		t.Errorf("config/manager's command %q is not the image's entrypoint %q", command, cfg.Entrypoint)
	}
	if len(c.Args) == 0 {
		args = cfg.Cmd
	}
	if len(command) == 0 {
		t.Fatal("neither the container nor the image has a command")
	}
	return append(slices.Clone(command), args...)
}

// deploymentEnv is the container's environment with the values the test's cluster needs: the
// variables in values replace the Deployment's placeholders (each must be in the Deployment,
// so that the test proves the names it sets are the ones the manifest sets), and
// metadata.namespace field references resolve to ns.
func deploymentEnv(t *testing.T, vars []corev1.EnvVar, values map[string]string, ns string) []string {
	t.Helper()
	var env []string
	seen := map[string]bool{}
	for _, v := range vars {
		switch {
		case values[v.Name] != "":
			env = append(env, v.Name+"="+values[v.Name])
			seen[v.Name] = true
		case v.ValueFrom != nil && v.ValueFrom.FieldRef != nil && v.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
			env = append(env, v.Name+"="+ns)
		case v.ValueFrom != nil:
			t.Fatalf("config/manager's env %s comes from %+v, which the test can't resolve", v.Name, v.ValueFrom)
		default:
			env = append(env, v.Name+"="+v.Value)
		}
	}
	for name := range values {
		if !seen[name] {
			t.Errorf("config/manager's container has no env %s", name)
		}
	}
	return env
}

// runAs is the user a test runs the image's binary as, and a folder of files that user can read.
type runAs struct {
	credential *syscall.Credential // nil: the test's own user
	dir        string
}

// imageUser parses the image's numeric USER ("uid:gid"). As root, the test runs the binary as
// that user, in a folder under the system's temporary folder (t.TempDir's parents are closed
// to other users) that the user owns; otherwise as itself.
func imageUser(t *testing.T, user string) runAs {
	t.Helper()
	uidText, gidText, _ := strings.Cut(user, ":")
	uid, errUID := strconv.ParseUint(uidText, 10, 32)
	gid, errGID := strconv.ParseUint(gidText, 10, 32)
	if errUID != nil || errGID != nil {
		t.Fatalf("the image's user %q is not numeric uid:gid, which runAsNonRoot needs", user)
	}
	if os.Geteuid() != 0 {
		t.Logf("not root: the binary runs as this test's user, not as %s", user)
		return runAs{dir: t.TempDir()}
	}
	dir, err := os.MkdirTemp("", "image-user-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chown(dir, int(uid), int(gid)); err != nil {
		t.Fatal(err)
	}
	return runAs{credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, dir: dir}
}

// writeFile writes a file for the user into its folder and returns its path.
func (r runAs) writeFile(t *testing.T, name string, content []byte, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(r.dir, name)
	if err := os.WriteFile(path, content, mode); err != nil {
		t.Fatal(err)
	}
	if r.credential != nil {
		if err := os.Chown(path, int(r.credential.Uid), int(r.credential.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	return path
}
