package controllers

import (
	"context"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// countingReader counts the reads of Secrets that reach the API server (the operator's
// APIReader: not the cache).
type countingReader struct {
	client.Reader
	secretReads atomic.Int64
}

func (c *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if _, ok := obj.(*corev1.Secret); ok {
		c.secretReads.Add(1)
	}
	return c.Reader.Get(ctx, key, obj, opts...)
}

// A new resource's Secret is created without a read first: the create itself says whether the
// name is free.
func TestFirstPassCreatesTheSecretUnread(t *testing.T) {
	obj := resource("shop", "svc")
	w := newFastWorld(t, obj)
	reader := &countingReader{Reader: w.k8s}
	w.r.APIReader = reader
	if _, err := w.reconcile(obj, 3); err != nil {
		t.Fatal(err)
	}
	if !readyTrue(w.get(obj)) || w.secret("shop", "svc") == nil {
		t.Fatal("not Ready with its Secret")
	}
	if n := reader.secretReads.Load(); n != 0 {
		t.Errorf("%d Secret reads from the API server; want none", n)
	}
}

// A Secret of that name the operator does not own makes the create fail; the operator then reads
// it, and treats it as on any other pass: it never writes it.
func TestFirstPassOnATakenSecretName(t *testing.T) {
	foreign := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "svc"}, Data: map[string][]byte{"password": []byte("hunter2-database")}}
	obj := resource("shop", "svc")
	w := newFastWorld(t, obj, foreign)
	before := w.secret("shop", "svc").ResourceVersion
	_, err := w.reconcile(obj, 1)
	if o := observe(w.get(obj), err); o.reason != v1alpha1.ReasonSecretNotShared {
		t.Fatalf("outcome %+v; want %s", o, v1alpha1.ReasonSecretNotShared)
	}
	if s := w.secret("shop", "svc"); s.ResourceVersion != before || len(s.Data) != 1 {
		t.Fatal("the Secret the operator does not own was written")
	}
}
