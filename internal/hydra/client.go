// Package hydra is the operator's adapter around Ory Hydra's admin API
// (github.com/ory/hydra-client-go/v2). The reconciler sees only the Client interface; errors are
// typed by what the caller should do next (see errors.go).
package hydra

import (
	"context"

	hydraclient "github.com/ory/hydra-client-go/v2"
)

// OAuth2Client is Hydra's representation of a client, as sent to and returned by the admin API.
type OAuth2Client = hydraclient.OAuth2Client

// Client is the part of Hydra's admin API the operator uses. Every method takes the context
// first and honours its deadline. Errors are *APIError (see errors.go) or transport errors;
// classify them with IsNotFound, IsConflict, IsRejected and IsTransient.
type Client interface {
	// Get returns the client with this ID, or an error for which IsNotFound is true.
	Get(ctx context.Context, id string) (*OAuth2Client, error)
	// Create registers a client. The ID and secret in c are used as given. A client with the
	// same ID answers an error for which IsConflict is true.
	Create(ctx context.Context, c *OAuth2Client) (*OAuth2Client, error)
	// Update replaces the client with this ID (HTTP PUT). Omitted fields reset to Hydra's
	// defaults; an empty ClientSecret keeps the current secret, a non-empty one rotates it.
	Update(ctx context.Context, id string, c *OAuth2Client) (*OAuth2Client, error)
	// Delete removes the client with this ID; IsNotFound is true when it does not exist.
	Delete(ctx context.Context, id string) error
	// List calls fn with each page of clients (ordered by ID) until fn returns an error or the
	// last page has been seen. ownerFilter, when not empty, keeps only clients with that owner.
	List(ctx context.Context, ownerFilter string, pageSize int, fn func(page []OAuth2Client) error) error
}
