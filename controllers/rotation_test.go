package controllers

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra/hydrafake"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/secrets"
)

// The fast tier's rotation cases: when a rotation is due (pure), and what a pass does with one,
// on an injected clock, so that a schedule is seen to fire on time without waiting for it.

func TestRotationDue(t *testing.T) {
	issued := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	hourly := &v1alpha1.Rotation{Strategy: v1alpha1.RotationStrategyReplace, Period: "1h"}
	cases := []struct {
		name      string
		rot       *v1alpha1.Rotation
		requested string
		iss       issuance
		now       time.Time
		due       bool
		reason    string
	}{
		{"no rotation, no request", nil, "", issuance{issuedAt: issued}, issued.Add(1000 * time.Hour), false, ""},
		{"a second before the period ends", hourly, "", issuance{issuedAt: issued}, issued.Add(time.Hour - time.Second), false, ""},
		{"when the period ends", hourly, "", issuance{issuedAt: issued}, issued.Add(time.Hour), true, rotationScheduled},
		{"long overdue", hourly, "", issuance{issuedAt: issued}, issued.Add(100 * time.Hour), true, rotationScheduled},
		{"issue time unknown: no schedule", hourly, "", issuance{}, issued, false, ""},
		{"period unset: requests only", &v1alpha1.Rotation{Strategy: v1alpha1.RotationStrategyReplace}, "", issuance{issuedAt: issued}, issued.Add(9999 * time.Hour), false, ""},
		{"a new request without spec.rotation", nil, "2026-03-01T12:30:00Z", issuance{issuedAt: issued}, issued, true, rotationRequested},
		{"a new request before the period ends", hourly, "r2", issuance{issuedAt: issued, request: "r1"}, issued, true, rotationRequested},
		{"a request already carried out", hourly, "r1", issuance{issuedAt: issued, request: "r1"}, issued.Add(time.Minute), false, ""},
		{"a request removed", nil, "", issuance{issuedAt: issued, request: "r1"}, issued, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			due, reason := rotationDue(c.rot, c.requested, c.iss, c.now)
			if due != c.due || reason != c.reason {
				t.Errorf("rotationDue = %v, %q; want %v, %q", due, reason, c.due, c.reason)
			}
		})
	}
}

// rotating is a resource with strategy Replace every hour.
func rotating(obj *v1alpha1.OAuth2Client) {
	obj.Spec.Rotation = &v1alpha1.Rotation{Strategy: v1alpha1.RotationStrategyReplace, Period: "1h"}
}

// newRotationWorld is a fast world whose reconciler reads the time from clock.
func newRotationWorld(t *testing.T, start time.Time, objs ...*v1alpha1.OAuth2Client) (*fastWorld, *clocktesting.FakePassiveClock) {
	t.Helper()
	w := newFastWorld(t, objectsOf(objs)...)
	clock := clocktesting.NewFakePassiveClock(start)
	w.r.Clock = clock
	return w, clock
}

// credentials reads the resource's Secret as the application would.
func (w *fastWorld) credentials(obj *v1alpha1.OAuth2Client) secrets.Credentials {
	w.t.Helper()
	s := w.secret(obj.Namespace, secretName(obj))
	if s == nil {
		w.t.Fatalf("no Secret %s", secretName(obj))
	}
	return secrets.Read(s, obj.Spec.SecretTemplate)
}

func TestScheduledRotationFiresOnTime(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	obj := resource("team", "billing", rotating)
	w, clock := newRotationWorld(t, start, obj)
	rotatedBefore := testutil.ToFloat64(rotations.WithLabelValues(DefaultServer, "Replace", "success"))

	if _, err := w.reconcile(obj, 3); err != nil {
		t.Fatal(err)
	}
	first := w.credentials(obj)
	st := w.get(obj).Status.Rotation
	if st == nil || !st.CredentialsIssuedAt.Time.Equal(start) || st.NextRotationTime == nil || !st.NextRotationTime.Time.Equal(start.Add(time.Hour)) || st.LastRotationTime != nil {
		t.Fatalf("status.rotation after creation = %+v; want issued %s, next %s, never rotated", st, start, start.Add(time.Hour))
	}

	// A second early: nothing happens, and the next pass is due when the period ends.
	clock.SetTime(start.Add(time.Hour - time.Second))
	res, err := w.reconcile(obj, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.credentials(obj); got.ClientSecret != first.ClientSecret {
		t.Fatal("the secret changed before the period ended")
	}
	if res.RequeueAfter <= 0 || res.RequeueAfter > w.r.SyncPeriod*11/10 {
		t.Errorf("RequeueAfter = %s; want a pass within the sync period (%s)", res.RequeueAfter, w.r.SyncPeriod)
	}

	// On time: the Secret holds a new secret, the server accepts it and no longer the old one.
	clock.SetTime(start.Add(time.Hour))
	if _, err := w.reconcile(obj, 3); err != nil {
		t.Fatal(err)
	}
	second := w.credentials(obj)
	if second.ClientSecret == first.ClientSecret || second.ClientID != first.ClientID {
		t.Fatal("no new secret in the Secret when the period ended")
	}
	if !w.hydra.SecretMatches(second.ClientID, second.ClientSecret) || w.hydra.SecretMatches(first.ClientID, first.ClientSecret) {
		t.Error("the server does not accept exactly the new secret")
	}
	got := w.get(obj)
	st = got.Status.Rotation
	if st.LastRotationTime == nil || !st.LastRotationTime.Time.Equal(start.Add(time.Hour)) || !st.NextRotationTime.Time.Equal(start.Add(2*time.Hour)) {
		t.Errorf("status.rotation after the rotation = %+v; want last %s, next %s", st, start.Add(time.Hour), start.Add(2*time.Hour))
	}
	if !readyTrue(got) {
		t.Errorf("not Ready after the rotation: %+v", got.Status.Conditions)
	}
	if n := testutil.ToFloat64(rotations.WithLabelValues(DefaultServer, "Replace", "success")) - rotatedBefore; n != 1 {
		t.Errorf("rotations_total{result=success} grew by %v; want 1", n)
	}
	if reasons := w.eventReasons(); !slices.Contains(reasons, "Rotated") {
		t.Errorf("events %v; want a Rotated event", reasons)
	}
	if a := w.secret(obj.Namespace, obj.Name).Annotations[v1alpha1.CredentialsIssuedAtAnnotation]; a != "2026-03-01T13:00:00Z" {
		t.Errorf("Secret's %s = %q; want the rotation's time", v1alpha1.CredentialsIssuedAtAnnotation, a)
	}

	// Passes that follow do not rotate again.
	if _, err := w.reconcile(obj, 1); err != nil {
		t.Fatal(err)
	}
	if got := w.credentials(obj); got.ClientSecret != second.ClientSecret {
		t.Error("a second pass at the same time rotated again")
	}
}

func TestRequestedRotationHappensOnce(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	obj := resource("team", "orders") // no spec.rotation: a request still rotates, with Replace
	w, clock := newRotationWorld(t, start, obj)
	if _, err := w.reconcile(obj, 3); err != nil {
		t.Fatal(err)
	}
	first := w.credentials(obj)
	if st := w.get(obj).Status.Rotation; st == nil || !st.CredentialsIssuedAt.Time.Equal(start) || st.NextRotationTime != nil {
		t.Errorf("status.rotation of a resource without spec.rotation = %+v; want only the issue time %s", st, start)
	}

	clock.SetTime(start.Add(10 * time.Minute))
	w.annotate(obj, v1alpha1.RotateRequestedAtAnnotation, "2026-03-01T12:10:00Z")
	for range 3 {
		if _, err := w.reconcile(obj, 3); err != nil {
			t.Fatal(err)
		}
	}
	second := w.credentials(obj)
	if second.ClientSecret == first.ClientSecret || !w.hydra.SecretMatches(second.ClientID, second.ClientSecret) {
		t.Fatal("the request did not rotate the secret, or the server does not accept the new one")
	}
	st := w.get(obj).Status.Rotation
	if st == nil || st.LastHandledRequest != "2026-03-01T12:10:00Z" || st.LastRotationTime == nil || !st.LastRotationTime.Time.Equal(start.Add(10*time.Minute)) {
		t.Fatalf("status.rotation = %+v; want the request handled and the rotation's time", st)
	}
	if st.NextRotationTime != nil {
		t.Errorf("nextRotationTime %s without a period", st.NextRotationTime)
	}
	if got := w.credentials(obj); got.ClientSecret != second.ClientSecret {
		t.Error("the same request rotated twice")
	}
}

func TestRotationWaitsForTheServer(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	obj := resource("team", "ledger", rotating)
	w, clock := newRotationWorld(t, start, obj)
	if _, err := w.reconcile(obj, 3); err != nil {
		t.Fatal(err)
	}
	first := w.credentials(obj)
	errorsBefore := testutil.ToFloat64(rotations.WithLabelValues(DefaultServer, "Replace", "error"))

	// Due while the server answers 503: the Secret keeps the credentials the server accepts.
	clock.SetTime(start.Add(2 * time.Hour))
	w.hydra.FailNext(1, http.StatusServiceUnavailable)
	if _, err := w.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(obj)}); err == nil {
		t.Fatal("a pass with the server down succeeded")
	}
	if got := w.credentials(obj); got.ClientSecret != first.ClientSecret || !w.hydra.SecretMatches(got.ClientID, got.ClientSecret) {
		t.Fatal("the Secret changed while the server was down; its credentials must keep working")
	}
	if n := testutil.ToFloat64(rotations.WithLabelValues(DefaultServer, "Replace", "error")) - errorsBefore; n != 1 {
		t.Errorf("rotations_total{result=error} grew by %v; want 1", n)
	}

	// The write of the new secret reaches the server only on the next pass (as after a crash
	// between the Secret write and the server call): that pass registers it.
	w.hydra.FailNextOn(hydrafake.OpUpdate, 1, http.StatusServiceUnavailable)
	if _, err := w.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(obj)}); err == nil {
		t.Fatal("the pass whose update failed succeeded")
	}
	pending := w.credentials(obj)
	if pending.ClientSecret == first.ClientSecret {
		t.Fatal("the rotation did not write the new secret to the Secret before calling the server")
	}
	if _, err := w.reconcile(obj, 3); err != nil {
		t.Fatal(err)
	}
	if got := w.credentials(obj); got.ClientSecret != pending.ClientSecret || !w.hydra.SecretMatches(got.ClientID, got.ClientSecret) {
		t.Fatal("the next pass did not register the secret the Secret holds")
	}
	st := w.get(obj).Status.Rotation
	if st.LastRotationTime == nil || !st.LastRotationTime.Time.Equal(start.Add(2*time.Hour)) {
		t.Errorf("status.rotation = %+v; want the rotation recorded at %s", st, start.Add(2*time.Hour))
	}
	if reasons := w.eventReasons(); !slices.Contains(reasons, "Rotated") {
		t.Errorf("events %v; want Rotated once the server accepted the secret", reasons)
	}
}

func TestRotationWaitsUntilReady(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	obj := resource("team", "stuck", rotating)
	w, clock := newRotationWorld(t, start, obj)
	if _, err := w.reconcile(obj, 3); err != nil {
		t.Fatal(err)
	}
	first := w.credentials(obj)
	// A new generation the pass has not finished: the resource is not settled.
	got := w.get(obj)
	got.Generation++
	if err := w.k8s.Update(context.Background(), got); err != nil {
		t.Fatal(err)
	}
	clock.SetTime(start.Add(3 * time.Hour))
	w.hydra.FailNext(5, http.StatusServiceUnavailable)
	_, _ = w.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(obj)})
	if got := w.credentials(obj); got.ClientSecret != first.ClientSecret {
		t.Fatal("rotated a resource that was not Ready for its generation")
	}
}

func readyTrue(obj *v1alpha1.OAuth2Client) bool {
	c := conditionOf(obj, v1alpha1.ConditionReady)
	return c != nil && c.Status == metav1.ConditionTrue
}

func objectsOf(objs []*v1alpha1.OAuth2Client) []client.Object {
	out := make([]client.Object, len(objs))
	for i, o := range objs {
		out[i] = o
	}
	return out
}

// annotate sets an annotation on the resource, as kubectl annotate --overwrite would.
func (w *fastWorld) annotate(obj *v1alpha1.OAuth2Client, key, value string) {
	w.t.Helper()
	got := w.get(obj)
	if got.Annotations == nil {
		got.Annotations = map[string]string{}
	}
	got.Annotations[key] = value
	if err := w.k8s.Update(context.Background(), got); err != nil {
		w.t.Fatal(err)
	}
}

func TestRotationRestartsOptedInTargets(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	obj := resource("team", "web", func(o *v1alpha1.OAuth2Client) {
		o.Spec.Rotation = &v1alpha1.Rotation{Strategy: v1alpha1.RotationStrategyReplace, RestartTargets: []v1alpha1.RestartTarget{
			{Kind: v1alpha1.RestartTargetDeployment, Name: "web"},
			{Kind: v1alpha1.RestartTargetStatefulSet, Name: "worker"},
			{Kind: v1alpha1.RestartTargetDeployment, Name: "database"}, // not opted in
			{Kind: v1alpha1.RestartTargetDeployment, Name: "gone"},
		}}
	})
	optIn := map[string]string{v1alpha1.RestartOnRotationAnnotation: "web"}
	web := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "web", Annotations: optIn}}
	worker := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "worker", Annotations: optIn}}
	database := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "database",
		Annotations: map[string]string{v1alpha1.RestartOnRotationAnnotation: "another-client"}}}
	w := newFastWorld(t, obj, web, worker, database)
	clock := clocktesting.NewFakePassiveClock(start)
	w.r.Clock = clock
	if _, err := w.reconcile(obj, 3); err != nil {
		t.Fatal(err)
	}
	templateStamp := func(o client.Object) string {
		t.Helper()
		if err := w.k8s.Get(context.Background(), client.ObjectKeyFromObject(o), o); err != nil {
			t.Fatal(err)
		}
		switch o := o.(type) {
		case *appsv1.Deployment:
			return o.Spec.Template.Annotations[v1alpha1.RestartedAtAnnotation]
		case *appsv1.StatefulSet:
			return o.Spec.Template.Annotations[v1alpha1.RestartedAtAnnotation]
		}
		return ""
	}
	if s := templateStamp(web); s != "" {
		t.Fatalf("creating the client restarted Deployment web (%q); only rotations restart", s)
	}
	w.eventReasons()

	clock.SetTime(start.Add(5 * time.Minute))
	w.annotate(obj, v1alpha1.RotateRequestedAtAnnotation, "now")
	if _, err := w.reconcile(obj, 3); err != nil {
		t.Fatal(err)
	}
	const want = "2026-03-01T12:05:00Z"
	if s := templateStamp(web); s != want {
		t.Errorf("Deployment web's pod template stamp = %q; want %q", s, want)
	}
	if s := templateStamp(worker); s != want {
		t.Errorf("StatefulSet worker's pod template stamp = %q; want %q", s, want)
	}
	if s := templateStamp(database); s != "" {
		t.Errorf("restarted Deployment database, which did not opt in for this client (%q)", s)
	}
	reasons := w.eventReasons()
	for _, r := range []string{"Rotated", "RestartedTarget", "RestartTargetNotAllowed", "RestartTargetNotFound"} {
		if !slices.Contains(reasons, r) {
			t.Errorf("events %v; want %s", reasons, r)
		}
	}
	version := web.ResourceVersion
	if _, err := w.reconcile(obj, 1); err != nil {
		t.Fatal(err)
	}
	templateStamp(web)
	if web.ResourceVersion != version {
		t.Error("a pass after the rotation patched the restart target again")
	}
}

// A rotation asked of a provided Secret's credentials is refused with one Warning Event per
// request, and the Secret is never written.
func TestRotationOfAProvidedSecretIsRefused(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	obj := resource("team", "ext", rotating)
	provided := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "ext", Annotations: map[string]string{v1alpha1.ClientAnnotation: "ext"}},
		Data:       map[string][]byte{"client_id": []byte("uid-team-ext"), "client_secret": []byte("a-provided-secret")},
	}
	w := newFastWorld(t, obj, provided)
	w.r.Clock = clocktesting.NewFakePassiveClock(start)
	if _, err := w.reconcile(obj, 3); err != nil {
		t.Fatal(err)
	}
	count := func(reasons []string) int {
		n := 0
		for _, r := range reasons {
			if r == "RotationNotPossible" {
				n++
			}
		}
		return n
	}
	if n := count(w.eventReasons()); n != 1 {
		t.Errorf("%d RotationNotPossible Events for spec.rotation on a provided Secret; want 1", n)
	}
	version := w.secret("team", "ext").ResourceVersion
	w.annotate(obj, v1alpha1.RotateRequestedAtAnnotation, "now")
	for range 3 {
		if _, err := w.reconcile(obj, 1); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(w.eventReasons()); n != 1 {
		t.Errorf("%d RotationNotPossible Events for one request; want 1", n)
	}
	if w.secret("team", "ext").ResourceVersion != version {
		t.Error("the operator wrote a provided Secret")
	}
	if st := w.get(obj).Status.Rotation; st == nil || st.LastHandledRequest != "now" {
		t.Errorf("status.rotation %+v; want the request recorded as handled", st)
	}
}
