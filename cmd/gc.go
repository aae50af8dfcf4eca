package main

import (
	"os"
	"runtime/debug"
)

// defaultGCPercent is the garbage collector's target when GOGC is not set. Go's default, 100,
// lets the heap grow to twice what is live before collecting; the operator's live heap is
// mostly its cache (about 6 KiB per OAuth2Client with its Secret), so at tens of thousands of
// clients that doubling is most of its memory. At 50 the peak is about 1.5 times the live heap
// for a few percent more CPU in the operator, which is small beside the API server's and
// Hydra's share of a reconcile (docs/performance.md has the measurement).
const defaultGCPercent = 50

// tuneGC applies defaultGCPercent unless the GOGC environment variable chooses otherwise.
// GOMEMLIMIT, if set, works as usual on top of it.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
}
