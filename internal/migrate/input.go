package migrate

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Input is what was read: hydra-maester's resources in the order found, and how many other
// documents (other kinds) were skipped, for the report's summary.
type Input struct {
	Resources []*unstructured.Unstructured
	Ignored   int
}

// ReadPaths reads each path as -f does: "-" is stdin, a directory is its *.yaml, *.yml and
// *.json files (not its subdirectories, so that a GitOps tree is not swept up by accident), and
// anything else is one file.
func ReadPaths(paths []string, stdin io.Reader) (Input, error) {
	var in Input
	for _, p := range paths {
		if p == "-" {
			if err := in.read(stdin, "stdin"); err != nil {
				return in, err
			}
			continue
		}
		files, err := expand(p)
		if err != nil {
			return in, err
		}
		for _, f := range files {
			if err := in.readFile(f); err != nil {
				return in, err
			}
		}
	}
	return in, nil
}

// expand returns the files a path stands for, sorted so that the output is stable.
func expand(p string) ([]string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if !e.IsDir() && (ext == ".yaml" || ext == ".yml" || ext == ".json") {
			out = append(out, filepath.Join(p, e.Name()))
		}
	}
	slices.Sort(out)
	return out, nil
}

func (in *Input) readFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	return in.read(f, path)
}

// read splits a stream into YAML (or JSON) documents and keeps hydra-maester's OAuth2Clients,
// including the items of a List, which is what `kubectl get -o yaml` prints.
func (in *Input) read(r io.Reader, name string) error {
	docs := utilyaml.NewYAMLReader(bufio.NewReader(r))
	for i := 1; ; i++ {
		doc, err := docs.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := in.addDocument(doc); err != nil {
			return fmt.Errorf("%s, document %d: %w", name, i, err)
		}
	}
}

func (in *Input) addDocument(doc []byte) error {
	data, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return err
	}
	if t := bytes.TrimSpace(data); len(t) == 0 || string(t) == "null" {
		return nil // an empty document, such as a trailing ---
	}
	obj, err := decodeObject(data)
	if err != nil {
		return err
	}
	if !obj.IsList() {
		in.add(obj)
		return nil
	}
	return obj.EachListItem(func(item runtime.Object) error {
		u, ok := item.(*unstructured.Unstructured)
		if !ok {
			return fmt.Errorf("list item of type %T", item)
		}
		in.add(u)
		return nil
	})
}

// decodeObject reads one JSON object; numbers become int64 where they are whole, as the API
// machinery's own decoding does.
func decodeObject(data []byte) (*unstructured.Unstructured, error) {
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return obj, nil
}

// add keeps hydra-maester's OAuth2Clients and counts everything else.
func (in *Input) add(u *unstructured.Unstructured) {
	if IsSource(u) {
		in.Resources = append(in.Resources, u)
	} else {
		in.Ignored++
	}
}

// IsSource says whether an object is a hydra-maester OAuth2Client.
func IsSource(u *unstructured.Unstructured) bool {
	return u.GetAPIVersion() == SourceGroupVersion.String() && u.GetKind() == SourceKind
}
