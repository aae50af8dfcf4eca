package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/json"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/secrets"
)

// An update of a client this process registered, and that the drift scanner (or a pass since)
// last saw in sync, needs no read of Hydra first: the owner mark was seen, so the write can't
// take another's client, and a PUT replaces the whole client, so nothing read would be kept
// anyway. What this process last knew Hydra to hold (sent) tells a spec change that alters the
// client from one that does not (secretTemplate, rotation, deletionPolicy), which then needs no
// write at all. After a restart nothing is remembered and the pass reads Hydra as before.

// sentClient is the digest of the desired client last known to be at Hydra.
type sentClient struct {
	digest [sha256.Size]byte
}

// digestOf is the digest of a desired client (which holds no secret).
func digestOf(desired *hydra.OAuth2Client) [sha256.Size]byte {
	raw, _ := json.Marshal(desired) // a client decoded from and encoded to JSON always encodes
	return sha256.Sum256(raw)
}

// rememberSent records that Hydra holds desired for the resource.
func (r *OAuth2ClientReconciler) rememberSent(obj *v1alpha1.OAuth2Client, desired *hydra.OAuth2Client) {
	r.sent.Store(obj.UID, sentClient{digest: digestOf(desired)})
}

// knownAtHydra reports whether this pass may update the client without reading it: the status
// names these credentials as registered, the drift scanner has seen the client in sync as this
// resource's, and this process remembers what it holds.
func (r *OAuth2ClientReconciler) knownAtHydra(obj *v1alpha1.OAuth2Client, srv *Server, clientID, fingerprint string) bool {
	if obj.Status.ClientID != clientID || obj.Status.CredentialsFingerprint != fingerprint || !srv.verdicts().SeenInSync(obj) {
		return false
	}
	_, ok := r.sent.Load(obj.UID)
	return ok
}

// updateUnread makes Hydra's client the desired one without reading it first (knownAtHydra):
// no write when the desired client is the one Hydra was last known to hold, else one PUT. A
// client gone at Hydra meanwhile is created again, as after a read.
func (r *OAuth2ClientReconciler) updateUnread(ctx context.Context, obj *v1alpha1.OAuth2Client, srv *Server, desired *hydra.OAuth2Client, creds secrets.Credentials, fingerprint string) error {
	if v, _ := r.sent.Load(obj.UID); v.(sentClient).digest != digestOf(desired) {
		err := r.updateClient(ctx, obj, srv, desired, creds, nil, false, "")
		if hydra.IsNotFound(err) {
			return r.createClient(ctx, obj, srv, desired, creds, fingerprint)
		}
		if err != nil {
			return err
		}
	}
	r.remember(obj, srv, creds.ClientID, fingerprint)
	r.rememberSent(obj, desired)
	return nil
}
