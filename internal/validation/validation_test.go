package validation

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
)

func newValidator(t testing.TB) *Validator {
	t.Helper()
	return newValidatorFor(t, "OAuth2Client")
}

// newValidatorFor validates objects of kind against its CRD.
func newValidatorFor(t testing.TB, kind string) *Validator {
	t.Helper()
	crd, err := os.ReadFile("../../config/crd/bases/" + CRDFiles[kind])
	if err != nil {
		t.Fatal(err)
	}
	v, err := New(crd)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// CaseFiles are the shared cases files, relative to this package.
var CaseFiles = []string{"testdata/cases.yaml", "testdata/authorizationserver_cases.yaml"}

// TestCases runs every shared case through its kind's CRD schema and CEL rules in-process.
func TestCases(t *testing.T) {
	validators := map[string]*Validator{}
	for kind := range CRDFiles {
		validators[kind] = newValidatorFor(t, kind)
	}
	var cases []Case
	for _, file := range CaseFiles {
		c, err := LoadCases(file)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, c...)
	}
	for _, tc := range cases {
		t.Run(tc.Kind+"/"+tc.Name, func(t *testing.T) {
			errs := validators[tc.Kind].Validate(context.Background(), roundTrip(t, ObjectOf(tc.Kind, "x", tc.Spec)), nil)
			switch {
			case tc.Error == "" && len(errs) > 0:
				t.Fatalf("a valid spec was refused: %v", errs.ToAggregate())
			case tc.Error != "" && len(errs) == 0:
				t.Fatalf("accepted; want refusal with %q", tc.Error)
			case tc.Error != "" && !strings.Contains(errs.ToAggregate().Error(), tc.Error):
				t.Fatalf("refused with %q; want a message containing %q", errs.ToAggregate(), tc.Error)
			}
		})
	}
}

func TestClientIDImmutable(t *testing.T) {
	v := newValidator(t)
	spec := func(id string) map[string]interface{} {
		s := map[string]interface{}{"grantTypes": []interface{}{"client_credentials"}}
		if id != "" {
			s["clientID"] = id
		}
		return Object("x", s)
	}
	for _, tc := range []struct{ from, to string }{{"a", "b"}, {"a", ""}, {"", "b"}} {
		errs := v.Validate(context.Background(), spec(tc.to), spec(tc.from))
		if !strings.Contains(errs.ToAggregate().Error(), "clientID is immutable") {
			t.Errorf("clientID %q -> %q: %v", tc.from, tc.to, errs)
		}
	}
	if errs := v.Validate(context.Background(), spec("a"), spec("a")); len(errs) > 0 {
		t.Errorf("an unchanged clientID was refused: %v", errs)
	}
}

// TestAuthorizationServerRefImmutable: a client can't move between servers in place (the old
// server would keep its client, the new one would get a second), nor gain or lose a reference.
func TestAuthorizationServerRefImmutable(t *testing.T) {
	v := newValidator(t)
	spec := func(kind, name string) map[string]interface{} {
		s := map[string]interface{}{"grantTypes": []interface{}{"client_credentials"}}
		if kind != "" {
			s["authorizationServerRef"] = map[string]interface{}{"kind": kind, "name": name}
		}
		return Object("x", s)
	}
	for _, tc := range []struct{ fromKind, fromName, toKind, toName string }{
		{"AuthorizationServer", "a", "AuthorizationServer", "b"},
		{"AuthorizationServer", "a", "ClusterAuthorizationServer", "a"},
		{"AuthorizationServer", "a", "", ""},
		{"", "", "ClusterAuthorizationServer", "a"},
	} {
		errs := v.Validate(context.Background(), spec(tc.toKind, tc.toName), spec(tc.fromKind, tc.fromName))
		if !strings.Contains(errs.ToAggregate().Error(), "authorizationServerRef is immutable") ||
			!strings.Contains(errs.ToAggregate().Error(), "delete this OAuth2Client and create it again") {
			t.Errorf("%s/%s -> %s/%s: %v", tc.fromKind, tc.fromName, tc.toKind, tc.toName, errs)
		}
	}
	if errs := v.Validate(context.Background(), spec("AuthorizationServer", "a"), spec("AuthorizationServer", "a")); len(errs) > 0 {
		t.Errorf("an unchanged reference was refused: %v", errs)
	}
}

// TestSecretFormatImmutable: the Secret's type can't change, so neither can the format; a
// template added or removed without changing the format (Default either way) is accepted.
func TestSecretFormatImmutable(t *testing.T) {
	v := newValidator(t)
	spec := func(format string) map[string]interface{} {
		s := map[string]interface{}{"grantTypes": []interface{}{"client_credentials"}}
		switch format {
		case "":
		case "{}":
			s["secretTemplate"] = map[string]interface{}{}
		default:
			s["secretTemplate"] = map[string]interface{}{"format": format}
		}
		return Object("x", s)
	}
	for _, tc := range []struct {
		from, to string
		refused  bool
	}{
		{"Default", "ServiceBinding", true},
		{"OAuth2Proxy", "Default", true},
		{"", "OAuth2Proxy", true},
		{"ServiceBinding", "", true},
		{"", "Default", false},
		{"{}", "", false},
		{"OAuth2Proxy", "OAuth2Proxy", false},
	} {
		errs := v.Validate(context.Background(), spec(tc.to), spec(tc.from))
		if refused := strings.Contains(fmt.Sprint(errs), "secretTemplate.format cannot be changed"); refused != tc.refused || (!tc.refused && len(errs) > 0) {
			t.Errorf("format %q -> %q: refused %t, want %t: %v", tc.from, tc.to, refused, tc.refused, errs)
		}
	}
}

// FuzzValidate: no input crashes validation, and every refusal carries a message. The same input,
// decoded into the typed spec, must not crash the mapping to Hydra either, whose refusals carry
// a message too (the reconciler puts it into the status).
func FuzzValidate(f *testing.F) {
	cases, err := LoadCases("testdata/cases.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range cases {
		raw, _ := json.Marshal(c.Spec)
		f.Add(raw)
	}
	f.Add([]byte(`{"grantTypes":null,"scopes":[1,2],"tokenLifespans":"x"}`))
	v := newValidator(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		var spec map[string]interface{}
		if json.Unmarshal(raw, &spec) != nil {
			return
		}
		for _, e := range v.Validate(context.Background(), Object("x", spec), nil) {
			if strings.TrimSpace(e.Error()) == "" || (e.Detail == "" && e.BadValue == nil && e.Type == "") {
				t.Fatalf("a refusal without a message: %#v", e)
			}
		}
		var typed v1alpha1.OAuth2ClientSpec
		if json.Unmarshal(raw, &typed) != nil {
			return
		}
		if _, err := hydra.Desired(&typed, "x", hydra.OwnerFor("ns", "x")); err != nil && strings.TrimSpace(err.Error()) == "" {
			t.Fatalf("the mapping refused %s without a message: %#v", raw, err)
		}
	})
}

// roundTrip makes the object look as it does after the API server's JSON decoding (numbers as
// int64 or float64).
func roundTrip(t *testing.T, obj map[string]interface{}) map[string]interface{} {
	t.Helper()
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]interface{}
	// As the API server decodes: whole numbers as int64, which CEL's int comparisons need.
	if err := utiljson.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
