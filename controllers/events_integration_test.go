//go:build integration

package controllers

import (
	"context"
	"fmt"
	"testing"

	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
)

// TestEventsForEachKindOfChange checks the events a user sees with kubectl, with the
// operator's default flags, for the life of a client: created and updated (no Event: routine
// success is recorded only with --success-events=true), changed at Hydra and reverted, deleted
// at Hydra and re-created, and a spec Hydra refuses.
func TestEventsForEachKindOfChange(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "events")
	create(t, serviceClient(ns, "svc"))
	obj := waitReady(t, ns, "svc")

	obj.Spec.Scopes = []string{"read"}
	if err := k8s.Update(ctx, obj); err != nil {
		t.Fatal(err)
	}
	obj = waitReady(t, ns, "svc")

	editAtHydra(t, obj.Status.ClientID, func(c *hydra.OAuth2Client) { c.SetClientName("changed at hydra") })
	waitEvent(t, obj, "Normal", "DriftRepaired")

	if err := hydraAPI.Delete(ctx, obj.Status.ClientID); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, obj, "Normal", "Recreated")
	// Had the create and the update recorded Events, they would be there by now: seconds have
	// passed since, and sending an Event takes milliseconds.
	for _, routine := range []string{"Created", "Updated"} {
		if n := countEvents(t, obj, routine); n != 0 {
			t.Errorf("%d %s events with the default flags; routine success records none", n, routine)
		}
	}

	bad := refusedByHydra(ns, "rejected")
	create(t, bad)
	waitCondition(t, ns, "rejected", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonHydraRejected)
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(bad), bad); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, bad, "Warning", v1alpha1.ReasonHydraRejected)
}

// objectEvents lists the events.k8s.io/v1 events regarding obj.
func objectEvents(obj *v1alpha1.OAuth2Client) ([]eventsv1.Event, error) {
	var list eventsv1.EventList
	if err := k8s.List(context.Background(), &list, client.InNamespace(obj.Namespace)); err != nil {
		return nil, err
	}
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.UID == obj.UID {
			out = append(out, e)
		}
	}
	return out, nil
}

// waitEvent waits for an event of the given type and reason about obj; events are written
// asynchronously by the recorder.
func waitEvent(t *testing.T, obj *v1alpha1.OAuth2Client, eventType, reason string) {
	t.Helper()
	eventually(t, 4*syncPeriod, func() error {
		list, err := objectEvents(obj)
		if err != nil {
			return err
		}
		var seen []string
		for _, e := range list {
			if e.Type == eventType && e.Reason == reason {
				return nil
			}
			seen = append(seen, e.Type+" "+e.Reason)
		}
		return fmt.Errorf("no %s event %s for %s; have %v", eventType, reason, obj.Name, seen)
	})
}

func countEvents(t *testing.T, obj *v1alpha1.OAuth2Client, reason string) int {
	t.Helper()
	list, err := objectEvents(obj)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range list {
		if e.Reason == reason {
			n++
		}
	}
	return n
}
