package hydra

import (
	"context"
	"testing"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra/hydrafake"
)

// The rotation endpoint of Hydra after v2.3.0, as the fake serves it after
// SupportSecretRotation (no released Hydra has it; the contract test holds the fake to v2.3.0's
// answer without it).
func TestRotateSecretAtAServerThatSupportsIt(t *testing.T) {
	fake := hydrafake.Start(t)
	fake.SupportSecretRotation()
	api := newClient(t, fake.URL)
	ctx := context.Background()
	id := uniqueID("rotate")
	if _, err := api.Create(ctx, serviceClient(t, id, "first-secret-0123")); err != nil {
		t.Fatal(err)
	}
	if err := api.RotateSecret(ctx, id, "second-secret-4567"); err != nil {
		t.Fatal(err)
	}
	if !fake.SecretMatches(id, "first-secret-0123") || !fake.SecretMatches(id, "second-secret-4567") {
		t.Fatal("after a rotation both secrets must work")
	}
	if err := api.ClearRotatedSecrets(ctx, id); err != nil {
		t.Fatal(err)
	}
	if fake.SecretMatches(id, "first-secret-0123") || !fake.SecretMatches(id, "second-secret-4567") {
		t.Fatal("after clearing, only the current secret must work")
	}
	err := api.RotateSecret(ctx, uniqueID("missing"), "third-secret-89ab")
	if !IsNotFound(err) || IsRotationUnsupported(err) {
		t.Errorf("rotating a missing client: %v; want not found", err)
	}
}
