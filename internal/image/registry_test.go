package image

import (
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestLayoutPushesToARegistry pushes the image read from the written OCI layout to an
// in-process registry, as `crane push dist/image/oci REF` does, and wants the registry to
// serve it under the digest make image printed.
func TestLayoutPushesToARegistry(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	w, err := Write(mustBuild(t, testOptions()), t.TempDir(), "oauth2-client-operator:dev")
	if err != nil {
		t.Fatal(err)
	}
	index, err := layout.ImageIndexFromPath(w.OCIDir)
	if err != nil {
		t.Fatal(err)
	}
	img, err := index.Image(w.Digest)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(strings.TrimPrefix(srv.URL, "http://") + "/team/oauth2-client-operator:dev")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(ref)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest != w.Digest {
		t.Errorf("the registry serves %s, make image printed %s", desc.Digest, w.Digest)
	}
}
