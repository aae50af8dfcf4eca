package hydrafake_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra/hydrafake"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

// What the fake does like Hydra is tested by internal/hydra's contract test; this file tests
// what only the fake does.

func adapter(t *testing.T, fake *hydrafake.Fake, timeout time.Duration) hydra.Client {
	t.Helper()
	c, err := hydra.New(hydra.Options{AdminURL: fake.URL, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func client(id, secret string) *hydra.OAuth2Client {
	return &hydra.OAuth2Client{ClientId: &id, ClientSecret: &secret, GrantTypes: []string{"client_credentials"}}
}

func statusOf(err error) int {
	var apiErr *hydra.APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode
	}
	return 0
}

func TestFailNext(t *testing.T) {
	fake := hydrafake.Start(t)
	hc, ctx := adapter(t, fake, 0), context.Background()
	fake.FailNext(2, http.StatusServiceUnavailable)
	if _, err := hc.Create(ctx, client("a", "secret-a")); !hydra.IsTransient(err) || statusOf(err) != 503 {
		t.Errorf("create: %v, want an injected 503", err)
	}
	if _, err := hc.Get(ctx, "a"); statusOf(err) != 503 {
		t.Errorf("get: %v, want an injected 503", err)
	}
	if _, err := hc.Get(ctx, "a"); !hydra.IsNotFound(err) {
		t.Errorf("get after the faults: %v, want not found (the failed create stored nothing)", err)
	}
}

func TestFailNextOn(t *testing.T) {
	fake := hydrafake.Start(t)
	hc, ctx := adapter(t, fake, 0), context.Background()
	if _, err := hc.Create(ctx, client("a", "secret-a")); err != nil {
		t.Fatal(err)
	}
	fake.FailNextOn(hydrafake.OpUpdate, 1, http.StatusInternalServerError)
	if _, err := hc.Get(ctx, "a"); err != nil {
		t.Errorf("get while an update fault waits: %v", err)
	}
	if _, err := hc.Update(ctx, "a", client("a", "secret-b")); statusOf(err) != 500 {
		t.Errorf("update: %v, want an injected 500", err)
	}
	if !fake.SecretMatches("a", "secret-a") {
		t.Error("the failed update changed the secret")
	}
	if _, err := hc.Update(ctx, "a", client("a", "secret-b")); err != nil || !fake.SecretMatches("a", "secret-b") {
		t.Errorf("update after the fault: %v", err)
	}
}

func TestHangNext(t *testing.T) {
	fake := hydrafake.Start(t)
	// The hanging call's timeout is short so the test is quick; the call after it has a long
	// one, so that a busy machine cannot turn its slow answer into a second deadline error.
	impatient := adapter(t, fake, 500*time.Millisecond)
	patient := adapter(t, fake, time.Minute)
	fake.HangNext(1)
	_, err := impatient.Get(context.Background(), "a")
	if !hydra.IsTransient(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("get of a hanging fake: %v, want a transient deadline error", err)
	}
	if got := fake.Calls().Get; got != 1 {
		t.Fatalf("the fake saw %d gets, want the hung one", got)
	}
	if _, err := patient.Get(context.Background(), "a"); !hydra.IsNotFound(err) {
		t.Errorf("get after the hang: %v, want not found", err)
	}
}

func TestCloseCutsOffHungRequests(t *testing.T) {
	fake := hydrafake.New()
	hc := adapter(t, fake, time.Minute)
	fake.HangNext(1)
	done := make(chan error)
	go func() {
		_, err := hc.Get(context.Background(), "a")
		done <- err
	}()
	testenv.Eventually(t, 10*time.Second, func() error {
		if fake.Calls().Get == 0 {
			return errors.New("the get has not reached the fake yet")
		}
		return nil
	})
	closed := make(chan struct{})
	go func() { fake.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waits for the hung request")
	}
	if err := <-done; !hydra.IsTransient(err) {
		t.Errorf("the hung get: %v, want a transient error", err)
	}
}

func TestCalls(t *testing.T) {
	fake := hydrafake.Start(t)
	hc, ctx := adapter(t, fake, 0), context.Background()
	for _, id := range []string{"a", "b", "c"} {
		if _, err := hc.Create(ctx, client(id, "secret-"+id)); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = hc.Get(ctx, "a")
	_, _ = hc.Get(ctx, "missing")
	_, _ = hc.Update(ctx, "a", client("a", ""))
	_ = hc.Delete(ctx, "b")
	// Two clients in pages of one: the last page has no next link.
	_ = hc.List(ctx, "", 1, func([]hydra.OAuth2Client) error { return nil })
	want := hydrafake.Calls{Get: 2, List: 2, Create: 3, Update: 1, Delete: 1}
	if got := fake.Calls(); got != want || got.Total() != 9 {
		t.Errorf("Calls() = %+v, want %+v", got, want)
	}
}

func TestSecretMatches(t *testing.T) {
	fake := hydrafake.Start(t)
	if _, err := adapter(t, fake, 0).Create(context.Background(), client("a", "secret-a")); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		id, secret string
		want       bool
	}{{"a", "secret-a", true}, {"a", "secret-b", false}, {"a", "", false}, {"b", "secret-a", false}} {
		if got := fake.SecretMatches(tt.id, tt.secret); got != tt.want {
			t.Errorf("SecretMatches(%q, %q) = %v", tt.id, tt.secret, got)
		}
	}
}

func TestUnroutable(t *testing.T) {
	fake := hydrafake.Start(t)
	for _, path := range []string{"/admin/clients/a%2Fb", "/admin/clients/", "/clients", "/admin/clients/a/lifespans"} {
		resp, err := http.Get(fake.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
	if fake.Calls().Total() != 0 {
		t.Errorf("unroutable requests counted as calls: %+v", fake.Calls())
	}
}

// TestConcurrentUse is for go test -race: many clients at once, each on its own ID.
func TestConcurrentUse(t *testing.T) {
	fake := hydrafake.Start(t)
	hc, ctx := adapter(t, fake, 0), context.Background()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			id := fmt.Sprintf("client-%02d", i)
			if _, err := hc.Create(ctx, client(id, "secret-"+id)); err != nil {
				t.Error(err)
				return
			}
			_, _ = hc.Get(ctx, id)
			_, _ = hc.Update(ctx, id, client(id, ""))
			_ = hc.List(ctx, "", 5, func([]hydra.OAuth2Client) error { return nil })
			_ = fake.SecretMatches(id, "secret-"+id)
			_ = hc.Delete(ctx, id)
		})
	}
	wg.Wait()
	if c := fake.Calls(); c.Create != 16 || c.Delete != 16 {
		t.Errorf("Calls() = %+v", c)
	}
}
