package clientcache

import (
	"context"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

func clients(names ...string) []*v1alpha1.OAuth2Client {
	out := make([]*v1alpha1.OAuth2Client, len(names))
	for i, n := range names {
		out[i] = &v1alpha1.OAuth2Client{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: n}}
	}
	return out
}

func names(objs []*v1alpha1.OAuth2Client) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.Name)
	}
	slices.Sort(out)
	return out
}

// TestListFromTheStoreSharesTheCachedObjects: from a store, List hands out the cached objects
// themselves, not copies, and skips what is not an OAuth2Client.
func TestListFromTheStoreSharesTheCachedObjects(t *testing.T) {
	store := toolscache.NewStore(toolscache.MetaNamespaceKeyFunc)
	cached := clients("a", "b")
	for _, o := range cached {
		if err := store.Add(o); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Add(&metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "other"}}); err != nil {
		t.Fatal(err)
	}
	got, err := List(context.Background(), nil, store)
	if err != nil {
		t.Fatal(err)
	}
	if n := names(got); !slices.Equal(n, []string{"a", "b"}) {
		t.Fatalf("listed %v", n)
	}
	for _, o := range got {
		if !slices.Contains(cached, o) {
			t.Errorf("%s is a copy, not the cached object", o.Name)
		}
	}
}

// TestListWithoutAStoreReadsTheReader: without a store (several watched namespaces), List
// reads the reader.
func TestListWithoutAStoreReadsTheReader(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	objs := clients("a", "b", "c")
	reader := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs[0], objs[1], objs[2]).Build()
	got, err := List(context.Background(), reader, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := names(got); !slices.Equal(n, []string{"a", "b", "c"}) {
		t.Fatalf("listed %v", n)
	}
}
