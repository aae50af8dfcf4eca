//go:build e2e

package e2e

import (
	"sync"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/loginapp"
)

// decision is what the user does when Hydra sends the browser to log in and consent.
type decision = loginapp.Decision

const (
	accept        = loginapp.Accept        // log in and grant the requested scope and audience
	rejectLogin   = loginapp.RejectLogin   // refuse to log in
	rejectConsent = loginapp.RejectConsent // log in, then deny consent
)

// testSubject is the user every accepted login authenticates.
const testSubject = "e2e-user@example.com"

// loginConsent is the project's login-and-consent app (internal/loginapp, what URLS_LOGIN and
// URLS_CONSENT point to), with the decision made per client_id instead of by a person pressing
// its button: accept unless a test decided otherwise. TestRunLocal presses the button.
type loginConsent struct {
	*loginapp.App

	mu        sync.Mutex
	decisions map[string]decision // by client_id; accept when absent
}

func newLoginConsent(adminURL string) *loginConsent {
	lc := &loginConsent{decisions: map[string]decision{}}
	lc.App = &loginapp.App{AdminURL: adminURL, Subject: testSubject, Email: testSubject, Decide: lc.decisionFor}
	return lc
}

// decide sets what the user does for one client until the next call.
func (lc *loginConsent) decide(clientID string, d decision) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	lc.decisions[clientID] = d
}

func (lc *loginConsent) decisionFor(clientID string) decision {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if d, ok := lc.decisions[clientID]; ok {
		return d
	}
	return accept
}
