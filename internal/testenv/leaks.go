package testenv

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
)

// Leaks collects the secret values a test suite handled (client secrets, admin tokens) and
// finds them in text the operator produced: logs, Events, status, metrics. Every tier's leak
// check is built on it. A finding names the value's origin and the place, never the value.
type Leaks struct {
	mu      sync.Mutex
	needles map[string]string // value -> where it came from
}

// NewLeaks returns an empty collection.
func NewLeaks() *Leaks { return &Leaks{needles: map[string]string{}} }

// Remember adds a value that must never appear, and where it came from.
func (l *Leaks) Remember(value, origin string) {
	if value == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.needles[value] = origin
}

// RememberSecret adds the values of a Secret's keys that hold a client secret: client_secret
// and the names chosen with secretTemplate.clientSecretKey in the tests (any key with "secret"),
// and the private keys of private_key_jwt clients (private_key, pending_private_key).
func (l *Leaks) RememberSecret(s *corev1.Secret) {
	for key, value := range s.Data {
		switch k := strings.ToLower(key); {
		case strings.Contains(k, "secret"):
			l.Remember(string(value), fmt.Sprintf("the client secret of Secret %s/%s key %s", s.Namespace, s.Name, key))
		case strings.Contains(k, "private_key"):
			// A private key (rotation strategy KeyRollover) as a whole, and its first line of key
			// material, which any printing of the key contains, with or without the PEM frame.
			origin := fmt.Sprintf("the private key of Secret %s/%s key %s", s.Namespace, s.Name, key)
			l.Remember(string(value), origin)
			if lines := strings.Split(string(value), "\n"); len(lines) > 2 && len(lines[1]) >= 32 {
				l.Remember(lines[1], origin)
			}
		}
	}
}

// Len is how many values are remembered.
func (l *Leaks) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.needles)
}

// Find looks for every remembered value, as it is and base64-encoded (a Secret's data printed
// as an object is encoded), in each named text, and returns one sorted line per finding.
func (l *Leaks) Find(places map[string]string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var findings []string
	for value, origin := range l.needles {
		forms := []string{value, base64.StdEncoding.EncodeToString([]byte(value))}
		for place, text := range places {
			for _, form := range forms {
				if strings.Contains(text, form) {
					findings = append(findings, fmt.Sprintf("%s appears in %s", origin, place))
					break
				}
			}
		}
	}
	sort.Strings(findings)
	return findings
}
