package operator

import (
	"bytes"
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

func TestEnsureFingerprintKey(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	key := client.ObjectKey{Namespace: "ops", Name: "fp"}
	ctx := context.Background()

	t.Run("created once, then read back by every replica", func(t *testing.T) {
		c := fake.NewClientBuilder().WithScheme(scheme).Build()
		first, err := ensureFingerprintKey(ctx, c, key)
		if err != nil || len(first) != 32 {
			t.Fatalf("first start: %d bytes, %v", len(first), err)
		}
		again, err := ensureFingerprintKey(ctx, c, key)
		if err != nil || !bytes.Equal(first, again) {
			t.Fatalf("a second start got another key (%v): fingerprints would all change at each restart", err)
		}
	})
	t.Run("an existing key is kept", func(t *testing.T) {
		mine := bytes.Repeat([]byte{7}, 40)
		c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ops", Name: "fp"}, Data: map[string][]byte{"key": mine},
		}).Build()
		got, err := ensureFingerprintKey(ctx, c, key)
		if err != nil || !bytes.Equal(got, mine) {
			t.Fatalf("got %x, %v", got, err)
		}
	})
	t.Run("a short key is refused, not used", func(t *testing.T) {
		c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ops", Name: "fp"}, Data: map[string][]byte{"key": []byte("short")},
		}).Build()
		_, err := ensureFingerprintKey(ctx, c, key)
		if err == nil || !strings.Contains(err.Error(), "at least 32 bytes") || strings.Contains(err.Error(), "short") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestOperatorNamespace(t *testing.T) {
	if got := operatorNamespace(Options{OperatorNamespace: "ops", LeaderElectionNamespace: "le"}); got != "ops" {
		t.Errorf("flag: %q", got)
	}
	if got := operatorNamespace(Options{LeaderElectionNamespace: "le"}); got != "le" {
		t.Errorf("leader election namespace: %q", got)
	}
	if got := operatorNamespace(Options{}); got != "default" {
		t.Errorf("local run: %q", got)
	}
}
