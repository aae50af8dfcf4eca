package main

import (
	"os"
	"runtime/debug"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// defaultGCPercent is the garbage collector's target when GOGC is not set. Go's default, 100,
// lets the heap grow to twice what is live before collecting; the operator's live heap is
// mostly its cache (about 3 KiB per OAuth2Client with its Secret), so at tens of thousands of
// clients that growth is most of its memory. Measured with `make bench` at N=10,000 on 2 cores
// (docs/performance.md): the peak resident memory was 175 MiB at 50 and 152 MiB at 25, for
// 31% more operator CPU during converge (4.7 instead of 3.6 ms per client), which is small
// beside the API server's 13 ms and Hydra's 5 ms for the same client. Later, with a smaller
// cache: 142 MiB at 25 and 127 MiB at 10; 10 is not the default because at a few hundred
// clients, where the live heap is a few MiB, it would collect after every few hundred KiB.
// Once scans and metrics scrapes stopped making garbage of every object, 25 gave 111 MiB.
const defaultGCPercent = 25

// tuneGC applies defaultGCPercent unless the GOGC environment variable chooses otherwise, and,
// in a container with a memory limit, sets Go's soft memory limit to 90% of it (unless GOMEMLIMIT
// or AUTOMEMLIMIT says otherwise), so the collector works harder before the kernel would kill
// the process rather than after.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
	// Without a cgroup limit (outside a container) this leaves the limit unset.
	_, _ = memlimit.Set()
}
