//go:build integration

package controllers

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/secrets"
)

// The security suite replays the attacks of a hostile tenant (issue 11) on the real API server,
// with RBAC, and a real Hydra. The tenant is a user who holds only the shipped editor role for
// OAuth2Clients (config/rbac/oauth2client_editor_role.yaml) in its namespace: it may not read
// Secrets. Every row applies one manifest as that user; the API server must refuse it, or the
// operator must leave it short of Ready with the given reason. After every row, whatever the
// attack aimed at must be untouched, and no value of a Secret the tenant can't read may appear
// in what the tenant can read (the resource and its status), in Events or in the operator's log.
// A new attack is one more row.

// attack is one row.
type attack struct {
	name string
	// namespace prefix: tenant-sec (allowed by the suite's policy to choose any client ID, the
	// worst case: an administrator granted it) or sec (the default policy: own prefix only).
	namespace string
	// foreign are Secrets in the tenant's namespace that the tenant may not read.
	foreign func(sc *scene) []*corev1.Secret
	// prepare builds the rest of the scene as the administrator (a victim, a released Secret).
	prepare func(t *testing.T, sc *scene)
	// manifest is what the tenant applies (name "attack" unless it says otherwise).
	manifest func(sc *scene, obj *v1alpha1.OAuth2Client)
	// refused: the API server refuses the manifest with a message containing this.
	refused string
	// reason: otherwise the resource's Ready condition ends with this reason ("Reconciled":
	// the row is a control that shows what a legitimate manifest gets).
	reason string
	// after checks that the attack's target is untouched.
	after func(t *testing.T, sc *scene, got *v1alpha1.OAuth2Client)
}

// scene is what one row works in.
type scene struct {
	ns     string
	tenant client.Client // the tenant's own client: the editor role, nothing else
	victim *victim
	// secretValues must never appear anywhere the tenant, an Event or a log line shows.
	secretValues []string
	// foreignVersions are the resourceVersions of Secrets the operator must not write.
	foreignVersions map[string]string
	kept            keptClient
}

// keptClient is a client kept with deletionPolicy Orphan, and its released Secret.
type keptClient struct{ name, id, secret string }

func TestSecurityAttacksByATenant(t *testing.T) {
	editorRole := installEditorRole(t)
	for _, a := range attacks() {
		t.Run(a.name, func(t *testing.T) {
			sc := newScene(t, a.namespace, editorRole)
			if a.foreign != nil {
				for _, s := range a.foreign(sc) {
					s.Namespace = sc.ns
					create(t, s)
					sc.foreignVersions[s.Name] = s.ResourceVersion
					for _, v := range s.Data {
						sc.remember(string(v))
					}
				}
			}
			if a.prepare != nil {
				a.prepare(t, sc)
			}
			obj := serviceClient(sc.ns, "attack")
			a.manifest(sc, obj)
			err := sc.tenant.Create(context.Background(), obj)
			switch {
			case a.refused != "" && err == nil:
				t.Fatalf("the API server accepted the manifest; want a refusal with %q", a.refused)
			case a.refused != "" && !strings.Contains(err.Error(), a.refused):
				t.Fatalf("refused with %q; want a message containing %q", err, a.refused)
			case a.refused == "" && err != nil:
				t.Fatalf("the tenant's manifest was refused: %v", err)
			}
			var got *v1alpha1.OAuth2Client
			if a.refused == "" {
				got = waitReadyReason(t, sc.ns, obj.Name, a.reason)
			}
			if a.after != nil {
				a.after(t, sc, got)
			}
			sc.expectNothingForeignWritten(t)
			sc.expectNoLeak(t)
		})
	}
}

func attacks() []attack {
	password := "hunter2hunter-" + randomText(8)
	tlsKey := fakePrivateKey()
	return []attack{{
		name: "Secret contents through status: clientIDKey names a database password", namespace: "sec",
		foreign: func(sc *scene) []*corev1.Secret {
			return []*corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Name: "db-creds"}, Data: map[string][]byte{"password": []byte(password)}}}
		},
		manifest: func(sc *scene, obj *v1alpha1.OAuth2Client) {
			obj.Spec.SecretName = "db-creds"
			obj.Spec.ClientID = "x"
			obj.Spec.SecretTemplate = &v1alpha1.SecretTemplate{ClientIDKey: "password"}
		},
		reason: v1alpha1.ReasonSecretNotShared,
		after:  expectHydraNeverSaw(password),
	}, {
		name: "TLS private key through status and the log: clientIDKey names tls.key", namespace: "sec",
		foreign: func(sc *scene) []*corev1.Secret {
			return []*corev1.Secret{{
				ObjectMeta: metav1.ObjectMeta{Name: "tls"}, Type: corev1.SecretTypeTLS,
				Data: map[string][]byte{"tls.crt": []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), "tls.key": []byte(tlsKey)},
			}}
		},
		manifest: func(sc *scene, obj *v1alpha1.OAuth2Client) {
			obj.Spec.SecretName = "tls"
			obj.Spec.SecretTemplate = &v1alpha1.SecretTemplate{ClientIDKey: "tls.key", ClientSecretKey: "tls.crt"}
		},
		reason: v1alpha1.ReasonSecretNotShared,
	}, {
		name: "Key collision: the client secret under the token endpoint's key", namespace: "sec",
		manifest: func(sc *scene, obj *v1alpha1.OAuth2Client) {
			obj.Spec.SecretTemplate = &v1alpha1.SecretTemplate{ClientSecretKey: "token_endpoint", IncludeEndpoints: true}
		},
		refused: "clientSecretKey",
	}, {
		name: "Key collision: clientIDKey equals clientSecretKey", namespace: "sec",
		manifest: func(sc *scene, obj *v1alpha1.OAuth2Client) {
			obj.Spec.SecretTemplate = &v1alpha1.SecretTemplate{ClientIDKey: "creds", ClientSecretKey: "creds"}
		},
		refused: "clientIDKey",
	}, {
		name: "Key collision: clientIDKey is the issuer URL's key", namespace: "sec",
		manifest: func(sc *scene, obj *v1alpha1.OAuth2Client) {
			obj.Spec.SecretTemplate = &v1alpha1.SecretTemplate{ClientIDKey: "issuer_url", IncludeEndpoints: true}
		},
		refused: "clientIDKey",
	}, {
		name: "Client-ID theft: another namespace asks for the victim's ID and adopts, then the victim's client vanishes", namespace: "tenant-sec",
		prepare: func(t *testing.T, sc *scene) { sc.victim = newVictim(t) },
		manifest: func(sc *scene, obj *v1alpha1.OAuth2Client) {
			obj.Spec.ClientID = sc.victim.id
			obj.Spec.AdoptExistingClient = true
			obj.Spec.Scopes = []string{"admin"}
		},
		reason: v1alpha1.ReasonClientIDConflict,
		after:  expectTheftRefusedWhenVictimVanishes,
	}, {
		// A resource of the same name in another namespace, granted any ID, asks to take over the
		// client hydra-maester registered there.
		name: "hydra-maester's client of another namespace: adoptFrom HydraMaester under the same name", namespace: "tenant-sec",
		prepare: func(t *testing.T, sc *scene) { sc.victim = newHydraMaesterVictim(t, "attack") },
		manifest: func(sc *scene, obj *v1alpha1.OAuth2Client) {
			obj.Spec.ClientID = sc.victim.id
			obj.Spec.AdoptFrom = v1alpha1.AdoptFromHydraMaester
			obj.Spec.AdoptExistingClient = true
			obj.Spec.Scopes = []string{"admin"}
		},
		reason: v1alpha1.ReasonClientIDConflict,
		after: func(t *testing.T, sc *scene, _ *v1alpha1.OAuth2Client) {
			sc.victim.expectUntouched(t)
			expectNoCredentialsOf(t, sc.victim, sc.ns, "attack")
		},
	}, {
		name: "Client-ID policy: an ID outside the namespace's prefix needs an administrator's grant", namespace: "sec",
		prepare: func(t *testing.T, sc *scene) { sc.victim = newVictim(t) },
		manifest: func(sc *scene, obj *v1alpha1.OAuth2Client) {
			obj.Spec.ClientID = sc.victim.id
			obj.Spec.AdoptExistingClient = true
		},
		reason: v1alpha1.ReasonNamespaceNotAllowed,
		after:  func(t *testing.T, sc *scene, _ *v1alpha1.OAuth2Client) { sc.victim.expectUntouched(t) },
	}, {
		name: "Control: an ID under the namespace's own prefix is the tenant's to choose", namespace: "sec",
		manifest: func(sc *scene, obj *v1alpha1.OAuth2Client) { obj.Spec.ClientID = sc.ns + ".attack" },
		reason:   v1alpha1.ReasonReconciled,
		after: func(t *testing.T, sc *scene, got *v1alpha1.OAuth2Client) {
			if got.Status.ClientID != sc.ns+".attack" {
				t.Fatalf("client ID %q", got.Status.ClientID)
			}
		},
	}, {
		name: "Fingerprint: guessing a weak secret offline from status", namespace: "sec",
		prepare: func(t *testing.T, sc *scene) {
			// Someone who may write Secrets shares a weak one with the resource on purpose.
			create(t, &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Namespace: sc.ns, Name: "weak", Annotations: sharedWithClient("attack")},
				Data:       map[string][]byte{"client_id": []byte(sc.ns + ".weak"), "client_secret": []byte("summer24")},
			})
		},
		manifest: func(sc *scene, obj *v1alpha1.OAuth2Client) { obj.Spec.SecretName = "weak" },
		reason:   v1alpha1.ReasonReconciled,
		after:    expectFingerprintResistsGuessing,
	}, {
		name: "Released Secret: another resource takes over a Secret kept by deletionPolicy Orphan", namespace: "sec",
		prepare: keepAndRelease,
		manifest: func(sc *scene, obj *v1alpha1.OAuth2Client) {
			obj.Spec.SecretName = sc.kept.name
			obj.Spec.AdoptExistingClient = true
		},
		reason: v1alpha1.ReasonSecretInvalid,
		after:  expectKeptClientUntouched,
	}, {
		name: "Released Secret: the same name without adoptExistingClient does not take it", namespace: "sec",
		prepare: keepAndRelease,
		manifest: func(sc *scene, obj *v1alpha1.OAuth2Client) {
			obj.Name = sc.kept.name
			obj.Spec.ClientID = sc.kept.id
		},
		reason: v1alpha1.ReasonSecretInvalid,
		after:  expectKeptClientUntouched,
	}, {
		name: "Control: the same name, adopting, with the kept client's ID takes its client and Secret back", namespace: "sec",
		prepare: keepAndRelease,
		manifest: func(sc *scene, obj *v1alpha1.OAuth2Client) {
			obj.Name = sc.kept.name
			obj.Spec.ClientID = sc.kept.id
			obj.Spec.AdoptExistingClient = true
		},
		reason: v1alpha1.ReasonReconciled,
		after: func(t *testing.T, sc *scene, got *v1alpha1.OAuth2Client) {
			delete(sc.foreignVersions, sc.kept.name) // it is this resource's again: written on purpose
			s := getSecret(t, sc.ns, sc.kept.name)
			if string(s.Data["client_secret"]) != sc.kept.secret || metav1.GetControllerOf(s) == nil || metav1.GetControllerOf(s).UID != got.UID {
				t.Fatal("the Secret was not taken back as it was")
			}
			if _, still := s.Annotations[v1alpha1.ReleasedByAnnotation]; still {
				t.Fatal("the released-by annotation stayed after the take-back")
			}
			if err := tokenFor(sc.kept.id, sc.kept.secret, "read"); err != nil {
				t.Fatal(err)
			}
		},
	}, {
		name: "Restart through the operator: a rotation's restartTargets names a Deployment that did not opt in", namespace: "sec",
		prepare: func(t *testing.T, sc *scene) {
			// The tenant may not patch Deployments; the database's owners did not offer it.
			create(t, &appsv1.Deployment{
				ObjectMeta: metav1.ObjectMeta{Namespace: sc.ns, Name: "database"},
				Spec: appsv1.DeploymentSpec{
					Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "database"}},
					Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "database"}},
						Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "db", Image: "registry.example.com/db:1"}}},
					},
				},
			})
		},
		manifest: func(sc *scene, obj *v1alpha1.OAuth2Client) {
			obj.Spec.Rotation = &v1alpha1.Rotation{Strategy: v1alpha1.RotationStrategyReplace,
				RestartTargets: []v1alpha1.RestartTarget{{Kind: v1alpha1.RestartTargetDeployment, Name: "database"}}}
		},
		reason: v1alpha1.ReasonReconciled,
		after:  expectRestartRefused,
	}, {
		name: "Oversized metadata (1 MiB) never reaches Hydra", namespace: "sec",
		manifest: func(sc *scene, obj *v1alpha1.OAuth2Client) {
			obj.Spec.Metadata = &apiextensionsv1.JSON{Raw: []byte(`{"blob":"` + strings.Repeat("a", 1<<20) + `"}`)}
		},
		reason: v1alpha1.ReasonHydraRejected,
		after: func(t *testing.T, sc *scene, got *v1alpha1.OAuth2Client) {
			if !strings.Contains(conditionMessage(got, v1alpha1.ConditionReady), "64 KiB") {
				t.Fatalf("message: %q", conditionMessage(got, v1alpha1.ConditionReady))
			}
			if n := operatorHydra.callsFor(string(got.UID)); n != 0 {
				t.Fatalf("%d Hydra calls for the oversized client", n)
			}
		},
	},
		refusedSpec("A right-to-left override in clientName", "clientName", func(s *v1alpha1.OAuth2ClientSpec) { s.ClientName = "Pay\u202Elapyap" }),
		refusedSpec("A NUL in clientName", "clientName", func(s *v1alpha1.OAuth2ClientSpec) { s.ClientName = "a\x00b" }),
		refusedSpec("A javascript: redirect URI", "redirectURIs", webApp("javascript:alert(document.cookie)")),
		refusedSpec("A data: redirect URI", "redirectURIs", webApp("data:text/html,<script>alert(1)</script>")),
		refusedSpec("A vbscript: redirect URI", "redirectURIs", webApp("vbscript:msgbox(1)")),
		refusedSpec("A file: redirect URI", "redirectURIs", webApp("file:///etc/passwd")),
		refusedSpec("An http redirect URI on a public host", "redirectURIs", webApp("http://attacker.example.com/cb")),
		refusedSpec("A token lifespan of 0s", "1s", func(s *v1alpha1.OAuth2ClientSpec) {
			s.TokenLifespans = &v1alpha1.TokenLifespans{ClientCredentialsGrantAccessToken: "0s"}
		}),
		refusedSpec("A token lifespan of 500ms", "1s", func(s *v1alpha1.OAuth2ClientSpec) {
			s.TokenLifespans = &v1alpha1.TokenLifespans{ClientCredentialsGrantAccessToken: "500ms"}
		}),
		refusedSpec("A secretTemplate label key the API server refuses", "labels", func(s *v1alpha1.OAuth2ClientSpec) {
			s.SecretTemplate = &v1alpha1.SecretTemplate{Labels: map[string]v1alpha1.LabelValue{"not a key!": "x"}}
		}),
		refusedSpec("A secretTemplate Secret key the API server refuses", "clientIDKey", func(s *v1alpha1.OAuth2ClientSpec) {
			s.SecretTemplate = &v1alpha1.SecretTemplate{ClientIDKey: ".."}
		}),
		{
			name: "Control: a native app's private-use redirect URI (RFC 8252) is accepted", namespace: "sec",
			manifest: func(sc *scene, obj *v1alpha1.OAuth2Client) {
				webApp("com.example.app:/callback")(&obj.Spec)
				obj.Spec.TokenEndpointAuthMethod = v1alpha1.AuthMethodNone
			},
			reason: v1alpha1.ReasonReconciled,
		},
	}
}

// refusedSpec is a row for a manifest the API server must refuse with a message naming field.
func refusedSpec(name, field string, shape func(*v1alpha1.OAuth2ClientSpec)) attack {
	return attack{name: name, namespace: "sec", refused: field,
		manifest: func(sc *scene, obj *v1alpha1.OAuth2Client) { shape(&obj.Spec) }}
}

// webApp shapes an authorization-code client with one redirect URI.
func webApp(redirect string) func(*v1alpha1.OAuth2ClientSpec) {
	return func(s *v1alpha1.OAuth2ClientSpec) {
		s.GrantTypes = []v1alpha1.GrantType{"authorization_code"}
		s.ResponseTypes = []v1alpha1.ResponseType{"code"}
		s.RedirectURIs = []string{redirect}
		s.Scopes = []string{"openid"}
	}
}

// installEditorRole creates the shipped editor ClusterRole, as an administrator would.
func installEditorRole(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "config", "rbac", "oauth2client_editor_role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.UnmarshalStrict(raw, role); err != nil {
		t.Fatal(err)
	}
	role.Name = "security-suite-" + role.Name
	if err := k8s.Create(context.Background(), role); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	return role.Name
}

// newScene makes a namespace and a tenant user bound to the editor role in it, and proves the
// premise: the tenant can't read the namespace's Secrets.
func newScene(t *testing.T, prefix, editorRole string) *scene {
	t.Helper()
	ns := newNamespace(t, prefix)
	user, err := env.AddUser(envtest.User{Name: "tenant-of-" + ns}, restCfg)
	if err != nil {
		t.Fatal(err)
	}
	create(t, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant-editor"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: editorRole},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "tenant-of-" + ns}},
	})
	tenant, err := client.New(user.Config(), client.Options{Scheme: testScheme})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error { // RBAC caches take a moment to see the binding
		return tenant.List(context.Background(), &v1alpha1.OAuth2ClientList{}, client.InNamespace(ns))
	})
	if err := tenant.List(context.Background(), &corev1.SecretList{}, client.InNamespace(ns)); !apierrors.IsForbidden(err) {
		t.Fatalf("the tenant may list Secrets (%v): the suite's premise is wrong", err)
	}
	return &scene{ns: ns, tenant: tenant, foreignVersions: map[string]string{}}
}

func (sc *scene) remember(v string) {
	sc.secretValues = append(sc.secretValues, v)
	if len(v) > 64 {
		// A truncated message would hold only a prefix, a log line any part.
		sc.secretValues = append(sc.secretValues, v[:48], v[len(v)/2:len(v)/2+48])
	}
	rememberSecret(v) // and the suite's final leak check, over everything it captured
}

// waitReadyReason waits until Ready has the reason (and is True for Reconciled).
func waitReadyReason(t *testing.T, ns, name, reason string) *v1alpha1.OAuth2Client {
	t.Helper()
	if reason == v1alpha1.ReasonReconciled {
		return waitReady(t, ns, name)
	}
	return waitCondition(t, ns, name, v1alpha1.ConditionReady, metav1.ConditionFalse, reason)
}

// expectNothingForeignWritten: no Secret the tenant can't read was changed.
func (sc *scene) expectNothingForeignWritten(t *testing.T) {
	t.Helper()
	for name, rv := range sc.foreignVersions {
		if s := getSecret(t, sc.ns, name); s.ResourceVersion != rv {
			t.Errorf("the operator wrote to Secret %s, which is not its own", name)
		}
	}
}

// expectNoLeak: no value of a Secret the tenant can't read shows in what the tenant can read
// (its resources, whole), in the namespace's Events or in the operator's log.
func (sc *scene) expectNoLeak(t *testing.T) {
	t.Helper()
	if len(sc.secretValues) == 0 {
		return
	}
	var own v1alpha1.OAuth2ClientList
	if err := sc.tenant.List(context.Background(), &own, client.InNamespace(sc.ns)); err != nil {
		t.Fatal(err)
	}
	visible, err := json.Marshal(own)
	if err != nil {
		t.Fatal(err)
	}
	var events eventsv1.EventList
	if err := k8s.List(context.Background(), &events, client.InNamespace(sc.ns)); err != nil {
		t.Fatal(err)
	}
	eventText, err := json.Marshal(events)
	if err != nil {
		t.Fatal(err)
	}
	for where, text := range map[string]string{"the tenant's resources": string(visible), "Events": string(eventText), "the operator's log": logBuf.String()} {
		for _, v := range sc.secretValues {
			if strings.Contains(text, v) {
				t.Errorf("a value of a Secret the tenant may not read appears in %s", where)
			}
		}
	}
}

func expectHydraNeverSaw(id string) func(*testing.T, *scene, *v1alpha1.OAuth2Client) {
	return func(t *testing.T, _ *scene, _ *v1alpha1.OAuth2Client) {
		if _, err := hydraAPI.Get(context.Background(), id); !hydra.IsNotFound(err) {
			t.Fatalf("Hydra has a client named after the Secret's value: %v", err)
		}
	}
}

// expectTheftRefusedWhenVictimVanishes: the victim's client vanishes at Hydra and the intruder
// gets a pass at once. The ID goes back to the victim, with the victim's secret; the intruder's
// pass never registers it; the conflict shows on both resources.
func expectTheftRefusedWhenVictimVanishes(t *testing.T, sc *scene, intruder *v1alpha1.OAuth2Client) {
	ctx := context.Background()
	v := sc.victim
	if !strings.Contains(conditionMessage(intruder, v1alpha1.ConditionReady), v.ns+"/"+v.name) {
		t.Fatalf("the intruder's conflict should name the owner: %q", conditionMessage(intruder, v1alpha1.ConditionReady))
	}
	eventually(t, 20*time.Second, func() error { return eventOn(v.ns, v.name, "ClientIDContested") })
	if err := hydraAPI.Delete(ctx, v.id); err != nil {
		t.Fatal(err)
	}
	annotate(t, intruder, v1alpha1.RequestedAtAnnotation, time.Now().Format(time.RFC3339Nano))
	eventually(t, 30*time.Second, func() error { return tokenFor(v.id, v.secret, "read") })
	got, err := hydraAPI.Get(ctx, v.id)
	if err != nil {
		t.Fatal(err)
	}
	if got.GetOwner() != hydra.OwnerIn(testInstallation, v.ns, v.name) {
		t.Fatalf("the victim's ID is now owned by %q", got.GetOwner())
	}
	if tokenFor(v.id, v.secret, "admin") == nil {
		t.Fatal("the intruder's scopes reached the victim's client")
	}
	waitCondition(t, sc.ns, intruder.Name, v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonClientIDConflict)
	expectNoCredentialsOf(t, v, sc.ns, intruder.Name)
}

func eventOn(ns, name, reason string) error {
	var events eventsv1.EventList
	if err := k8s.List(context.Background(), &events, client.InNamespace(ns)); err != nil {
		return err
	}
	for _, e := range events.Items {
		if e.Regarding.Name == name && e.Reason == reason {
			return nil
		}
	}
	return fmt.Errorf("no %s event on %s/%s", reason, ns, name)
}

// expectFingerprintResistsGuessing: the tenant reads the fingerprint and tries a dictionary
// that holds the weak secret, with the unkeyed construction of earlier versions and with
// guessable keys. None matches.
func expectFingerprintResistsGuessing(t *testing.T, sc *scene, _ *v1alpha1.OAuth2Client) {
	seen := &v1alpha1.OAuth2Client{}
	if err := sc.tenant.Get(context.Background(), client.ObjectKey{Namespace: sc.ns, Name: "attack"}, seen); err != nil {
		t.Fatal(err)
	}
	shown := seen.Status.CredentialsFingerprint
	if shown == "" {
		t.Fatal("no fingerprint in status: nothing to attack, so the row proves nothing")
	}
	id := sc.ns + ".weak"
	for _, guess := range []string{"123456", "password", "winter23", "summer24", "letmein1"} {
		unkeyed := sha256.New()
		for _, part := range []string{"oauth2-client-operator/v1", string(seen.UID), id, guess} {
			unkeyed.Write([]byte(part))
			unkeyed.Write([]byte{0})
		}
		if hex.EncodeToString(unkeyed.Sum(nil)[:16]) == shown {
			t.Fatalf("the unkeyed hash of %q matches the fingerprint", guess)
		}
		for _, key := range [][]byte{nil, []byte(seen.UID), []byte(sc.ns)} {
			if secrets.Fingerprint(key, string(seen.UID), secrets.Credentials{ClientID: id, ClientSecret: guess}) == shown {
				t.Fatalf("guess %q with key %q matches the fingerprint", guess, key)
			}
		}
	}
}

// keepAndRelease makes a client "kept" with deletionPolicy Orphan and deletes its resource: its
// Hydra client stays, its Secret is released.
func keepAndRelease(t *testing.T, sc *scene) {
	ctx := context.Background()
	kept := serviceClient(sc.ns, "kept")
	kept.Spec.DeletionPolicy = v1alpha1.DeletionPolicyOrphan
	create(t, kept)
	kept = waitReady(t, sc.ns, "kept")
	if err := k8s.Delete(ctx, kept); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() error { return goneErr(sc.ns, "kept") })
	s := getSecret(t, sc.ns, "kept")
	if s.Annotations[v1alpha1.ReleasedByAnnotation] != "kept" || metav1.GetControllerOf(s) != nil {
		t.Fatalf("the Secret was not released as kept's: %v", s.Annotations)
	}
	sc.kept = keptClient{name: "kept", id: kept.Status.ClientID, secret: string(s.Data["client_secret"])}
	sc.foreignVersions["kept"] = s.ResourceVersion
	sc.remember(sc.kept.secret)
}

// expectKeptClientUntouched: the released Secret and the kept client are as they were, and no
// client belongs to the resource that tried to take them.
func expectKeptClientUntouched(t *testing.T, sc *scene, got *v1alpha1.OAuth2Client) {
	if err := tokenFor(sc.kept.id, sc.kept.secret, "read"); err != nil {
		t.Fatalf("the kept client's credentials stopped working: %v", err)
	}
	if got.Name != sc.kept.name {
		if owned := ownedClients(t, sc.ns, got.Name); len(owned) > 0 {
			t.Fatalf("the intruder registered %d client(s), reusing the released Secret", len(owned))
		}
	}
	kept, err := hydraAPI.Get(context.Background(), sc.kept.id)
	if err != nil || kept.GetOwner() != hydra.OwnerIn(testInstallation, sc.ns, sc.kept.name) {
		t.Fatalf("the kept client changed hands: %v %q", err, kept.GetOwner())
	}
}

// fakePrivateKey is a PEM block of random bytes the size of an RSA-2048 key.
func fakePrivateKey() string {
	raw := make([]byte, 1200)
	_, _ = rand.Read(raw)
	b64 := base64.StdEncoding.EncodeToString(raw)
	var lines []string
	for len(b64) > 64 {
		lines = append(lines, b64[:64])
		b64 = b64[64:]
	}
	lines = append(lines, b64)
	return "-----BEGIN PRIVATE KEY-----\n" + strings.Join(lines, "\n") + "\n-----END PRIVATE KEY-----\n"
}

func randomText(n int) string {
	raw := make([]byte, n)
	_, _ = rand.Read(raw)
	return hex.EncodeToString(raw)
}

// expectRestartRefused asks, as the tenant, for a rotation of the row's resource, and checks
// that the rotation happened and the Deployment that did not opt in was left as it was, with a
// Warning Event saying why.
func expectRestartRefused(t *testing.T, sc *scene, got *v1alpha1.OAuth2Client) {
	t.Helper()
	ctx := context.Background()
	before := &appsv1.Deployment{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: sc.ns, Name: "database"}, before); err != nil {
		t.Fatal(err)
	}
	patch := []byte(`{"metadata":{"annotations":{"` + v1alpha1.RotateRequestedAtAnnotation + `":"attack"}}}`)
	if err := sc.tenant.Patch(ctx, got, client.RawPatch("application/merge-patch+json", patch)); err != nil {
		t.Fatalf("the tenant could not request a rotation: %v", err)
	}
	eventually(t, 30*time.Second, func() error {
		obj := &v1alpha1.OAuth2Client{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(got), obj); err != nil {
			return err
		}
		if st := obj.Status.Rotation; st == nil || st.LastHandledRequest != "attack" || st.LastRotationTime == nil {
			return fmt.Errorf("not rotated yet: %+v", obj.Status.Rotation)
		}
		return nil
	})
	eventually(t, 10*time.Second, func() error {
		var list eventsv1.EventList
		if err := k8s.List(ctx, &list, client.InNamespace(sc.ns)); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Regarding.Name == got.Name && e.Reason == "RestartTargetNotAllowed" {
				return nil
			}
		}
		return fmt.Errorf("no RestartTargetNotAllowed Event")
	})
	after := &appsv1.Deployment{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: sc.ns, Name: "database"}, after); err != nil {
		t.Fatal(err)
	}
	if after.ResourceVersion != before.ResourceVersion || after.Spec.Template.Annotations[v1alpha1.RestartedAtAnnotation] != "" {
		t.Fatalf("the operator restarted Deployment database for the tenant (resourceVersion %s -> %s)", before.ResourceVersion, after.ResourceVersion)
	}
}
