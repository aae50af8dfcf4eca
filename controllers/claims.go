package controllers

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// Client IDs are bound to their first claimant. Ownership marks at Hydra protect a client only
// while it exists there: when it vanishes (deleted by hand, Hydra restored from an older backup)
// any resource naming its ID could register it again with a secret of its own and lock the
// rightful owner out. So before the operator creates or adopts a client, it asks which resource
// is entitled to the ID, among every OAuth2Client that asks for it (spec.clientID) or has
// registered it (status.clientID), and registers it only for that one.

// clientIDIndex is the cache index of OAuth2Clients by the client IDs they claim.
const clientIDIndex = "oauth2.clientoperator.dev/claimed-client-id"

// indexClaimsAcrossNamespaces registers clientIDIndex for the only lookup the claims check makes:
// client.MatchingFields{clientIDIndex: id} across all namespaces. controller-runtime's IndexField
// stores every value twice, under "<namespace>/<value>" and "__all_namespaces/<value>", and
// client-go keeps a set per stored value; client IDs are unique, so at 10,000 clients the
// per-namespace half was about 4 MB of the operator's heap for lookups nobody makes. The keys
// follow controller-runtime's format for field indexes (FieldIndexName, KeyToNamespacedKey in
// pkg/cache/internal); a lookup in one namespace finds nothing, and the claim tests that run
// through the manager (TestSecurityAttacksByATenant's client-ID theft) fail if the format changes.
func indexClaimsAcrossNamespaces(ctx context.Context, c cache.Cache) error {
	informer, err := c.GetInformer(ctx, &v1alpha1.OAuth2Client{}, cache.BlockUntilSynced(false))
	if err != nil {
		return err
	}
	return informer.AddIndexers(toolscache.Indexers{"field:" + clientIDIndex: func(o any) ([]string, error) {
		obj, _ := o.(client.Object)
		ids := claimedIDs(obj)
		for i, id := range ids {
			ids[i] = "__all_namespaces/" + id
		}
		return ids, nil
	}})
}

// claimedIDs are the client IDs a resource claims: the one its spec asks for and the one its
// status says it registered.
func claimedIDs(o client.Object) []string {
	obj, ok := o.(*v1alpha1.OAuth2Client)
	if !ok {
		return nil
	}
	ids := []string{}
	for _, id := range []string{obj.Spec.ClientID, obj.Status.ClientID} {
		if id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// entitledClaimant picks, among the resources that claim id, the one entitled to it: one that
// has registered it (its status names it) before one that only asks for it, then the oldest,
// then by namespace and name, so that every pass of every resource reaches the same verdict.
func entitledClaimant(id string, claimants []v1alpha1.OAuth2Client) *v1alpha1.OAuth2Client {
	if len(claimants) == 0 {
		return nil
	}
	registered := func(o *v1alpha1.OAuth2Client) int {
		if o.Status.ClientID == id {
			return 0
		}
		return 1
	}
	best := slices.MinFunc(claimants, func(a, b v1alpha1.OAuth2Client) int {
		return cmp.Or(
			cmp.Compare(registered(&a), registered(&b)),
			a.CreationTimestamp.Compare(b.CreationTimestamp.Time),
			cmp.Compare(a.Namespace, b.Namespace),
			cmp.Compare(a.Name, b.Name),
		)
	})
	return &best
}

// checkClaim refuses id when another resource is entitled to it, and tells that resource too,
// so the conflict shows on both sides at once: the claimant is stalled, the owner gets a
// Warning event. The owner's own passes never wait for this check to pass.
func (r *OAuth2ClientReconciler) checkClaim(ctx context.Context, obj *v1alpha1.OAuth2Client, id string, conflictIsNew bool) error {
	claimants, err := r.claimants(ctx, id)
	if err != nil {
		return err
	}
	claimants = slices.DeleteFunc(claimants, func(o v1alpha1.OAuth2Client) bool { return o.UID == obj.UID })
	winner := entitledClaimant(id, append(claimants, *obj))
	if winner == nil || winner.UID == obj.UID {
		return nil
	}
	if conflictIsNew {
		r.event(winner, corev1.EventTypeWarning, "ClientIDContested", fmt.Sprintf(
			"OAuth2Client %s/%s also asks for client ID %s; it was refused, this resource keeps the client", obj.Namespace, obj.Name, id))
	}
	return stalled(v1alpha1.ReasonClientIDConflict,
		"Client ID %q is claimed by OAuth2Client %s/%s, which registered or asked for it first; choose another clientID", id, winner.Namespace, winner.Name)
}

// claimants lists the OAuth2Clients that claim id, from the cache's index when the reconciler
// runs in a manager, or by listing them all (tests that drive a reconciler with a direct client).
func (r *OAuth2ClientReconciler) claimants(ctx context.Context, id string) ([]v1alpha1.OAuth2Client, error) {
	list := &v1alpha1.OAuth2ClientList{}
	if r.claimsIndexed {
		if err := r.List(ctx, list, client.MatchingFields{clientIDIndex: id}); err != nil {
			return nil, fmt.Errorf("listing claims on client ID %s: %w", id, err)
		}
		return list.Items, nil
	}
	if err := r.List(ctx, list); err != nil {
		return nil, fmt.Errorf("listing claims on client ID %s: %w", id, err)
	}
	return slices.DeleteFunc(list.Items, func(o v1alpha1.OAuth2Client) bool { return !slices.Contains(claimedIDs(&o), id) }), nil
}
