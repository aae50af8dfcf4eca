//go:build integration

package controllers

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// TestReferenceWatcherNotifiesServers: a change of a watched Secret or ConfigMap queues a check
// of each server that references it, and of no other; a Secret that did not exist yet is seen
// when it is created; an object no server references any more is no longer watched.
func TestReferenceWatcherNotifiesServers(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "refwatch")
	core, err := corev1client.NewForConfig(restCfg)
	if err != nil {
		t.Fatal(err)
	}
	w := newReferenceWatcher(core.RESTClient(), func() authorizationServer { return &v1alpha1.AuthorizationServer{} })
	stopCtx, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	go func() { _ = w.Start(stopCtx) }()

	token := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "token"}, Data: map[string][]byte{"token": []byte("one")}}
	create(t, token)
	ca := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ca"}, Data: map[string]string{"ca.crt": "one"}}
	create(t, ca)
	a, b := client.ObjectKey{Namespace: ns, Name: "a"}, client.ObjectKey{Namespace: ns, Name: "b"}
	w.track(a, []referencedObject{{namespace: ns, name: "token"}, {configMap: true, namespace: ns, name: "ca"}})
	w.track(b, []referencedObject{{namespace: ns, name: "token"}, {namespace: ns, name: "later"}})
	if n := w.watching(); n != 3 {
		t.Fatalf("watching %d objects, want 3 (token, ca, later)", n)
	}

	// The informers' initial lists are not news; each change below is awaited until seen,
	// since an informer may start its watch after the first change.
	expectChecks := func(what string, change func(), want ...client.ObjectKey) {
		t.Helper()
		eventually(t, 20*time.Second, func() error {
			drain(w)
			change()
			if err := awaitServers(w, 2*time.Second, want...); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			return nil
		})
	}
	expectChecks("token changed", func() { patchData(t, token, "token", time.Now().String()) }, a, b)
	expectChecks("CA changed", func() {
		ca.Data["ca.crt"] = time.Now().String()
		if err := k8s.Update(ctx, ca); err != nil {
			t.Fatal(err)
		}
	}, a)
	expectChecks("Secret created", func() {
		later := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "later"}}
		_ = k8s.Delete(ctx, later)
		_ = k8s.Create(ctx, later)
	}, b)

	w.forget(a)
	if n := w.watching(); n != 2 {
		t.Fatalf("after a is forgotten, watching %d objects, want 2 (token, later)", n)
	}
	w.track(b, nil)
	if n := w.watching(); n != 0 {
		t.Fatalf("with no server left, watching %d objects, want none", n)
	}
}

// patchData sets one key of s and writes it.
func patchData(t *testing.T, s *corev1.Secret, key, value string) {
	t.Helper()
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(s), s); err != nil {
		t.Fatal(err)
	}
	s.Data[key] = []byte(value)
	if err := k8s.Update(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

// drain discards the events w has queued.
func drain(w *referenceWatcher) {
	for {
		select {
		case <-w.events:
		default:
			return
		}
	}
}

// awaitServers waits up to timeout for an event for each of want, and fails on an event for
// any other server.
func awaitServers(w *referenceWatcher, timeout time.Duration, want ...client.ObjectKey) error {
	missing := map[client.ObjectKey]bool{}
	for _, k := range want {
		missing[k] = true
	}
	deadline := time.After(timeout)
	for len(missing) > 0 {
		select {
		case e := <-w.events:
			k := client.ObjectKeyFromObject(e.Object)
			if !slices.Contains(want, k) {
				return fmt.Errorf("a check of %s was queued, which references nothing that changed", k)
			}
			delete(missing, k)
		case <-deadline:
			return fmt.Errorf("no check queued for %v within %s", missing, timeout)
		}
	}
	return nil
}
