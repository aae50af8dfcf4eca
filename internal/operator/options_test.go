package operator

import (
	"testing"
	"time"
)

func TestDriftScanInterval(t *testing.T) {
	for _, tc := range []struct {
		name                string
		drift, sync, wanted time.Duration
	}{
		{"defaults: within a minute of any drift", 0, DefaultOptions().SyncPeriod, 30 * time.Second},
		{"a shorter --sync-period keeps scanning as often as before --drift-interval existed", 0, 5 * time.Second, 5 * time.Second},
		{"a longer --sync-period no longer delays repairs", 0, time.Hour, 30 * time.Second},
		{"--drift-interval wins over a shorter --sync-period", 2 * time.Minute, 20 * time.Second, 2 * time.Minute},
		{"--drift-interval wins over a longer --sync-period", 10 * time.Second, time.Hour, 10 * time.Second},
		{"a negative --drift-interval is unset", -time.Second, time.Hour, 30 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultOptions()
			o.DriftInterval, o.SyncPeriod = tc.drift, tc.sync
			if got := o.DriftScanInterval(); got != tc.wanted {
				t.Errorf("DriftScanInterval() with --drift-interval=%s --sync-period=%s: %s, want %s", tc.drift, tc.sync, got, tc.wanted)
			}
		})
	}
	if d := DefaultOptions().DriftInterval; d != 0 {
		t.Errorf("DefaultOptions().DriftInterval = %s, want 0 (derived from --sync-period)", d)
	}
}
