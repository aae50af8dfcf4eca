// Package image builds the operator's container image without a Docker daemon, with
// go-containerregistry: one layer on an empty base (no shell, no package manager) that holds the
// static binary at /manager and the distroless "nonroot" user 65532, and a config that runs it
// as that user. Every input is explicit (the binary, the time, the labels), so the same inputs
// give the same digest: `make image` (hack/image) passes the commit's time and revision.
package image

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// What the image runs. The Dockerfile's final stage says the same; TestDockerfileMatchesImage
// holds the two together.
const (
	// BinaryPath is where the operator binary lives in the image, its entrypoint.
	BinaryPath = "/manager"
	// User is distroless's "nonroot" user and group, which config/manager's runAsNonRoot accepts.
	User = "65532:65532"
	// WorkingDir is the working directory of the entrypoint.
	WorkingDir = "/"
)

const nonrootID = 65532

// Options are the inputs of an image; equal options give an equal digest.
type Options struct {
	// Binary is the content of the static operator binary (BuildBinary's output).
	Binary []byte
	// OS and Arch are the platform the binary was built for, such as linux and amd64.
	OS, Arch string
	// Created is the time of every file in the layer and of the config: the source's time
	// (SOURCE_DATE_EPOCH), not the build's, so that a rebuild does not change the digest.
	Created time.Time
	// Labels are the config's labels (Labels builds the org.opencontainers.image ones).
	Labels map[string]string
}

// Build assembles the image in memory.
func Build(o Options) (v1.Image, error) {
	if len(o.Binary) == 0 {
		return nil, fmt.Errorf("no binary given")
	}
	created := v1.Time{Time: o.Created.UTC()}
	layerTar, err := layerContent(o.Binary, o.Created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	base, err = mutate.ConfigFile(base, &v1.ConfigFile{
		Architecture: o.Arch,
		OS:           o.OS,
		RootFS:       v1.RootFS{Type: "layers"}, // mutate.Append adds the diff IDs
		Config: v1.Config{
			User:       User,
			Entrypoint: []string{BinaryPath},
			WorkingDir: WorkingDir,
			Labels:     o.Labels,
		},
	})
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:   layer,
		History: v1.History{Created: created, CreatedBy: "hack/image: " + BinaryPath + ", /etc/passwd, /etc/group (nonroot 65532), /tmp"},
	})
	if err != nil {
		return nil, err
	}
	return mutate.CreatedAt(img, created)
}

// file is one entry of the layer.
type file struct {
	name    string // without a leading slash, as in docker's and distroless's layers
	mode    int64
	uid     int
	content []byte // nil for a directory
	dir     bool
}

// layerFiles are the layer's entries: the binary, and what distroless/static:nonroot gives a
// program that runs as 65532 (its passwd and group entries, its home, a writable /tmp).
func layerFiles(binary []byte) []file {
	const passwd = "root:x:0:0:root:/root:/sbin/nologin\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n" +
		"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
	const group = "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n"
	return []file{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/group", mode: 0o644, content: []byte(group)},
		{name: "etc/passwd", mode: 0o644, content: []byte(passwd)},
		{name: "home/", mode: 0o755, dir: true},
		{name: "home/nonroot/", mode: 0o700, uid: nonrootID, dir: true},
		{name: strings.TrimPrefix(BinaryPath, "/"), mode: 0o755, content: binary},
		{name: "tmp/", mode: 0o1777, dir: true},
	}
}

// layerContent is the layer's uncompressed tar: entries sorted by name, every header with the
// same time, numeric owners only, so that nothing of the build host (its clock, umask, user
// names, directory order) reaches the digest.
func layerContent(binary []byte, mtime time.Time) ([]byte, error) {
	files := layerFiles(binary)
	slices.SortFunc(files, func(a, b file) int { return strings.Compare(a.name, b.name) })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{
			Name:    f.name,
			Mode:    f.mode,
			Uid:     f.uid,
			Gid:     f.uid,
			ModTime: mtime.UTC().Truncate(time.Second),
			Format:  tar.FormatPAX,
		}
		if f.dir {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(f.content))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.content); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ReadBinary reads the file BinaryPath from the image's layers, as a container runtime would
// unpack it: the tests run what the image holds, not what the build left on disk.
func ReadBinary(img v1.Image) ([]byte, error) {
	content, ok, err := ReadFile(img, BinaryPath)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("the image has no %s", BinaryPath)
	}
	return content, nil
}

// ReadFile returns the content of the regular file at path in the image's flattened file
// system, and whether it exists.
func ReadFile(img v1.Image, path string) ([]byte, bool, error) {
	rc := mutate.Extract(img)
	defer func() { _ = rc.Close() }()
	tr := tar.NewReader(rc)
	want := strings.TrimPrefix(path, "/")
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		if strings.TrimPrefix(h.Name, "/") == want && h.Typeflag == tar.TypeReg {
			content, err := io.ReadAll(tr)
			return content, err == nil, err
		}
	}
}

// Headers lists the tar headers of the image's layers, in order, as they are written.
func Headers(img v1.Image) ([]*tar.Header, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	var out []*tar.Header
	for _, l := range layers {
		headers, err := layerHeaders(l)
		if err != nil {
			return nil, err
		}
		out = append(out, headers...)
	}
	return out, nil
}

func layerHeaders(l v1.Layer) ([]*tar.Header, error) {
	rc, err := l.Uncompressed()
	if err != nil {
		return nil, err
	}
	defer func() { _ = rc.Close() }()
	tr := tar.NewReader(rc)
	var out []*tar.Header
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
}
