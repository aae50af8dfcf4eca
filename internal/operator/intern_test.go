package operator

import (
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"testing"
	"unsafe"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// managedSecret is a Secret as the operator writes it, decoded from the API server's protobuf
// as the watch decodes it, so that each call returns strings in memory of their own.
func managedSecret(tb testing.TB, i int) *corev1.Secret {
	tb.Helper()
	s := &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("c-%05d", i), Namespace: "bench-01", UID: "3f9a2c1e-7b4d-4e8f-9a6b-1c2d3e4f5a6b", ResourceVersion: "123456",
			Labels: map[string]string{v1alpha1.ManagedByLabel: v1alpha1.ManagedByValue},
			Annotations: map[string]string{
				v1alpha1.CredentialsHashAnnotation:     "8d4f0a2b6c9e1f3a5b7d9e0c2a4f6b8d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b",
				v1alpha1.CredentialsIssuedAtAnnotation: "2026-12-06T22:00:00Z",
			},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: v1alpha1.GroupVersion.String(), Kind: "OAuth2Client", Name: fmt.Sprintf("c-%05d", i), UID: "7b4d3f9a-2c1e-4e8f-9a6b-1c2d3e4f5a6b"}},
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{"client_id": []byte(fmt.Sprintf("bench-01.c-%05d", i)), "client_secret": []byte("b3f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4")},
	}
	codec := protobuf.NewSerializer(clientgoscheme.Scheme, clientgoscheme.Scheme)
	raw, err := k8sruntime.Encode(codec, s)
	if err != nil {
		tb.Fatal(err)
	}
	out := &corev1.Secret{}
	if _, _, err := codec.Decode(raw, nil, out); err != nil {
		tb.Fatal(err)
	}
	return out
}

func sameMemory(a, b string) bool { return unsafe.StringData(a) == unsafe.StringData(b) }

// TestInternSharedKeepsContent: after the transform, two Secrets share the memory of their
// namespace, label, annotation and data keys and owner kind, and each still holds exactly
// what it held before.
func TestInternSharedKeepsContent(t *testing.T) {
	a, b := managedSecret(t, 1), managedSecret(t, 2)
	wantA, wantB := a.DeepCopy(), b.DeepCopy()
	if sameMemory(a.Namespace, b.Namespace) {
		t.Fatal("the decoded Secrets already share their namespace's memory; the test proves nothing")
	}
	for _, s := range []*corev1.Secret{a, b} {
		if _, err := slimForCache(s); err != nil {
			t.Fatal(err)
		}
	}
	if !equality.Semantic.DeepEqual(a, wantA) || !equality.Semantic.DeepEqual(b, wantB) {
		t.Fatalf("the transform changed content:\n%+v\nwant\n%+v", a, wantA)
	}
	key := func(m map[string][]byte, k string) string {
		for mk := range m {
			if mk == k {
				return mk
			}
		}
		return ""
	}
	labelKey := func(m map[string]string) string {
		for k := range m {
			return k
		}
		return ""
	}
	for what, pair := range map[string][2]string{
		"namespace":   {a.Namespace, b.Namespace},
		"label key":   {labelKey(a.Labels), labelKey(b.Labels)},
		"label value": {a.Labels[v1alpha1.ManagedByLabel], b.Labels[v1alpha1.ManagedByLabel]},
		"data key":    {key(a.Data, "client_secret"), key(b.Data, "client_secret")},
		"owner kind":  {a.OwnerReferences[0].Kind, b.OwnerReferences[0].Kind},
		"type":        {string(a.Type), string(b.Type)},
	} {
		if !sameMemory(pair[0], pair[1]) {
			t.Errorf("%s: each Secret keeps its own copy", what)
		}
	}
	if reflect.ValueOf(a.Labels).UnsafePointer() != reflect.ValueOf(b.Labels).UnsafePointer() {
		t.Error("the Secrets labelled only as the operator's keep a label map each")
	}
	if sameMemory(a.Name, b.Name) {
		t.Error("different names share memory")
	}
}

// BenchmarkCachedSecretMemory reports the live heap each cached managed Secret takes, decoded
// as the watch decodes it, as the cache holds it (slimForCache) and without the transform.
func BenchmarkCachedSecretMemory(b *testing.B) {
	benchmarkCachedMemory(b, "B/Secret", func(tb testing.TB, i int) any { return managedSecret(tb, i) })
}

// BenchmarkCachedResourceMemory is BenchmarkCachedSecretMemory for OAuth2Clients.
func BenchmarkCachedResourceMemory(b *testing.B) {
	benchmarkCachedMemory(b, "B/OAuth2Client", func(tb testing.TB, i int) any { return benchResource(tb, i) })
}

func benchmarkCachedMemory(b *testing.B, unit string, decode func(tb testing.TB, i int) any) {
	for _, tc := range []struct {
		name      string
		transform bool
	}{{"decoded", false}, {"cached", true}} {
		b.Run(tc.name, func(b *testing.B) {
			const n = 2000
			for b.Loop() {
				objs := make([]any, n)
				before := liveHeap()
				for i := range objs {
					objs[i] = decode(b, i)
					if tc.transform {
						_, _ = slimForCache(objs[i])
					}
				}
				after := liveHeap()
				b.ReportMetric(float64(after-before)/n, unit)
				runtime.KeepAlive(objs)
			}
		})
	}
}

func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// benchResource is an OAuth2Client as the benchmark creates it, Ready, decoded from JSON as
// the watch decodes it.
func benchResource(tb testing.TB, i int) *v1alpha1.OAuth2Client {
	tb.Helper()
	raw := fmt.Appendf(nil, `{"apiVersion":"oauth2.clientoperator.dev/v1alpha1","kind":"OAuth2Client",
	"metadata":{"name":"c-%05d","namespace":"bench-01","uid":"3f9a2c1e-7b4d-4e8f-9a6b-1c2d3e4f5a6b","resourceVersion":"123456","generation":1,
	"creationTimestamp":"2026-12-06T22:00:00Z","labels":{"bench":"scale"},"finalizers":["oauth2.clientoperator.dev/finalizer"]},
	"spec":{"grantTypes":["client_credentials"],"scopes":["read","write"]},
	"status":{"observedGeneration":1,"clientID":"bench-01.c-%05d","secretName":"c-%05d","credentialsFingerprint":"8d4f0a2b6c9e1f3a5b7d9e0c2a4f6b8d",
	"conditions":[{"type":"Ready","status":"True","observedGeneration":1,"lastTransitionTime":"2026-12-06T22:00:01Z","reason":"Reconciled","message":"The client is registered at Hydra and its credentials are in Secret c-%05d"}]}}`, i, i, i, i)
	out := &v1alpha1.OAuth2Client{}
	if err := json.Unmarshal(raw, out); err != nil {
		tb.Fatal(err)
	}
	return out
}
