package image

import (
	"archive/tar"
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

var sourceTime = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func testOptions() Options {
	return Options{
		Binary:  []byte("\x7fELF not really a binary"),
		OS:      "linux",
		Arch:    "amd64",
		Created: sourceTime,
		Labels:  Labels(Source{Revision: "0123456789abcdef", Version: "dev", Created: sourceTime}),
	}
}

func mustBuild(t *testing.T, o Options) v1.Image {
	t.Helper()
	img, err := Build(o)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func mustDigest(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestConfigRunsManagerAsNonroot(t *testing.T) {
	cfg, err := mustBuild(t, testOptions()).ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Config.User != "65532:65532" {
		t.Errorf("User = %q, want 65532:65532", cfg.Config.User)
	}
	if !slices.Equal(cfg.Config.Entrypoint, []string{"/manager"}) || len(cfg.Config.Cmd) != 0 {
		t.Errorf("Entrypoint %q Cmd %q, want [/manager] and none", cfg.Config.Entrypoint, cfg.Config.Cmd)
	}
	if cfg.OS != "linux" || cfg.Architecture != "amd64" || cfg.Config.WorkingDir != "/" {
		t.Errorf("platform %s/%s, working dir %q", cfg.OS, cfg.Architecture, cfg.Config.WorkingDir)
	}
	if !cfg.Created.Equal(sourceTime) {
		t.Errorf("created %v, want the source time %v", cfg.Created.Time, sourceTime)
	}
	for _, key := range []string{"title", "description", "source", "revision", "version", "created"} {
		if cfg.Config.Labels["org.opencontainers.image."+key] == "" {
			t.Errorf("no label org.opencontainers.image.%s in %v", key, cfg.Config.Labels)
		}
	}
	if got := cfg.Config.Labels["org.opencontainers.image.created"]; got != "2026-11-30T12:00:00Z" {
		t.Errorf("created label %q", got)
	}
}

func TestLayerHasNoShellAndFixedOwners(t *testing.T) {
	img := mustBuild(t, testOptions())
	headers, err := Headers(img)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, h := range headers {
		names = append(names, h.Name)
		if strings.HasPrefix(h.Name, "bin/") || strings.HasPrefix(h.Name, "usr/") || strings.HasPrefix(h.Name, "sbin/") {
			t.Errorf("the image has %s: no shell or tools belong in it", h.Name)
		}
		if !h.ModTime.Equal(sourceTime) {
			t.Errorf("%s has time %v, not the source time", h.Name, h.ModTime)
		}
		if h.Uname != "" || h.Gname != "" {
			t.Errorf("%s carries the owner names %q/%q of the build host", h.Name, h.Uname, h.Gname)
		}
	}
	want := []string{"etc/", "etc/group", "etc/passwd", "home/", "home/nonroot/", "manager", "tmp/"}
	if !slices.Equal(names, want) {
		t.Errorf("layer entries %q, want %q (sorted)", names, want)
	}
	for _, h := range headers {
		switch h.Name {
		case "manager":
			if h.Mode != 0o755 || h.Uid != 0 {
				t.Errorf("/manager mode %o uid %d, want 755 owned by root (the user can run it, not change it)", h.Mode, h.Uid)
			}
		case "tmp/":
			if h.Mode != 0o1777 {
				t.Errorf("/tmp mode %o, want 1777", h.Mode)
			}
		case "home/nonroot/":
			if h.Uid != 65532 || h.Gid != 65532 {
				t.Errorf("/home/nonroot owned by %d:%d, want 65532:65532", h.Uid, h.Gid)
			}
		}
	}
	passwd, ok, err := ReadFile(img, "/etc/passwd")
	if err != nil || !ok || !bytes.Contains(passwd, []byte("nonroot:x:65532:65532:")) {
		t.Errorf("/etc/passwd has no nonroot 65532 (%v %v): %s", ok, err, passwd)
	}
	if _, ok, _ := ReadFile(img, "/bin/sh"); ok {
		t.Error("the image has /bin/sh")
	}
	bin, err := ReadBinary(img)
	if err != nil || !bytes.Equal(bin, testOptions().Binary) {
		t.Errorf("ReadBinary = %q, %v; want the binary given", bin, err)
	}
}

// TestSameInputsSameDigest: the digest depends on the options only, and on each of them.
func TestSameInputsSameDigest(t *testing.T) {
	want := mustDigest(t, mustBuild(t, testOptions()))
	if got := mustDigest(t, mustBuild(t, testOptions())); got != want {
		t.Fatalf("two builds from the same inputs: %s and %s", want, got)
	}
	changes := map[string]func(*Options){
		"binary":   func(o *Options) { o.Binary = append(slices.Clone(o.Binary), 0) },
		"label":    func(o *Options) { o.Labels = maps.Clone(o.Labels); o.Labels["org.opencontainers.image.version"] = "v1" },
		"time":     func(o *Options) { o.Created = o.Created.Add(time.Second) },
		"platform": func(o *Options) { o.Arch = "arm64" },
	}
	for what, change := range changes {
		o := testOptions()
		change(&o)
		if got := mustDigest(t, mustBuild(t, o)); got == want {
			t.Errorf("changing the %s left the digest at %s", what, got)
		}
	}
}

// TestWriteLayoutAndTarball reads both outputs back as registry tools and docker load do.
func TestWriteLayoutAndTarball(t *testing.T) {
	img := mustBuild(t, testOptions())
	dir := t.TempDir()
	w, err := Write(img, dir, "registry.example/team/oauth2-client-operator:v1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	if w.Digest != mustDigest(t, img) {
		t.Errorf("Write reports %s, the image is %s", w.Digest, mustDigest(t, img))
	}
	index, err := layout.ImageIndexFromPath(w.OCIDir)
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := index.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(manifest.Manifests) != 1 || manifest.Manifests[0].Digest != w.Digest ||
		manifest.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "v1.2.3" {
		t.Errorf("the layout's index is %+v, want one image %s named v1.2.3", manifest.Manifests, w.Digest)
	}
	tag, _ := name.NewTag("registry.example/team/oauth2-client-operator:v1.2.3")
	fromTar, err := tarball.ImageFromPath(w.Tarball, &tag)
	if err != nil {
		t.Fatal(err)
	}
	// What `crane validate` checks: digests, sizes, diff IDs, the config's rootfs and history.
	if err := validate.Image(fromTar); err != nil {
		t.Errorf("the tarball's image: %v", err)
	}
	fromLayout, err := index.Image(w.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(fromLayout); err != nil {
		t.Errorf("the layout's image: %v", err)
	}
	// docker load keeps the config and the layers and writes a manifest of its own, so the
	// image ID (the config's digest) and the layers are what must survive.
	assertSameContent(t, fromTar, img)
	// A second Write replaces the layout instead of adding a second image to it.
	if _, err := Write(img, dir, "registry.example/team/oauth2-client-operator:v1.2.3"); err != nil {
		t.Fatal(err)
	}
	if index, err = layout.ImageIndexFromPath(w.OCIDir); err != nil {
		t.Fatal(err)
	}
	if manifest, err = index.IndexManifest(); err != nil || len(manifest.Manifests) != 1 {
		t.Errorf("after a second Write the layout has %d images (%v)", len(manifest.Manifests), err)
	}
}

func TestSourceDate(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1764504000")
	got, err := SourceDate(t.Context(), t.TempDir())
	if err != nil || got.Unix() != 1764504000 {
		t.Errorf("SourceDate with SOURCE_DATE_EPOCH = %v, %v", got, err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	if _, err := SourceDate(t.Context(), t.TempDir()); err == nil {
		t.Error("a SOURCE_DATE_EPOCH that is no number was accepted")
	}
}

func TestSourceDateOutsideGit(t *testing.T) {
	if v, ok := os.LookupEnv("SOURCE_DATE_EPOCH"); ok {
		t.Setenv("SOURCE_DATE_EPOCH", v)
		_ = os.Unsetenv("SOURCE_DATE_EPOCH")
	}
	dir := filepath.Join(t.TempDir(), "not-a-checkout")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := SourceDate(t.Context(), dir)
	if err != nil || got.Unix() != 0 {
		t.Errorf("SourceDate outside a git checkout = %v, %v; want the epoch", got, err)
	}
	if Revision(t.Context(), dir) != "" {
		t.Error("Revision outside a git checkout is not empty")
	}
}

// The layer's tar must not depend on the order layerFiles lists entries in.
func TestLayerContentIsSorted(t *testing.T) {
	content, err := layerContent([]byte("bin"), sourceTime)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(bytes.NewReader(content))
	var names []string
	for h, err := tr.Next(); err == nil; h, err = tr.Next() {
		names = append(names, h.Name)
	}
	if !slices.IsSorted(names) {
		t.Errorf("entries not sorted: %q", names)
	}
}

func assertSameContent(t *testing.T, got, want v1.Image) {
	t.Helper()
	gotConfig, err1 := got.ConfigName()
	wantConfig, err2 := want.ConfigName()
	if err1 != nil || err2 != nil || gotConfig != wantConfig {
		t.Errorf("config %s (%v), want %s (%v)", gotConfig, err1, wantConfig, err2)
	}
	gotLayers, err1 := got.Layers()
	wantLayers, err2 := want.Layers()
	if err1 != nil || err2 != nil || len(gotLayers) != len(wantLayers) {
		t.Fatalf("%d layers (%v), want %d (%v)", len(gotLayers), err1, len(wantLayers), err2)
	}
	for i := range gotLayers {
		g, _ := gotLayers[i].Digest()
		w, _ := wantLayers[i].Digest()
		if g != w {
			t.Errorf("layer %d is %s, want %s", i, g, w)
		}
	}
}
