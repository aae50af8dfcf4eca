package hydrafake

import (
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"strings"
)

// Secret rotation at the server: POST /admin/clients/{id}/secrets/rotate makes a new secret
// current and keeps the old ones working (at most maxRotatedSecrets), DELETE on the same path
// ends the kept ones, as ory/client-go v1.22 documents the endpoint Hydra's main branch added
// after v2.3.0. No released Hydra has it, so the fake serves it only after
// SupportSecretRotation; otherwise it answers the path as Hydra v2.3.0 does, with its "route
// not found" 404 (the contract test holds it to that).

// The operations of the rotation endpoint.
const (
	OpRotate       Op = "rotate"        // POST /admin/clients/{id}/secrets/rotate
	OpClearRotated Op = "clear-rotated" // DELETE /admin/clients/{id}/secrets/rotate
)

// maxRotatedSecrets is how many rotated secrets the endpoint keeps working.
const maxRotatedSecrets = 5

const rotatePathSuffix = "/secrets/rotate"

// SupportSecretRotation makes the fake serve the rotation endpoint, as a Hydra newer than
// v2.3.0 would.
func (f *Fake) SupportSecretRotation() {
	f.mu.Lock()
	f.rotation = true
	f.mu.Unlock()
}

// rotationRoute maps a request to the rotation endpoint; ok is false for any other path.
func rotationRoute(method, path string) (op Op, id string, ok bool) {
	rest, found := strings.CutPrefix(path, clientsPath+"/")
	if !found {
		return "", "", false
	}
	id, found = strings.CutSuffix(rest, rotatePathSuffix)
	if !found || id == "" || strings.Contains(id, "/") {
		return "", "", false
	}
	switch method {
	case http.MethodPost:
		return OpRotate, id, true
	case http.MethodDelete:
		return OpClearRotated, id, true
	}
	return "", "", false
}

// rotate makes the secret sent (or a generated one) current and keeps the current one working.
func (f *Fake) rotate(w http.ResponseWriter, r *http.Request, id string) {
	var body struct {
		ClientSecret string `json:"client_secret"`
	}
	if r.ContentLength != 0 {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeError(w, apiError{status: http.StatusBadRequest, code: "invalid_request", description: "The request body is not valid JSON."})
			return
		}
	}
	secret := body.ClientSecret
	if secret == "" {
		secret = generateSecret()
	}
	f.replaceRecord(w, id, func(rec *record) {
		rec.rotated = append([][sha256.Size]byte{rec.secretHash}, rec.rotated...)[:min(len(rec.rotated)+1, maxRotatedSecrets)]
		rec.secretHash = hashSecret(secret)
	})
}

// clearRotated ends the secrets kept by rotate.
func (f *Fake) clearRotated(w http.ResponseWriter, id string) {
	f.replaceRecord(w, id, func(rec *record) { rec.rotated = nil })
}

// replaceRecord stores a changed copy of the client's record (records are never changed in
// place) and answers the client as GET does.
func (f *Fake) replaceRecord(w http.ResponseWriter, id string, change func(*record)) {
	f.mu.Lock()
	old, ok := f.clients[id]
	if ok {
		rec := *old
		rec.rotated = append([][sha256.Size]byte(nil), old.rotated...)
		change(&rec)
		f.clients[id] = &rec
	}
	f.mu.Unlock()
	if !ok {
		writeError(w, errNotFound)
		return
	}
	writeJSON(w, http.StatusOK, json.RawMessage(old.body))
}

// writeRouteNotFound answers a path the admin API has no route for as Hydra v2.3.0 does: an
// error object when JSON is asked for, otherwise an HTML page.
func writeRouteNotFound(w http.ResponseWriter, r *http.Request) {
	const reason = "The requested route does not exist. Make sure you are using the right path, domain, and port."
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{"code": http.StatusNotFound, "message": "Not Found", "reason": reason}})
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte("<!DOCTYPE html>\n<html lang=\"en\"><head><title>404 - Route not found</title></head>" +
		"<body><h1>Error 404</h1><p>" + reason + "</p></body></html>\n"))
}
