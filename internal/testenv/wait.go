package testenv

import (
	"testing"
	"time"
)

// pollInterval is how often Eventually and Consistently look again.
const pollInterval = 200 * time.Millisecond

// Eventually calls fn until it returns nil, and fails the test with fn's last error when that
// has not happened within timeout. It polls; it never waits blindly for an outcome. Every tier
// waits with it.
func Eventually(t testing.TB, timeout time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %s (%d attempts): %v", timeout, attempt, err)
		}
		<-ticker.C
	}
}

// Consistently calls fn until duration has passed and fails the test at the first error: it
// observes that something does not happen, for a bounded time.
func Consistently(t testing.TB, duration time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(duration)
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		if err := fn(); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			return
		}
		<-ticker.C
	}
}
