package migrate

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	clienttesting "k8s.io/client-go/testing"
	"sigs.k8s.io/yaml"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/validation"
)

// keys lists namespace/name of what was read, in order.
func keys(in Input) string {
	var out []string
	for _, u := range in.Resources {
		out = append(out, u.GetNamespace()+"/"+u.GetName())
	}
	return strings.Join(out, " ")
}

func client(ns, name string) string {
	return "apiVersion: hydra.ory.sh/v1alpha1\nkind: OAuth2Client\nmetadata: {name: " + name + ", namespace: " + ns + "}\nspec: {grantTypes: [client_credentials], secretName: s}\n"
}

func TestReadDocuments(t *testing.T) {
	for _, tc := range []struct {
		name, in    string
		wantKeys    string
		wantIgnored int
	}{
		{"one document", client("a", "x"), "a/x", 0},
		{"multi-document YAML with empty documents", "---\n" + client("a", "x") + "---\n# only a comment\n---\n" + client("b", "w") + "---\n", "a/x b/w", 0},
		{"other kinds ignored", client("a", "x") + "---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\n---\napiVersion: oauth2.clientoperator.dev/v1alpha1\nkind: OAuth2Client\nmetadata: {name: ours}\n", "a/x", 2},
		{"another group's OAuth2Client ignored", "apiVersion: hydra.ory.sh/v1beta1\nkind: OAuth2Client\nmetadata: {name: z}\n", "", 1},
		{"kind List", "apiVersion: v1\nkind: List\nitems:\n- " + indent(client("a", "x")) + "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c}\n", "a/x", 1},
		{"kind OAuth2ClientList", "apiVersion: hydra.ory.sh/v1alpha1\nkind: OAuth2ClientList\nmetadata: {}\nitems:\n- " + indent(client("a", "x")) + "- " + indent(client("a", "z")), "a/x a/z", 0},
		{"empty List", "apiVersion: v1\nkind: List\nitems: []\n", "", 0},
		{"JSON", `{"apiVersion":"hydra.ory.sh/v1alpha1","kind":"OAuth2Client","metadata":{"name":"j","namespace":"a"},"spec":{"secretName":"s"}}`, "a/j", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := ReadPaths([]string{"-"}, strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := keys(in); got != tc.wantKeys || in.Ignored != tc.wantIgnored {
				t.Errorf("read %q, %d ignored; want %q, %d", got, in.Ignored, tc.wantKeys, tc.wantIgnored)
			}
		})
	}
}

// indent makes a one-document YAML a list item.
func indent(doc string) string {
	return strings.ReplaceAll(strings.TrimSuffix(doc, "\n"), "\n", "\n  ") + "\n"
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(client("a", "x")+"---\nkind: [unclosed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	noKind := filepath.Join(dir, "nokind.yaml")
	if err := os.WriteFile(noKind, []byte("metadata: {name: x}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "missing.yaml"), "no such file or directory"},
		{bad, bad + ", document 2: "},
		{noKind, noKind + ", document 1: "},
	} {
		_, err := ReadPaths([]string{tc.path}, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadPaths(%s) = %v, want an error with %q", tc.path, err, tc.want)
		}
	}
}

// TestReadDirectory: a directory is its YAML and JSON files, sorted, and not its subdirectories.
func TestReadDirectory(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"b.yaml":        client("ns", "b"),
		"a.yml":         client("ns", "a"),
		"c.json":        `{"apiVersion":"hydra.ory.sh/v1alpha1","kind":"OAuth2Client","metadata":{"name":"c","namespace":"ns"},"spec":{}}`,
		"notes.txt":     client("ns", "txt"),
		"sub/d.yaml":    client("ns", "d"),
		"kustomization": "resources: []\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	in, err := ReadPaths([]string{dir, filepath.Join(dir, "sub", "d.yaml")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := keys(in), "ns/a ns/b ns/c ns/d"; got != want {
		t.Errorf("read %q, want %q", got, want)
	}
}

// convertFile converts testdata/realistic.yaml.
func convertFile(t *testing.T) ([]*v1alpha1.OAuth2Client, []Result, Input) {
	t.Helper()
	in, err := ReadPaths([]string{"testdata/realistic.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	clients, results := ConvertAll(in, defaultOpts)
	return clients, results, in
}

// TestReport: the whole report for the realistic input, exactly.
func TestReport(t *testing.T) {
	_, results, in := convertFile(t)
	var out bytes.Buffer
	if err := WriteReport(&out, results, in.Ignored); err != nil {
		t.Fatal(err)
	}
	want := `shop/web: converted
  scope and scopeArray merged into scopes: openid profile offline_access email
  duplicate scopes removed: openid
  deletionPolicy orphan -> Orphan
  secretTemplate keys CLIENT_ID and CLIENT_SECRET (hydra-maester's; other names: --client-id-key, --client-secret-key)
  requireExistingSecret: true: the operator waits for Secret web-credentials and never replaces it with new credentials
  labels copied: app
  labels not copied (they belong to the tool that deployed the old resource): app.kubernetes.io/managed-by
  annotations copied: example.com/owner
  annotations not copied: kubectl.kubernetes.io/last-applied-configuration
  to do: share Secret shop/web-credentials with the new resource: kubectl annotate secret -n shop web-credentials oauth2.clientoperator.dev/client=web
  to do: delete the old shop/web (hydra.ory.sh) only as docs/migrate-from-hydra-maester.md says: Secret web-credentials may be owned by it and is garbage-collected with it unless deleted with --cascade=orphan, and hydra-maester deletes the Hydra client when it goes
shop/legacy: refused: hydraAdmin (port, url) points at another Hydra; this operator serves the one Hydra its flags name: keep the resource with hydra-maester for now, or remove hydraAdmin if it names that same Hydra
1 converted, 1 refused, 1 other documents ignored
`
	if out.String() != want {
		t.Errorf("report:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestReportWarningsAndSeveralRefusals(t *testing.T) {
	var out bytes.Buffer
	results := []Result{
		{Namespace: "a", Name: "x", Notes: []string{"n"}, Warnings: []string{"dropped w"}, Actions: []string{"do"}},
		{Namespace: "a", Name: "y", Refusals: []string{"r1", "r2"}},
	}
	if err := WriteReport(&out, results, 0); err != nil {
		t.Fatal(err)
	}
	want := "a/x: converted\n  n\n  warning: dropped w\n  to do: do\na/y: refused: r1\n  also: r2\n1 converted, 1 refused, 0 other documents ignored\n"
	if out.String() != want {
		t.Errorf("report:\n%q\nwant:\n%q", out.String(), want)
	}
}

// TestManifestYAML: the stream is exactly what a user would write, and reads back into our type
// strictly, without status or creationTimestamp.
func TestManifestYAML(t *testing.T) {
	clients, _, _ := convertFile(t)
	var out bytes.Buffer
	if err := WriteStream(&out, clients); err != nil {
		t.Fatal(err)
	}
	want := `---
apiVersion: oauth2.clientoperator.dev/v1alpha1
kind: OAuth2Client
metadata:
  annotations:
    example.com/owner: team-shop
  labels:
    app: web
  name: web
  namespace: shop
spec:
  accessTokenStrategy: jwt
  adoptFrom: HydraMaester
  allowedCORSOrigins:
  - https://shop.example.com
  audience:
  - https://api.shop.example.com
  backchannelLogoutSessionRequired: true
  backchannelLogoutURI: https://shop.example.com/logout/back
  clientName: Web shop
  clientURI: https://shop.example.com/
  contacts:
  - ops@example.com
  deletionPolicy: Orphan
  frontchannelLogoutSessionRequired: true
  frontchannelLogoutURI: https://shop.example.com/logout/front
  grantTypes:
  - authorization_code
  - refresh_token
  logoURI: https://shop.example.com/logo.png
  metadata:
    tier: gold
  policyURI: https://shop.example.com/privacy
  postLogoutRedirectURIs:
  - https://shop.example.com/bye
  redirectURIs:
  - https://shop.example.com/callback
  - http://localhost:8080/callback
  requireExistingSecret: true
  responseTypes:
  - code
  - id_token
  scopes:
  - openid
  - profile
  - offline_access
  - email
  secretName: web-credentials
  secretTemplate:
    clientIDKey: CLIENT_ID
    clientSecretKey: CLIENT_SECRET
  skipConsent: true
  skipLogoutConsent: true
  subjectType: public
  tokenEndpointAuthMethod: client_secret_basic
  tokenLifespans:
    authorizationCodeGrantAccessToken: 1h
    refreshTokenGrantRefreshToken: 720h
  tosURI: https://shop.example.com/terms
`
	if out.String() != want {
		t.Fatalf("manifest:\n%s\nwant:\n%s", out.String(), want)
	}
	back := &v1alpha1.OAuth2Client{}
	if err := yaml.UnmarshalStrict(bytes.TrimPrefix(out.Bytes(), []byte("---\n")), back); err != nil {
		t.Fatalf("the manifest does not read back into v1alpha1.OAuth2Client: %v", err)
	}
	if g, w := canonical(t, back.Spec), canonical(t, clients[0].Spec); g != w {
		t.Errorf("round trip changed the spec:\n got %s\nwant %s", g, w)
	}
	if back.Name != "web" || back.Namespace != "shop" || back.UID != "" || len(back.Finalizers) != 0 || !back.CreationTimestamp.IsZero() {
		t.Errorf("metadata read back: %+v", back.ObjectMeta)
	}
}

// TestConvertedManifestPassesTheCRD: the realistic resource's manifest passes our CRD's schema
// and CEL rules, as the API server would check them on apply.
func TestConvertedManifestPassesTheCRD(t *testing.T) {
	v := crdValidator(t)
	clients, _, _ := convertFile(t)
	if len(clients) != 1 {
		t.Fatalf("converted %d resources, want 1", len(clients))
	}
	obj := manifestObject(t, clients[0])
	if errs := v.Validate(context.Background(), obj, nil); len(errs) > 0 {
		t.Errorf("the API server would refuse the converted manifest: %v", errs.ToAggregate())
	}
	// The check can fail: the same manifest with a redirect URI our rules refuse.
	bad := clients[0].DeepCopy()
	bad.Spec.RedirectURIs = []string{"http://shop.example.com/callback"}
	if errs := v.Validate(context.Background(), manifestObject(t, bad), nil); len(errs) == 0 {
		t.Error("the validator accepted an http redirect URI on a public host: the check is not working")
	}
}

// crdValidator runs our CRD's schema and CEL rules in process.
func crdValidator(t *testing.T) *validation.Validator {
	t.Helper()
	crd, err := os.ReadFile("../../config/crd/bases/oauth2.clientoperator.dev_oauth2clients.yaml")
	if err != nil {
		t.Fatal(err)
	}
	v, err := validation.New(crd)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// manifestObject is the written manifest as the decoded JSON the API server validates.
func manifestObject(t *testing.T, c *v1alpha1.OAuth2Client) map[string]any {
	t.Helper()
	data, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	obj := map[string]any{}
	if err := yaml.Unmarshal(data, &obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

// TestWriteDir: one file per resource at dir/<namespace>/<name>.yaml, each the manifest alone.
func TestWriteDir(t *testing.T) {
	var clients []*v1alpha1.OAuth2Client
	for _, k := range [][2]string{{"shop", "web"}, {"shop", "api"}, {"billing", "web"}} {
		c, res := Convert(source(t, baseIn), defaultOpts)
		if res.Refused() {
			t.Fatal(res.Refusals)
		}
		c.Namespace, c.Name = k[0], k[1]
		clients = append(clients, c)
	}
	dir := filepath.Join(t.TempDir(), "out")
	if err := WriteDir(dir, clients); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			got = append(got, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"billing/web.yaml", "shop/api.yaml", "shop/web.yaml"}; !slices.Equal(got, want) {
		t.Errorf("files %q, want %q", got, want)
	}
	data, err := os.ReadFile(filepath.Join(dir, "shop", "api.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Marshal(clients[1])
	if !bytes.Equal(data, want) || !bytes.Contains(data, []byte("\n  name: api\n  namespace: shop\n")) {
		t.Errorf("shop/api.yaml:\n%s", data)
	}
}

// TestListFromCluster: the listing reads one namespace or all, and keeps the resources as read.
func TestListFromCluster(t *testing.T) {
	var objs []runtime.Object
	for _, k := range [][2]string{{"shop", "web"}, {"shop", "api"}, {"billing", "pay"}} {
		objs = append(objs, source(t, baseIn).DeepCopy())
		u := objs[len(objs)-1].(*unstructured.Unstructured)
		u.SetNamespace(k[0])
		u.SetName(k[1])
	}
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{SourceGVR: "OAuth2ClientList"}, objs...)
	for ns, want := range map[string]string{"shop": "shop/api shop/web", "": "billing/pay shop/api shop/web", "none": ""} {
		in, err := ListFromCluster(context.Background(), client, ns)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Fields(keys(in))
		slices.Sort(got)
		if strings.Join(got, " ") != want || in.Ignored != 0 {
			t.Errorf("namespace %q: listed %q (%d ignored), want %q", ns, got, in.Ignored, want)
		}
	}
}

// TestListFromClusterWithoutTheCRD: a cluster without hydra-maester's CRD gets a message that
// names it, not the API server's "could not find the requested resource".
func TestListFromClusterWithoutTheCRD(t *testing.T) {
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{SourceGVR: "OAuth2ClientList"})
	client.PrependReactor("list", "oauth2clients", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewNotFound(SourceGVR.GroupResource(), "")
	})
	_, err := ListFromCluster(context.Background(), client, "")
	if err == nil || !strings.Contains(err.Error(), "hydra-maester's CRD (oauth2clients.hydra.ory.sh) is not installed in this cluster") {
		t.Fatalf("error %v", err)
	}
}
