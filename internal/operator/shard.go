package operator

import (
	"fmt"
	"hash/fnv"

	"k8s.io/apimachinery/pkg/labels"
)

// shardSelector parses --watch-label-selector: nil when empty (one operator for every
// OAuth2Client), else the selector of this replica's shard, such as
// "oauth2.clientoperator.dev/shard=shard1", or "!oauth2.clientoperator.dev/shard" for the
// default shard of the unlabelled ones.
func shardSelector(s string) (labels.Selector, error) {
	if s == "" {
		return nil, nil
	}
	sel, err := labels.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("--watch-label-selector %q: %w", s, err)
	}
	if sel.Empty() {
		return nil, nil
	}
	return sel, nil
}

// leaderElectionID is the Lease the replicas of one shard compete for: LeaderElectionID without
// a shard, else LeaderElectionID with a hash of the selector, so that each shard elects a leader
// of its own and replicas of the same shard (the same selector) share one Lease.
func leaderElectionID(shard labels.Selector) string {
	if shard == nil {
		return LeaderElectionID
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(shard.String()))
	return fmt.Sprintf("%s-%08x", LeaderElectionID, h.Sum32())
}
