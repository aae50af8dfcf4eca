package controllers

import (
	"context"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/drift"
)

// withDriftScanner gives the fast world's reconciler a drift scanner over its fake cluster and
// Hydra, as the operator has.
func (w *fastWorld) withDriftScanner() *drift.Scanner {
	queue := make(chan event.GenericEvent, 100)
	s := drift.New(drift.Options{Reader: w.k8s, Installation: fastInstallation, Hydra: w.r.Hydra, Queue: queue,
		Interval: time.Hour, PageSize: 500, StartupGrace: time.Minute})
	w.r.Drift, w.r.DriftQueue = s, queue
	return s
}

func TestUpdateWithoutReadingHydra(t *testing.T) {
	cases := []struct {
		name       string
		edit       func(*v1alpha1.OAuth2ClientSpec)
		atHydra    func(w *fastWorld, id string) // before the pass
		wantGets   int
		wantPuts   int
		wantCreate int
		wantScopes string
	}{
		{"a scope added: one PUT, no read", func(s *v1alpha1.OAuth2ClientSpec) { s.Scopes = append(s.Scopes, "write") }, nil, 0, 1, 0, "read write"},
		{"a Secret label added: nothing at Hydra", func(s *v1alpha1.OAuth2ClientSpec) {
			s.SecretTemplate = &v1alpha1.SecretTemplate{Labels: map[string]v1alpha1.LabelValue{"team": "a"}}
		}, nil, 0, 0, 0, "read"},
		{"the client deleted at Hydra meanwhile: created again", func(s *v1alpha1.OAuth2ClientSpec) { s.Scopes = append(s.Scopes, "write") },
			func(w *fastWorld, id string) {
				if err := w.api.Delete(context.Background(), id); err != nil {
					w.t.Fatal(err)
				}
			}, 0, 1, 1, "read write"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			obj := resource("shop", "svc")
			w := newFastWorld(t, obj)
			scanner := w.withDriftScanner()
			if _, err := w.reconcile(obj, 3); err != nil {
				t.Fatal(err)
			}
			if _, _, err := scanner.Scan(context.Background()); err != nil {
				t.Fatal(err)
			}
			current := w.get(obj)
			c.edit(&current.Spec)
			current.Generation++
			if err := w.k8s.Update(context.Background(), current); err != nil {
				t.Fatal(err)
			}
			if c.atHydra != nil {
				c.atHydra(w, current.Status.ClientID)
			}
			before := w.hydra.Calls()
			if _, err := w.reconcile(current, 3); err != nil {
				t.Fatal(err)
			}
			after := w.hydra.Calls()
			gets, puts, creates := after.Get-before.Get, after.Update-before.Update, after.Create-before.Create
			if gets != c.wantGets || puts != c.wantPuts || creates != c.wantCreate {
				t.Errorf("Hydra calls: %d GET, %d PUT, %d POST; want %d, %d, %d", gets, puts, creates, c.wantGets, c.wantPuts, c.wantCreate)
			}
			got, err := w.api.Get(context.Background(), current.Status.ClientID)
			if err != nil || got.GetScope() != c.wantScopes {
				t.Fatalf("Hydra holds scope %q (err %v); want %q", got.GetScope(), err, c.wantScopes)
			}
			if !readyTrue(w.get(obj)) {
				t.Errorf("not Ready: %+v", w.get(obj).Status.Conditions)
			}
		})
	}
}
