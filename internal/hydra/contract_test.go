package hydra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra/hydrafake"
)

// The contract test holds hydrafake to Hydra: every case runs, through the real adapter,
// against the fake ("<case>/fake") and against a real Hydra v2.3.0 ("<case>/hydra", skipped
// without HYDRA_BIN). Each case asserts what the operator relies on and returns an outcome
// that must be the same for both. Where their answers differ in a way the operator does not
// depend on, the case says so in differs.

// backend is one admin API the cases run against.
type backend struct {
	name string
	api  Client
	// secretWorks reports whether secret authenticates the client: Hydra's token endpoint
	// (client_credentials) for Hydra, SecretMatches for the fake, which has no token endpoint.
	secretWorks func(id, secret string) bool
}

var backends = []struct {
	name  string
	start func(t *testing.T) *backend
}{
	{"fake", func(t *testing.T) *backend {
		fake := hydrafake.Start(t)
		return &backend{name: "fake", api: newClient(t, fake.URL), secretWorks: fake.SecretMatches}
	}},
	// One Hydra shared with the package's other tests: the cases use IDs and owners of their
	// own, so only an unfiltered list sees other tests' clients.
	{"hydra", func(t *testing.T) *backend {
		h := sharedHydra(t)
		return &backend{name: "hydra", api: newClient(t, h.AdminURL()), secretWorks: func(id, secret string) bool {
			return tokenStatus(t, h.PublicURL(), id, secret) == http.StatusOK
		}}
	}},
}

type contractCase struct {
	name string
	// differs says how the fake's answers differ from Hydra's where the operator does not
	// depend on it; empty when they do not differ.
	differs string
	// run asserts what the operator relies on and returns the outcome to compare between the
	// backends, nil when there is nothing to compare beyond the assertions.
	run func(ctx context.Context, t *testing.T, b *backend) any
}

func TestContract(t *testing.T) {
	for _, tc := range contractCases() {
		t.Run(tc.name, func(t *testing.T) {
			if tc.differs != "" {
				t.Log("where the fake differs:", tc.differs)
			}
			outcomes := map[string]any{}
			for _, be := range backends {
				t.Run(be.name, func(t *testing.T) {
					outcomes[be.name] = tc.run(testContext(t), t, be.start(t))
				})
			}
			fake, hydra := outcomes["fake"], outcomes["hydra"]
			if fake != nil && hydra != nil && !reflect.DeepEqual(fake, hydra) {
				t.Errorf("the fake and Hydra differ:\nfake:  %s\nhydra: %s", asJSON(fake), asJSON(hydra))
			}
		})
	}
}

// emptyValuesDiffer is the difference every answer with a client has.
const emptyValuesDiffer = `Hydra answers unset strings as "" and unset lists as [] (null in write answers); ` +
	`the fake leaves them out. The SDK decodes both as unset, Diff treats them alike, and stored() drops them ` +
	`before comparing.`

func contractCases() []contractCase {
	cases := []contractCase{
		{name: "create then get", differs: emptyValuesDiffer, run: createThenGet},
		{name: "create stores as Hydra normalises", differs: emptyValuesDiffer, run: createNormalises},
		{name: "create without a secret generates one", run: createGeneratesSecret},
		{name: "create of a public client hides the secret", run: createPublicClient},
		{name: "create without an ID gets a UUID", run: createWithoutID},
		{name: "create with an existing ID", run: createExisting},
		{name: "get of an unknown ID", run: func(ctx context.Context, t *testing.T, b *backend) any {
			_, err := b.api.Get(ctx, uniqueID("contract-unknown"))
			return expectNotFound(t, err)
		}},
		{name: "update of an unknown ID", run: func(ctx context.Context, t *testing.T, b *backend) any {
			id := uniqueID("contract-unknown")
			_, err := b.api.Update(ctx, id, serviceClient(t, id, ""))
			return expectNotFound(t, err) // PUT does not create
		}},
		{name: "delete of an unknown ID", run: func(ctx context.Context, t *testing.T, b *backend) any {
			return expectNotFound(t, b.api.Delete(ctx, uniqueID("contract-unknown")))
		}},
		{name: "update without a secret keeps it", run: updateKeepsSecret},
		{name: "update with a secret rotates it", run: updateRotatesSecret},
		{name: "update replaces the whole client", differs: emptyValuesDiffer +
			" Hydra's PUT answer carries the created_at sent (or the time of the PUT); the fake's, the stored one. GET agrees.",
			run: updateReplaces},
		{name: "update refused leaves the client", run: updateRefused},
		{name: "list pages of one owner", run: listPages},
		{name: "list without a filter", run: listAll},
		{name: "list with the owner filter", run: listOwner},
		{name: "delete then get", run: deleteThenGet},
		{name: "secret rotation endpoint of v2.3.0", run: rotationUnsupported},
	}
	return append(cases, refusedCases()...)
}

// --- Create and get -------------------------------------------------------------------------

func createThenGet(ctx context.Context, t *testing.T, b *backend) any {
	id, owner, secret := uniqueID("contract-get"), OwnerFor("contract", "get"), "contract-secret-0123"
	want := desired(t, everyFieldSpec(), id, owner)
	want.ClientSecret = ptr(secret)
	before := time.Now().Add(-time.Second)
	created, err := b.api.Create(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	if created.GetClientSecret() != secret || created.RegistrationAccessToken != nil {
		t.Errorf("create answered secret %q, registration token %v", created.GetClientSecret(), created.RegistrationAccessToken)
	}
	got, err := b.api.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientSecret != nil {
		t.Error("get answered the secret")
	}
	if d := Diff(want, got); len(d) != 0 || got.GetOwner() != owner {
		t.Errorf("drift after get: %v, owner %q", d, got.GetOwner())
	}
	// Hydra rounds created_at to the second, so it may be up to half a second after updated_at.
	after := time.Now().Add(time.Second)
	for _, at := range []time.Time{got.GetCreatedAt(), got.GetUpdatedAt()} {
		if at.Before(before) || at.After(after) {
			t.Errorf("created_at %v, updated_at %v: not the time of the create", got.GetCreatedAt(), got.GetUpdatedAt())
		}
	}
	return stored(t, got)
}

// createNormalises sends values in forms Hydra rewrites, past Desired, to show the fake
// rewrites them alike.
func createNormalises(ctx context.Context, t *testing.T, b *backend) any {
	id := uniqueID("contract-normal")
	c := &OAuth2Client{
		ClientId:            ptr(id),
		AllowedCorsOrigins:  []string{"HTTPS://App.example.com/", "http://localhost:8080//"},
		AccessTokenStrategy: ptr("JWT"),
		ClientCredentialsGrantAccessTokenLifespan: ptr("90m"),
		ImplicitGrantAccessTokenLifespan:          ptr("1.5s"),
		Jwks:                                      jsonOf(t, testJWKS),
		Metadata:                                  jsonOf(t, `{"big":9007199254740993,"f":1.0,"nested":{"a":{},"l":[]}}`),
		Scope:                                     ptr(""),
		// Hydra drops fields it does not know.
		AdditionalProperties: map[string]interface{}{"not_a_hydra_field": true},
	}
	if _, err := b.api.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := b.api.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return stored(t, got)
}

func createGeneratesSecret(ctx context.Context, t *testing.T, b *backend) any {
	id := uniqueID("contract-generated")
	created, err := b.api.Create(ctx, serviceClient(t, id, ""))
	if err != nil {
		t.Fatal(err)
	}
	secret := created.GetClientSecret()
	if !b.secretWorks(id, secret) {
		t.Errorf("the generated secret %q does not work", secret)
	}
	return len(secret)
}

func createPublicClient(ctx context.Context, t *testing.T, b *backend) any {
	id := uniqueID("contract-public")
	c := serviceClient(t, id, "public-secret-0123")
	c.TokenEndpointAuthMethod = ptr("none")
	created, err := b.api.Create(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	return created.ClientSecret != nil
}

func createWithoutID(ctx context.Context, t *testing.T, b *backend) any {
	c := serviceClient(t, "", "")
	c.ClientId = nil
	created, err := b.api.Create(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.api.Get(ctx, created.GetClientId()); err != nil {
		t.Errorf("get of the new client %q: %v", created.GetClientId(), err)
	}
	return uuidShape(created.GetClientId())
}

// uuidShape is a UUID with its hex digits replaced by x, so that two random ones compare.
func uuidShape(s string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune("0123456789abcdef", r) {
			return 'x'
		}
		return r
	}, s)
}

func createExisting(ctx context.Context, t *testing.T, b *backend) any {
	id, first := uniqueID("contract-conflict"), "first-secret-0123"
	if _, err := b.api.Create(ctx, serviceClient(t, id, first)); err != nil {
		t.Fatal(err)
	}
	_, err := b.api.Create(ctx, serviceClient(t, id, "second-secret-0123"))
	if !IsConflict(err) || IsRejected(err) || IsTransient(err) {
		t.Errorf("second create: %v, want a conflict only", err)
	}
	if !b.secretWorks(id, first) {
		t.Error("the second create changed the first client's secret")
	}
	return apiErrorOf(t, err)
}

func expectNotFound(t *testing.T, err error) any {
	t.Helper()
	if !IsNotFound(err) || IsRejected(err) || IsTransient(err) {
		t.Errorf("%v, want not found only", err)
	}
	return apiErrorOf(t, err)
}

// --- Update ---------------------------------------------------------------------------------

func updateKeepsSecret(ctx context.Context, t *testing.T, b *backend) any {
	id, secret := uniqueID("contract-keep"), "kept-secret-0123"
	if _, err := b.api.Create(ctx, serviceClient(t, id, secret)); err != nil {
		t.Fatal(err)
	}
	updated, err := b.api.Update(ctx, id, serviceClient(t, id, ""))
	if err != nil {
		t.Fatal(err)
	}
	if !b.secretWorks(id, secret) {
		t.Error("the secret no longer works")
	}
	return updated.ClientSecret != nil
}

func updateRotatesSecret(ctx context.Context, t *testing.T, b *backend) any {
	id, old, rotated := uniqueID("contract-rotate"), "old-secret-0123", "new-secret-4567"
	if _, err := b.api.Create(ctx, serviceClient(t, id, old)); err != nil {
		t.Fatal(err)
	}
	updated, err := b.api.Update(ctx, id, serviceClient(t, id, rotated))
	if err != nil {
		t.Fatal(err)
	}
	if b.secretWorks(id, old) || !b.secretWorks(id, rotated) {
		t.Errorf("after rotation the old secret works: %v, the new one: %v", b.secretWorks(id, old), b.secretWorks(id, rotated))
	}
	return updated.GetClientSecret() == rotated
}

// rotationUnsupported: Hydra v2.3.0 has no secret rotation endpoint, and the fake (without
// SupportSecretRotation) answers its path the same way; the client and its secret are left as
// they were. Strategy ServerRotation stalls on this answer.
func rotationUnsupported(ctx context.Context, t *testing.T, b *backend) any {
	id, secret := uniqueID("contract-server-rotate"), "kept-secret-0123"
	if _, err := b.api.Create(ctx, serviceClient(t, id, secret)); err != nil {
		t.Fatal(err)
	}
	var outcome []string
	for name, call := range map[string]func(string) error{
		"rotate": func(id string) error { return b.api.RotateSecret(ctx, id, "rotated-secret-4567") },
		"clear":  func(id string) error { return b.api.ClearRotatedSecrets(ctx, id) },
	} {
		for _, target := range []string{id, uniqueID("contract-unknown")} {
			err := call(target)
			if !IsRotationUnsupported(err) || IsNotFound(err) || IsTransient(err) || IsRejected(err) {
				t.Errorf("%s: %v; want unsupported only", name, err)
			}
			outcome = append(outcome, name+": "+strings.TrimPrefix(fmt.Sprint(err), "hydra "))
		}
	}
	if !b.secretWorks(id, secret) || b.secretWorks(id, "rotated-secret-4567") {
		t.Error("an unsupported rotation changed the client's secret")
	}
	slices.Sort(outcome)
	return outcome
}

func updateReplaces(ctx context.Context, t *testing.T, b *backend) any {
	id, owner := uniqueID("contract-replace"), OwnerFor("contract", "replace")
	if _, err := b.api.Create(ctx, desired(t, everyFieldSpec(), id, owner)); err != nil {
		t.Fatal(err)
	}
	created, err := b.api.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	changed := desired(t, changedSpec(), id, "") // no owner: the owner is reset too
	if _, err := b.api.Update(ctx, id, changed); err != nil {
		t.Fatal(err)
	}
	got, err := b.api.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if d := Diff(changed, got); len(d) != 0 {
		t.Errorf("drift after update: %v", d)
	}
	if !got.GetCreatedAt().Equal(created.GetCreatedAt()) || got.GetUpdatedAt().Before(created.GetUpdatedAt()) {
		t.Errorf("created_at %v -> %v, updated_at %v -> %v", created.GetCreatedAt(), got.GetCreatedAt(), created.GetUpdatedAt(), got.GetUpdatedAt())
	}
	return stored(t, got)
}

func updateRefused(ctx context.Context, t *testing.T, b *backend) any {
	id, secret := uniqueID("contract-refused-update"), "refused-update-0123"
	if _, err := b.api.Create(ctx, serviceClient(t, id, secret)); err != nil {
		t.Fatal(err)
	}
	c := serviceClient(t, id, "other-secret-0123")
	c.RedirectUris = []string{"https://app.example.com/cb#fragment"}
	_, err := b.api.Update(ctx, id, c)
	if !IsRejected(err) {
		t.Errorf("update: %v, want rejected", err)
	}
	got, getErr := b.api.Get(ctx, id)
	if getErr != nil || len(got.RedirectUris) != 0 || !b.secretWorks(id, secret) {
		t.Errorf("the refused update changed the client: %v, redirect URIs %v", getErr, got.GetRedirectUris())
	}
	return apiErrorOf(t, err)
}

// --- List -----------------------------------------------------------------------------------

// createClients creates n service clients of owner with IDs prefix-00, prefix-01, ...
func createClients(ctx context.Context, t *testing.T, b *backend, prefix, owner string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%02d", prefix, i)
		c := serviceClient(t, ids[i], "")
		c.Owner = ptr(owner)
		if _, err := b.api.Create(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// listed lists with the owner filter and page size, and returns the IDs and page sizes seen.
func listed(ctx context.Context, t *testing.T, b *backend, owner string, pageSize int) (ids []string, sizes []int) {
	t.Helper()
	err := b.api.List(ctx, owner, pageSize, func(page []OAuth2Client) error {
		sizes = append(sizes, len(page))
		for _, c := range page {
			ids = append(ids, c.GetClientId())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids, sizes
}

func listPages(ctx context.Context, t *testing.T, b *backend) any {
	prefix := uniqueID("contract-pages")
	owner := OwnerFor(prefix, "pages")
	want := createClients(ctx, t, b, prefix, owner, 12)
	createClients(ctx, t, b, prefix+"-other", OwnerFor(prefix, "other"), 3)
	ids, sizes := listed(ctx, t, b, owner, 5)
	if !slices.Equal(ids, want) {
		t.Errorf("listed %v,\nwant %v (each once, in ID order)", ids, want)
	}
	return sizes
}

func listAll(ctx context.Context, t *testing.T, b *backend) any {
	prefix := uniqueID("contract-all")
	want := createClients(ctx, t, b, prefix, OwnerFor(prefix, "all"), 8)
	ids, _ := listed(ctx, t, b, "", 3)
	if !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Errorf("the list is not in ID order or repeats clients: %v", ids)
	}
	ours := slices.DeleteFunc(ids, func(id string) bool { return !strings.HasPrefix(id, prefix+"-") })
	if !slices.Equal(ours, want) {
		t.Errorf("listed %v,\nwant %v", ours, want)
	}
	return nil // Hydra holds other tests' clients: the pages differ
}

func listOwner(ctx context.Context, t *testing.T, b *backend) any {
	prefix := uniqueID("contract-owner")
	mine := createClients(ctx, t, b, prefix+"-mine", OwnerFor(prefix, "mine"), 3)
	createClients(ctx, t, b, prefix+"-theirs", OwnerFor(prefix, "theirs"), 3)
	if ids, _ := listed(ctx, t, b, OwnerFor(prefix, "mine"), 100); !slices.Equal(ids, mine) {
		t.Errorf("listed %v, want %v", ids, mine)
	}
	ids, sizes := listed(ctx, t, b, OwnerFor(prefix, "nobody"), 100)
	if len(ids) != 0 || len(sizes) != 0 {
		t.Errorf("an owner without clients: pages %v", sizes)
	}
	return nil
}

func deleteThenGet(ctx context.Context, t *testing.T, b *backend) any {
	id := uniqueID("contract-delete")
	if _, err := b.api.Create(ctx, serviceClient(t, id, "")); err != nil {
		t.Fatal(err)
	}
	if err := b.api.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	_, err := b.api.Get(ctx, id)
	return []any{expectNotFound(t, err), expectNotFound(t, b.api.Delete(ctx, id))}
}

// --- Refused clients ------------------------------------------------------------------------

// refusedCases are clients Hydra refuses with 400: the adapter must report each as rejected,
// with Hydra's code and description, and no client may be left behind.
func refusedCases() []contractCase {
	refusals := []struct {
		name   string
		change func(*OAuth2Client)
	}{
		{"redirect URI with a fragment", func(c *OAuth2Client) { c.RedirectUris = []string{"https://app.example.com/cb#x"} }},
		{"redirect URI that is not absolute", func(c *OAuth2Client) { c.RedirectUris = []string{"app/cb"} }},
		{"secret of 5 characters", func(c *OAuth2Client) { c.ClientSecret = ptr("short") }},
		{"post-logout URI on no redirect URI's origin", func(c *OAuth2Client) {
			c.RedirectUris, c.PostLogoutRedirectUris = []string{"https://app.example.com/cb"}, []string{"https://other.example.com/bye"}
		}},
		{"private_key_jwt without keys", func(c *OAuth2Client) { c.TokenEndpointAuthMethod = ptr("private_key_jwt") }},
		{"jwks and jwks_uri", func(c *OAuth2Client) {
			c.Jwks, c.JwksUri = map[string]interface{}{"keys": []interface{}{}}, ptr("https://app.example.com/jwks.json")
		}},
		{"pairwise subject with JWT access tokens", func(c *OAuth2Client) { c.SubjectType, c.AccessTokenStrategy = ptr("pairwise"), ptr("jwt") }},
		{"unknown subject type", func(c *OAuth2Client) { c.SubjectType = ptr("anonymous") }},
		{"unknown access token strategy", func(c *OAuth2Client) { c.AccessTokenStrategy = ptr("paper") }},
		{"CORS origin with a path", func(c *OAuth2Client) { c.AllowedCorsOrigins = []string{"https://app.example.com/app"} }},
		{"CORS origin of another scheme", func(c *OAuth2Client) { c.AllowedCorsOrigins = []string{"ftp://app.example.com"} }},
		{"userinfo signed with HS256", func(c *OAuth2Client) { c.UserinfoSignedResponseAlg = ptr("HS256") }},
		{"lifespan that does not parse", func(c *OAuth2Client) { c.ImplicitGrantAccessTokenLifespan = ptr("5 minutes") }},
	}
	cases := make([]contractCase, len(refusals))
	for i, r := range refusals {
		cases[i] = contractCase{name: "refused: " + r.name, run: func(ctx context.Context, t *testing.T, b *backend) any {
			id := uniqueID("contract-refused")
			c := serviceClient(t, id, "")
			r.change(c)
			_, err := b.api.Create(ctx, c)
			if !IsRejected(err) || IsTransient(err) {
				t.Errorf("create: %v, want rejected", err)
			}
			if _, err := b.api.Get(ctx, id); !IsNotFound(err) {
				t.Errorf("the refused client exists: %v", err)
			}
			return apiErrorOf(t, err)
		}}
	}
	return cases
}

// --- Outcomes -------------------------------------------------------------------------------

// apiErrorOf is the part of an *APIError that both backends must agree on.
func apiErrorOf(t *testing.T, err error) any {
	t.Helper()
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Errorf("%v is not an *APIError", err)
		return nil
	}
	if apiErr.Description == "" {
		t.Errorf("%v has no description", err)
	}
	return *apiErr
}

// stored is a client as a JSON object without what differs from one backend or one run to
// the next (ID, timestamps) and without empty values (see emptyValuesDiffer).
func stored(t *testing.T, c *OAuth2Client) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(asJSON(c)), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"client_id", "created_at", "updated_at"} {
		delete(m, k)
	}
	for k, v := range m {
		if v == nil || v == "" || reflect.DeepEqual(v, []any{}) {
			delete(m, k)
		}
	}
	return m
}

func asJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

// jsonOf decodes JSON for the SDK's interface{} fields, numbers as json.Number so that they
// are sent as written.
func jsonOf(t *testing.T, s string) interface{} {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v interface{}
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
