//go:build integration

package controllers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
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
	out, err := gatherMetrics()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMetricsAfterReconcile(t *testing.T) {
	ns := newNamespace(t, "metrics")
	create(t, serviceClient(ns, "svc"))
	waitReady(t, ns, "svc")
	out := scrape(t)
	for _, want := range []string{
		`oauth2_client_operator_clients{condition="Ready",reason="Reconciled",server="default",status="True"}`,
		`oauth2_client_operator_hydra_requests_total{code="201",operation="create",server="default"}`,
		`oauth2_client_operator_hydra_request_duration_seconds_bucket{code="201",operation="create",server="default"`,
		`controller_runtime_reconcile_total{controller="oauth2client"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// checkNoSecretLeaks runs from TestMain after every test of the package: it looks at everything
// the operator said during the whole suite (logs, events, status, metrics) for any client
// secret seen during the suite: those registered by tests, every version of every Secret the
// watch saw (a rotated secret lives in a Secret only for a while), and those there at the end.
func checkNoSecretLeaks(ctx context.Context) error {
	if err := snapshotSecrets(ctx); err != nil {
		return err
	}
	var events eventsv1.EventList
	if err := k8s.List(ctx, &events); err != nil {
		return err
	}
	var clients v1alpha1.OAuth2ClientList
	if err := k8s.List(ctx, &clients); err != nil {
		return err
	}
	var statuses, eventText strings.Builder
	for _, o := range clients.Items {
		statuses.WriteString(o.Status.CredentialsFingerprint + o.Status.ClientID)
		for _, c := range o.Status.Conditions {
			statuses.WriteString(c.Message)
		}
	}
	for _, e := range events.Items {
		eventText.WriteString(e.Note + e.Reason)
	}
	metricsText, err := gatherMetrics()
	if err != nil {
		return err
	}
	sources := map[string]string{
		"logs": logBuf.String(), "events": eventText.String(), "status": statuses.String(), "metrics": metricsText,
	}
	if suiteLeaks.Len() == 0 {
		fmt.Fprintln(os.Stderr, "secret leak check: no client secret was seen (no test created a client)")
		return nil
	}
	// The check can only fail if the sources are really captured: a client ID, which the operator
	// does log and report, must be found in them.
	if err := captureWorks(clients.Items, sources); err != nil {
		return err
	}
	if leaks := suiteLeaks.Find(sources); len(leaks) > 0 {
		return fmt.Errorf("secret leak check: %s", strings.Join(leaks, "; "))
	}
	fmt.Fprintf(os.Stderr, "secret leak check: %d client secrets checked against %d bytes of logs, %d events, %d resources' status and the metrics\n",
		suiteLeaks.Len(), len(sources["logs"]), len(events.Items), len(clients.Items))
	return nil
}

func captureWorks(clients []v1alpha1.OAuth2Client, sources map[string]string) error {
	for _, o := range clients {
		if id := o.Status.ClientID; id != "" && strings.Contains(sources["logs"], id) &&
			strings.Contains(sources["events"]+sources["status"], id) {
			return nil
		}
	}
	return errors.New("secret leak check: no client ID found in the captured logs, events and status; the capture is broken")
}

// snapshotSecrets records the client secrets of every Secret in the cluster now.
func snapshotSecrets(ctx context.Context) error {
	var list corev1.SecretList
	if err := k8s.List(ctx, &list); err != nil {
		return err
	}
	for i := range list.Items {
		rememberSecretsIn(&list.Items[i])
	}
	return nil
}

// rememberSecretsIn records the values of a Secret's keys that hold a client secret.
func rememberSecretsIn(s *corev1.Secret) { suiteLeaks.RememberSecret(s) }

// watchSecrets records every version of every Secret until ctx ends, so that secrets replaced
// during a test (rotated, edited, deleted and regenerated) are checked for leaks too.
func watchSecrets(ctx context.Context, wc client.WithWatch) {
	for ctx.Err() == nil {
		w, err := wc.Watch(ctx, &corev1.SecretList{})
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(time.Second): // retry interval of a failed watch
			}
			continue
		}
		for ev := range w.ResultChan() {
			if s, ok := ev.Object.(*corev1.Secret); ok {
				rememberSecretsIn(s)
			}
		}
		w.Stop()
	}
}

func gatherMetrics() (string, error) {
	families, err := metrics.Registry.Gather()
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	for _, f := range families {
		if _, err := expfmt.MetricFamilyToText(&buf, f); err != nil {
			return "", err
		}
	}
	return buf.String(), nil
}
