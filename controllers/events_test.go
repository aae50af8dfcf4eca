package controllers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"k8s.io/client-go/tools/events"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
)

// TestEventsOnlyOnTransition drives summarize with the outcomes of successive passes: a retry
// or a wait repeated with the same reason records no second event, a new reason (or a new
// generation) does.
func TestEventsOnlyOnTransition(t *testing.T) {
	unavailable := &ServerUnavailableError{Server: DefaultServer, Cause: hydra.CauseServerError, Err: &hydra.APIError{Op: "get", StatusCode: 503}}
	unauthorized := &ServerUnavailableError{Server: DefaultServer, Cause: hydra.CauseUnauthorized, Err: &hydra.APIError{Op: "get", StatusCode: 401}}
	notFound := &waitingError{reason: v1alpha1.ReasonSecretNotFound, message: "waiting for Secret svc", after: time.Second}
	invalid := &waitingError{reason: v1alpha1.ReasonSecretInvalid, message: "Secret svc has no client_id key", after: time.Second}
	rejected := stalled(v1alpha1.ReasonHydraRejected, "Hydra refused the client: bad URI")
	tests := []struct {
		name   string
		passes []error
		want   []string // "Type Reason" of each event, in order
	}{
		{"outage retried", []error{unavailable, unavailable, unavailable}, []string{"Warning AuthorizationServerUnavailable"}},
		{"outage, recovery, outage", []error{unavailable, nil, unavailable}, []string{"Warning AuthorizationServerUnavailable", "Warning AuthorizationServerUnavailable"}},
		{"admin API refuses the operator", []error{unauthorized, unauthorized}, []string{"Warning AuthorizationServerUnavailable"}},
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
				_, _ = r.summarize(context.Background(), obj, nil, false, err)
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
		_, _ = r.summarize(context.Background(), obj, nil, false, rejected)
		obj.Generation = 2
		_, _ = r.summarize(context.Background(), obj, nil, false, rejected)
		if n := len(rec.Events); n != 2 {
			t.Fatalf("%d events; a new generation refused again is news", n)
		}
	})
}

// TestUnauthorizedAdminAPIIsRetried: 401/403 from the admin API is the operator's configuration,
// so the resource is retried as AuthorizationServerUnavailable and told why, never Stalled
// against its spec.
func TestUnauthorizedAdminAPIIsRetried(t *testing.T) {
	state := NewServerState(DefaultServer)
	for _, status := range []int{401, 403} {
		r := &OAuth2ClientReconciler{}
		obj := serviceClient("ns", "svc")
		err := state.observe(context.Background(), &hydra.APIError{Op: "get", StatusCode: status})
		err = fmt.Errorf("reading client: %w", err)
		if _, retErr := r.summarize(context.Background(), obj, nil, false, classify(err)); retErr == nil {
			t.Fatalf("%d: not retried", status)
		}
		ready := conditionOf(obj, v1alpha1.ConditionReady)
		if ready == nil || ready.Reason != v1alpha1.ReasonAuthorizationServerUnavailable ||
			!strings.Contains(ready.Message, "refused the operator's credentials") {
			t.Fatalf("%d: Ready condition %+v", status, ready)
		}
		if conditionOf(obj, v1alpha1.ConditionStalled) != nil {
			t.Fatalf("%d: Stalled although the spec is fine", status)
		}
	}
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
	_, _ = r.summarize(context.Background(), obj, nil, false, stalled(v1alpha1.ReasonHydraRejected, "%s", long))
	note := <-rec.Events
	if len(note) > maxEventMessage+len("Warning HydraRejected ") || !utf8.ValidString(note) {
		t.Fatalf("event of %d bytes (valid UTF-8: %t)", len(note), utf8.ValidString(note))
	}
	msg := conditionMessage(obj, v1alpha1.ConditionReady)
	if len(msg) > 1024 || !utf8.ValidString(msg) || !strings.HasSuffix(msg, "...") {
		t.Fatalf("condition message of %d bytes (valid UTF-8: %t)", len(msg), utf8.ValidString(msg))
	}
}

// TestQuietSuccess: --success-events=false leaves out only the Normal Events of routine
// success; warnings, waits and the Events of repairs and takeovers are still recorded.
func TestQuietSuccess(t *testing.T) {
	for _, quiet := range []bool{false, true} {
		rec := events.NewFakeRecorder(20)
		r := &OAuth2ClientReconciler{Recorder: rec, QuietSuccess: quiet}
		obj := serviceClient("ns", "svc")
		sent := []string{"Normal Created", "Normal Updated", "Normal Deleted", "Normal DriftRepaired", "Normal Recreated",
			"Normal Adopted", "Normal SecretNotFound", "Warning HydraRejected", "Warning Created"}
		for _, e := range sent {
			typ, reason, _ := strings.Cut(e, " ")
			r.event(obj, typ, reason, "message")
		}
		close(rec.Events)
		var got []string
		for e := range rec.Events {
			fields := strings.Fields(e)
			got = append(got, fields[0]+" "+fields[1])
		}
		want := sent
		if quiet {
			want = slices.DeleteFunc(slices.Clone(sent), func(e string) bool {
				return e == "Normal Created" || e == "Normal Updated" || e == "Normal Deleted"
			})
		}
		if !slices.Equal(got, want) {
			t.Errorf("QuietSuccess %v: events %q, want %q", quiet, got, want)
		}
	}
}
