package hydrafake

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	hydraclient "github.com/ory/hydra-client-go/v2"
)

// record is one stored client. body is the client as GET answers it, without its secret; it
// is never changed after it is stored, so that answers can be written outside the lock.
type record struct {
	owner, name string
	createdAt   time.Time
	secretHash  [sha256.Size]byte
	// rotated are the secrets a rotation at the server keeps working (rotate.go), newest first.
	rotated [][sha256.Size]byte
	body    []byte
}

func (f *Fake) get(w http.ResponseWriter, id string) {
	f.mu.Lock()
	rec, ok := f.clients[id]
	f.mu.Unlock()
	if !ok {
		writeError(w, errNotFound)
		return
	}
	writeJSON(w, http.StatusOK, json.RawMessage(rec.body))
}

// create registers a client as Hydra does: a secret is generated when none is sent, the ID
// is a UUID when none is sent, and the answer carries the secret unless the client is public
// (token_endpoint_auth_method none), which Hydra hides although it stores one.
func (f *Fake) create(w http.ResponseWriter, r *http.Request) {
	c, apiErr := decodeClient(r)
	if apiErr == nil && c.GetClientSecret() == "" {
		c.SetClientSecret(generateSecret())
	}
	if apiErr == nil {
		apiErr = validate(c)
	}
	if apiErr != nil {
		writeError(w, *apiErr)
		return
	}
	if c.GetClientId() == "" {
		c.SetClientId(newUUID())
	}
	now := time.Now().UTC()
	c.SetCreatedAt(now.Round(time.Second))
	c.SetUpdatedAt(now)
	rec := newRecord(c.OAuth2Client)
	f.mu.Lock()
	_, exists := f.clients[c.GetClientId()]
	if !exists {
		f.clients[c.GetClientId()] = rec
	}
	f.mu.Unlock()
	if exists {
		writeError(w, errConflict)
		return
	}
	if c.GetTokenEndpointAuthMethod() == "none" {
		c.ClientSecret = nil
	}
	// Hydra hands out a token for its dynamic registration endpoint with every new client; the
	// adapter must drop it, so the fake sends one too (but not registration_client_uri, which
	// would name Hydra's public URL and which nothing reads).
	c.SetRegistrationAccessToken("ory_at_hydrafake-" + generateSecret())
	writeJSON(w, http.StatusCreated, c.OAuth2Client)
}

// update replaces the client with this ID. The secret is kept when none is sent and replaced
// when one is; the answer carries it only when one was sent. created_at is kept.
func (f *Fake) update(w http.ResponseWriter, r *http.Request, id string) {
	c, apiErr := decodeClient(r)
	if apiErr == nil {
		c.SetClientId(id) // the path's ID, whatever the body says
		apiErr = validate(c)
	}
	if apiErr != nil {
		writeError(w, *apiErr)
		return
	}
	f.mu.Lock()
	old, ok := f.clients[id]
	if ok {
		c.SetCreatedAt(old.createdAt)
		c.SetUpdatedAt(time.Now().UTC())
		rec := newRecord(c.OAuth2Client)
		if c.GetClientSecret() == "" {
			rec.secretHash = old.secretHash
		}
		rec.rotated = old.rotated
		f.clients[id] = rec
	}
	f.mu.Unlock()
	if !ok {
		writeError(w, errNotFound)
		return
	}
	if c.GetClientSecret() == "" {
		c.ClientSecret = nil
	}
	writeJSON(w, http.StatusOK, c.OAuth2Client)
}

func (f *Fake) delete(w http.ResponseWriter, id string) {
	f.mu.Lock()
	_, ok := f.clients[id]
	delete(f.clients, id)
	f.mu.Unlock()
	if !ok {
		writeError(w, errNotFound)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// newRecord stores c, whose secret is the one to keep (hashed); c itself keeps it for the
// answer.
func newRecord(c *hydraclient.OAuth2Client) *record {
	stored := *c
	stored.ClientSecret = nil
	body, err := json.Marshal(stored)
	if err != nil {
		// Every value was decoded from JSON or set here; encoding it again can't fail.
		panic(fmt.Sprintf("hydrafake: encoding a client: %v", err))
	}
	return &record{
		owner:      c.GetOwner(),
		name:       c.GetClientName(),
		createdAt:  c.GetCreatedAt(),
		secretHash: hashSecret(c.GetClientSecret()),
		body:       body,
	}
}

// secretAlphabet is what Hydra draws generated secrets from (x.GenerateSecret).
const secretAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"

// generateSecret returns a secret of 26 characters, the length Hydra generates.
func generateSecret() string {
	b := make([]byte, 26)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = secretAlphabet[int(b[i])%len(secretAlphabet)]
	}
	return string(b)
}

// newUUID returns a random (version 4) UUID, as Hydra picks for a client sent without an ID.
func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// apiError is an error answer in Hydra's shape.
type apiError struct {
	status            int
	code, description string
}

// The errors Hydra answers for a missing client and for a duplicate ID: the message is in
// error, and error_description is empty.
var (
	errNotFound = apiError{status: http.StatusNotFound, code: "Unable to locate the resource"}
	errConflict = apiError{status: http.StatusConflict,
		code: "Unable to insert or update resource because a resource with that value exists already"}
)

func writeError(w http.ResponseWriter, e apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": e.code, "error_description": e.description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("hydrafake: encoding an answer: %v", err))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
