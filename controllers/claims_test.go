package controllers

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

func TestEntitledClaimant(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	claimant := func(ns string, created time.Duration, registered bool) v1alpha1.OAuth2Client {
		o := v1alpha1.OAuth2Client{ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: "app", UID: types.UID(ns), CreationTimestamp: metav1.NewTime(t0.Add(created)),
		}}
		o.Spec.ClientID = "id"
		if registered {
			o.Status.ClientID = "id"
		}
		return o
	}
	for _, tc := range []struct {
		name      string
		claimants []v1alpha1.OAuth2Client
		want      string
	}{
		{"none", nil, ""},
		{"the oldest asker", []v1alpha1.OAuth2Client{claimant("b", time.Hour, false), claimant("a", 0, false)}, "a"},
		{"the one that registered it, though younger", []v1alpha1.OAuth2Client{claimant("old", 0, false), claimant("owner", time.Hour, true)}, "owner"},
		{"of two that registered it, the oldest", []v1alpha1.OAuth2Client{claimant("b", time.Hour, true), claimant("a", 0, true)}, "a"},
		{"a tie in age goes by namespace", []v1alpha1.OAuth2Client{claimant("z", 0, false), claimant("m", 0, false)}, "m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := entitledClaimant("id", tc.claimants)
			if (got == nil) != (tc.want == "") || (got != nil && got.Namespace != tc.want) {
				t.Fatalf("got %v, want %q", got, tc.want)
			}
			// The verdict must not depend on the order the cache lists them in.
			reversed := make([]v1alpha1.OAuth2Client, len(tc.claimants))
			for i, c := range tc.claimants {
				reversed[len(reversed)-1-i] = c
			}
			if again := entitledClaimant("id", reversed); (again == nil) != (got == nil) || (again != nil && again.UID != got.UID) {
				t.Fatal("the verdict depends on the listing order")
			}
		})
	}
}

func TestNamespacePolicyMayChoose(t *testing.T) {
	for _, tc := range []struct {
		rules       []string
		ns, uid, id string
		want        bool
	}{
		{nil, "shop", "u1", "u1", true},             // the derived ID
		{nil, "shop", "u1", "shop.billing", true},   // its own prefix
		{nil, "shop", "u1", "shop.", false},         // the bare prefix is no ID
		{nil, "shop", "u1", "shopping.cart", false}, // another namespace's prefix
		{nil, "shop", "u1", "shop-billing", false},  // looks alike, is not the prefix
		{nil, "shop", "u1", "u2", false},            // another resource's UID
		{[]string{"*"}, "shop", "u1", "anything", true},
		{[]string{"platform-*"}, "platform-a", "u1", "legacy", true},
		{[]string{"platform-*"}, "shop", "u1", "legacy", false},
		{[]string{"shop=legacy-*"}, "shop", "u1", "legacy-cart", true},
		{[]string{"shop=legacy-*"}, "shop", "u1", "other", false},
	} {
		p := NamespacePolicy{ClientIDRules: tc.rules}
		if got := p.mayChoose(tc.ns, tc.uid, tc.id); got != tc.want {
			t.Errorf("rules %q: %s may choose %q = %t, want %t", tc.rules, tc.ns, tc.id, got, tc.want)
		}
	}
}
