package operator

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// TestShardSelector: what --watch-label-selector accepts, which OAuth2Clients a shard serves,
// and that each shard elects on a Lease of its own while replicas of one shard share theirs.
func TestShardSelector(t *testing.T) {
	shard1 := labels.Set{"oauth2.clientoperator.dev/shard": "shard1"}
	unlabelled := labels.Set{"app": "web"}
	tests := []struct {
		flag                 string
		wantErr              bool
		sharded              bool
		shard1, unlabelledOK bool
	}{
		{flag: "", shard1: true, unlabelledOK: true},
		{flag: "oauth2.clientoperator.dev/shard=shard1", sharded: true, shard1: true},
		{flag: "!oauth2.clientoperator.dev/shard", sharded: true, unlabelledOK: true},
		{flag: "oauth2.clientoperator.dev/shard in (shard2, shard3)", sharded: true},
		{flag: "=shard1", wantErr: true},
		{flag: "a b", wantErr: true},
	}
	leases := map[string]string{}
	for _, tt := range tests {
		sel, err := shardSelector(tt.flag)
		if (err != nil) != tt.wantErr {
			t.Errorf("%q: error %v, want error %v", tt.flag, err, tt.wantErr)
			continue
		}
		if tt.wantErr {
			if !strings.Contains(err.Error(), "--watch-label-selector") {
				t.Errorf("%q: the error %q does not name the flag", tt.flag, err)
			}
			continue
		}
		if (sel != nil) != tt.sharded {
			t.Errorf("%q: sharded %v, want %v", tt.flag, sel != nil, tt.sharded)
		}
		matches := func(l labels.Set) bool { return sel == nil || sel.Matches(l) }
		if matches(shard1) != tt.shard1 || matches(unlabelled) != tt.unlabelledOK {
			t.Errorf("%q: serves shard1 %v, unlabelled %v; want %v, %v", tt.flag, matches(shard1), matches(unlabelled), tt.shard1, tt.unlabelledOK)
		}
		id := leaderElectionID(sel)
		if other, seen := leases[id]; seen {
			t.Errorf("%q and %q elect on the same Lease %s", tt.flag, other, id)
		}
		leases[id] = tt.flag
		if sel == nil && id != LeaderElectionID {
			t.Errorf("without a shard the Lease is %s, want %s (replicas of an upgraded install must share it)", id, LeaderElectionID)
		}
		if len(id) > 63 {
			t.Errorf("%q: Lease name %s is longer than a DNS label", tt.flag, id)
		}
	}
	// The same selector written differently is the same shard, so its replicas share a Lease.
	a, _ := shardSelector("b=2,a=1")
	b, _ := shardSelector("a=1, b=2")
	if leaderElectionID(a) != leaderElectionID(b) {
		t.Errorf("equal selectors elect on different Leases: %s, %s", leaderElectionID(a), leaderElectionID(b))
	}
}

// TestShardCache: a shard caches only the OAuth2Clients of its selector; without a shard the
// OAuth2Client cache has no selector.
func TestShardCache(t *testing.T) {
	sel, _ := shardSelector("oauth2.clientoperator.dev/shard=shard1")
	for _, tc := range []struct {
		shard labels.Selector
		want  bool
	}{{nil, false}, {sel, true}} {
		var got labels.Selector
		for obj, by := range cacheOptions(nil, tc.shard).ByObject {
			if _, ok := obj.(*v1alpha1.OAuth2Client); ok {
				got = by.Label
			}
		}
		if (got != nil) != tc.want || (tc.want && got.String() != sel.String()) {
			t.Errorf("shard %v: the OAuth2Client cache selects %v", tc.shard, got)
		}
	}
}
