package controllers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
)

// TestEventsOnlyOnTransition drives summarize with the outcomes of successive passes: a retry
// or a wait repeated with the same reason records no second event, a new reason (or a new
// generation) does.
func TestEventsOnlyOnTransition(t *testing.T) {
	unavailable := &hydra.APIError{Op: "get", StatusCode: 503}
	unauthorized := &hydra.APIError{Op: "get", StatusCode: 401}
	notFound := &waitingError{reason: v1alpha1.ReasonSecretNotFound, message: "waiting for Secret svc", after: time.Second}
	invalid := &waitingError{reason: v1alpha1.ReasonSecretInvalid, message: "Secret svc has no client_id key", after: time.Second}
	rejected := stalled(v1alpha1.ReasonHydraRejected, "Hydra refused the client: bad URI")
	tests := []struct {
		name   string
		passes []error
		want   []string // "Type Reason" of each event, in order
	}{
		{"outage retried", []error{unavailable, unavailable, unavailable}, []string{"Warning HydraUnavailable"}},
		{"outage, recovery, outage", []error{unavailable, nil, unavailable}, []string{"Warning HydraUnavailable", "Warning HydraUnavailable"}},
		{"admin API refuses the operator", []error{unauthorized, unauthorized}, []string{"Warning HydraUnavailable"}},
		{"waiting for a Secret", []error{notFound, notFound}, []string{"Normal SecretNotFound"}},
		{"Secret arrives unusable", []error{notFound, invalid, invalid}, []string{"Normal SecretNotFound", "Warning SecretInvalid"}},
		{"stalled stays stalled", []error{rejected, rejected}, []string{"Warning HydraRejected"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := events.NewFakeRecorder(10)
			r := &OAuth2ClientReconciler{Recorder: rec, SyncPeriod: time.Minute}
			obj := serviceClient("ns", "svc")
			obj.Generation = 1
			for _, err := range tt.passes {
				_, _ = r.summarize(context.Background(), obj, false, err)
			}
			close(rec.Events)
			var got []string
			for e := range rec.Events {
				fields := strings.Fields(e)
				got = append(got, fields[0]+" "+fields[1])
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("events %q, want %q", got, tt.want)
			}
		})
	}

	t.Run("a new generation with the same refusal", func(t *testing.T) {
		rec := events.NewFakeRecorder(10)
		r := &OAuth2ClientReconciler{Recorder: rec}
		obj := serviceClient("ns", "svc")
		obj.Generation = 1
		_, _ = r.summarize(context.Background(), obj, false, rejected)
		obj.Generation = 2
		_, _ = r.summarize(context.Background(), obj, false, rejected)
		if n := len(rec.Events); n != 2 {
			t.Fatalf("%d events; a new generation refused again is news", n)
		}
	})
}

// TestUnauthorizedAdminAPIIsRetried: 401/403 from the admin API is the operator's configuration,
// so the resource is retried as HydraUnavailable and told why, never Stalled against its spec.
func TestUnauthorizedAdminAPIIsRetried(t *testing.T) {
	for _, status := range []int{401, 403} {
		r := &OAuth2ClientReconciler{}
		obj := serviceClient("ns", "svc")
		err := fmt.Errorf("reading client: %w", &hydra.APIError{Op: "get", StatusCode: status})
		if _, retErr := r.summarize(context.Background(), obj, false, classify(err)); retErr == nil {
			t.Fatalf("%d: not retried", status)
		}
		ready := conditionOf(obj, v1alpha1.ConditionReady)
		if ready == nil || ready.Reason != v1alpha1.ReasonHydraUnavailable ||
			!strings.Contains(ready.Message, "refused the operator's credentials") {
			t.Fatalf("%d: Ready condition %+v", status, ready)
		}
		if conditionOf(obj, v1alpha1.ConditionStalled) != nil {
			t.Fatalf("%d: Stalled although the spec is fine", status)
		}
	}
}

func conditionOf(obj *v1alpha1.OAuth2Client, condType string) *metav1.Condition {
	for i := range obj.Status.Conditions {
		if obj.Status.Conditions[i].Type == condType {
			return &obj.Status.Conditions[i]
		}
	}
	return nil
}

// TestEventsForEachKindOfChange checks the events a user sees with kubectl for the life of a
// client: created, updated, changed at Hydra and reverted, deleted at Hydra and re-created, and
// a spec Hydra refuses.
func TestEventsForEachKindOfChange(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "events")
	create(t, serviceClient(ns, "svc"))
	obj := waitReady(t, ns, "svc")
	waitEvent(t, obj, "Normal", "Created")

	obj.Spec.Scopes = []string{"read"}
	if err := k8s.Update(ctx, obj); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, obj, "Normal", "Updated")

	editAtHydra(t, obj.Status.ClientID, func(c *hydra.OAuth2Client) { c.SetClientName("changed at hydra") })
	waitEvent(t, obj, "Normal", "DriftRepaired")

	if err := hydraAPI.Delete(ctx, obj.Status.ClientID); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, obj, "Normal", "Recreated")
	if n := countEvents(t, obj, "Created"); n != 1 {
		t.Fatalf("%d Created events; a client re-created after drift must not read as new", n)
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

// TestLongMessagesAreCutToWhatTheAPIAccepts: a message of any length (Hydra's error
// description, the API server's) becomes an Event note the API server accepts (1 kB) and a
// condition message of at most 1024 bytes, cut on a character boundary. A refused Event would be
// logged with its whole message instead.
func TestLongMessagesAreCutToWhatTheAPIAccepts(t *testing.T) {
	rec := events.NewFakeRecorder(4)
	r := &OAuth2ClientReconciler{Recorder: rec}
	obj := serviceClient("ns", "svc")
	long := strings.Repeat("é", 3000) // two bytes each: a cut in the middle would break one
	_, _ = r.summarize(context.Background(), obj, false, stalled(v1alpha1.ReasonHydraRejected, "%s", long))
	note := <-rec.Events
	if len(note) > maxEventMessage+len("Warning HydraRejected ") || !utf8.ValidString(note) {
		t.Fatalf("event of %d bytes (valid UTF-8: %t)", len(note), utf8.ValidString(note))
	}
	msg := conditionMessage(obj, v1alpha1.ConditionReady)
	if len(msg) > 1024 || !utf8.ValidString(msg) || !strings.HasSuffix(msg, "...") {
		t.Fatalf("condition message of %d bytes (valid UTF-8: %t)", len(msg), utf8.ValidString(msg))
	}
}
