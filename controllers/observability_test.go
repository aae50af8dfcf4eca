package controllers

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// scrape renders controller-runtime's registry the way the /metrics endpoint does.
func scrape(t *testing.T) string {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for _, f := range families {
		if _, err := expfmt.MetricFamilyToText(&buf, f); err != nil {
			t.Fatal(err)
		}
	}
	return buf.String()
}

func TestMetricsAfterReconcile(t *testing.T) {
	ns := newNamespace(t, "metrics")
	create(t, serviceClient(ns, "svc"))
	waitReady(t, ns, "svc")
	out := scrape(t)
	for _, want := range []string{
		`oauth2_client_operator_clients{condition="Ready",reason="Reconciled",status="True"}`,
		`oauth2_client_operator_hydra_requests_total{code="201",operation="create"}`,
		`oauth2_client_operator_hydra_request_duration_seconds_bucket{code="201",operation="create"`,
		`controller_runtime_reconcile_total{controller="oauth2client"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestNoSecretLeaks runs after the lifecycle tests (files run in name order): it looks at
// everything the operator has said during the suite so far (logs, events, status, metrics) for any client
// secret held in any Secret it manages or reads.
func TestNoSecretLeaks(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "leaks")
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		create(t, serviceClient(ns, name))
	}
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		waitReady(t, ns, name)
	}

	var secrets corev1.SecretList
	if err := k8s.List(ctx, &secrets); err != nil {
		t.Fatal(err)
	}
	var values []string
	for _, s := range secrets.Items {
		if v := s.Data["client_secret"]; len(v) > 0 {
			values = append(values, string(v))
		}
	}
	if len(values) < 5 {
		t.Fatalf("only %d client secrets found; the leak check would prove little", len(values))
	}

	// The event recorder writes asynchronously; poll until events have landed.
	var events eventsv1.EventList
	eventually(t, 10*time.Second, func() error {
		if err := k8s.List(ctx, &events); err != nil {
			return err
		}
		if len(events.Items) == 0 {
			return errNoEvents
		}
		return nil
	})
	var statuses strings.Builder
	var objs = listAllClients(t)
	for _, o := range objs {
		statuses.WriteString(o.Status.CredentialsFingerprint + o.Status.ClientID)
		for _, c := range o.Status.Conditions {
			statuses.WriteString(c.Message)
		}
	}
	var eventText strings.Builder
	for _, e := range events.Items {
		eventText.WriteString(e.Note + e.Reason)
	}
	sources := map[string]string{
		"logs": logBuf.String(), "events": eventText.String(), "status": statuses.String(), "metrics": scrape(t),
	}
	// The check can only fail if the sources are really captured: the client IDs, which the
	// operator does log and report, must be found in them.
	if id := objs[0].Status.ClientID; !strings.Contains(sources["logs"], id) || !strings.Contains(sources["events"]+sources["status"], id) {
		t.Fatalf("client ID %s not found in the captured logs, events and status; the capture is broken", id)
	}
	for name, text := range sources {
		for _, v := range values {
			if strings.Contains(text, v) {
				t.Errorf("a client secret appears in the operator's %s", name)
			}
		}
	}
	t.Logf("checked %d client secrets against %d bytes of logs, %d events, %d resources' status and the metrics",
		len(values), len(sources["logs"]), len(events.Items), len(objs))
}

var errNoEvents = &noEventsError{}

type noEventsError struct{}

func (*noEventsError) Error() string { return "no events yet" }

func listAllClients(t *testing.T) []v1alpha1.OAuth2Client {
	t.Helper()
	var list v1alpha1.OAuth2ClientList
	if err := k8s.List(context.Background(), &list, client.InNamespace("")); err != nil {
		t.Fatal(err)
	}
	return list.Items
}
