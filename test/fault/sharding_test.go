//go:build fault

package fault

import (
	"fmt"
	"sort"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// shardLabel is the label the documented sharding setup selects on.
const shardLabel = "oauth2.clientoperator.dev/shard"

// TestShardsSplitClients runs two shards, each a replica with leader election on a Lease of its
// own, each behind its own counting proxy to Hydra and with its own API user, so every write is
// attributed to one shard: the default shard (--watch-label-selector=!shard) and shard "one".
// Of 1,000 OAuth2Clients, every other one is labelled for shard one. All converge (none missed),
// each was written at the API server by its own shard only (none reconciled by both), and each
// shard carried out exactly one Hydra create per client of its own.
func TestShardsSplitClients(t *testing.T) {
	const n = 1000
	e := setup(t, "shards", 6*time.Minute)
	type shard struct {
		name, selector, user string
		proxy                *faultProxy
		op                   *operatorProc
		clients              map[string]bool // namespace/name
	}
	shards := []*shard{
		{name: "default", selector: "!" + shardLabel, user: "shard-default", clients: map[string]bool{}},
		{name: "one", selector: shardLabel + "=one", user: "shard-one", clients: map[string]bool{}},
	}
	for _, s := range shards {
		var err error
		if s.proxy, err = startFaultProxy(e.hydra.AdminURL()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.proxy.close)
		kubeconfig, err := e.cp.userKubeconfig(s.user)
		if err != nil {
			t.Fatal(err)
		}
		s.op = e.startOperator(operatorOptions{HydraAdminURL: s.proxy.URL(), Metrics: true, Log: "operator-" + s.name, Kubeconfig: kubeconfig,
			Args: []string{"--watch-label-selector=" + s.selector, "--leader-elect", "--leader-election-namespace=" + e.ns,
				"--leader-election-lease-duration=" + leaseDuration.String(), "--leader-election-renew-deadline=" + renewDeadline.String(),
				"--leader-election-retry-period=" + retryPeriod.String()}})
	}
	// Each shard leads its own Lease: two Leases, two holders, both replicas leading.
	if err := e.waitFor("both shards lead", time.Minute, func() (bool, error) {
		leases := &coordinationv1.LeaseList{}
		if err := e.k8s.List(e.ctx, leases, client.InNamespace(e.ns)); err != nil {
			return false, err
		}
		holders := map[string]bool{}
		for _, l := range leases.Items {
			if l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != "" {
				holders[*l.Spec.HolderIdentity] = true
			}
		}
		for _, s := range shards {
			if lead, err := leaderStatus(e, s.op); err != nil || !lead {
				return false, err
			}
		}
		return len(holders) == 2, nil
	}); err != nil {
		t.Fatal(err)
	}

	var objs []*v1alpha1.OAuth2Client
	for i, name := range names("svc", 0, n) {
		obj := serviceClient(e.ns, name, "fault.read")
		s := shards[0]
		if i%2 == 1 {
			obj.Labels = map[string]string{shardLabel: "one"}
			s = shards[1]
		}
		s.clients[e.ns+"/"+name] = true
		objs = append(objs, obj)
	}
	begin := time.Now()
	if err := e.startCreating(objs, 8).wait(); err != nil {
		t.Fatal(err)
	}
	converge, snap, err := e.waitConverged(begin, n, 4*time.Minute)
	tally := snap.tally()
	if err != nil {
		t.Fatal(err)
	}

	writers, err := e.cp.objectWriters("oauth2clients")
	if err != nil {
		t.Fatal(err)
	}
	var misrouted, untouched []string
	for i, s := range shards {
		other := shards[1-i]
		for key := range s.clients {
			if writers[key][s.user] == 0 {
				untouched = append(untouched, key)
			}
			if writers[key][other.user] > 0 {
				misrouted = append(misrouted, fmt.Sprintf("%s (shard %s) written by shard %s", key, s.name, other.name))
			}
		}
	}
	sort.Strings(misrouted)
	// Carried-out writes: Hydra's in-memory database refuses a few concurrent writes ("Unable
	// to serialize access"), which the operator retries.
	hydraWrites := []int{shards[0].proxy.counts().OKWrites, shards[1].proxy.counts().OKWrites}
	e.report(converge, nil, tally.Missing, tally.Duplicates, kv("n", n), kv("writtenByBoth", len(misrouted)),
		kv("untouched", len(untouched)), kv("hydraWritesDefault", hydraWrites[0]), kv("hydraWritesOne", hydraWrites[1]))
	if len(misrouted) > 0 {
		t.Errorf("%d OAuth2Clients written by the other shard too, such as %v", len(misrouted), first(misrouted, 3))
	}
	if len(untouched) > 0 {
		t.Errorf("%d OAuth2Clients never written by their own shard, such as %v", len(untouched), first(untouched, 3))
	}
	for i, s := range shards {
		if hydraWrites[i] != len(s.clients) {
			t.Errorf("shard %s carried out %d Hydra writes for its %d clients, want one create each", s.name, hydraWrites[i], len(s.clients))
		}
	}
}

func first(s []string, n int) []string { return s[:min(n, len(s))] }
