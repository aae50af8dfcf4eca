//go:build fault

package fault

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// Settings of TestConflictingWriter.
const (
	conflictClients  = 8
	conflictDuration = 15 * time.Second      // how long the person keeps editing
	conflictPace     = 25 * time.Millisecond // between two of the person's edits
	conflictThink    = 30 * time.Millisecond // between reading the resource and saving the edit
	personManager    = "person"              // the person's field manager
	personLabel      = "person.example/touched"
)

// TestConflictingWriter has a "person" edit the resources' specs (scopes), label their Secrets
// and now and then rotate a Secret's client_secret by hand, in a tight loop, while the operator
// reconciles the same objects. In the end the person's last spec edit is the one at Hydra and in
// the resource (the operator never writes spec), the person's labels are still on the Secrets,
// and each Secret's credentials (the person's last rotation, where there was one) obtain a token.
func TestConflictingWriter(t *testing.T) {
	e := setup(t, "conflict", 4*time.Minute)
	op := e.startOperator(operatorOptions{})
	var objs []*v1alpha1.OAuth2Client
	clients := names("app", 0, conflictClients)
	for _, name := range clients {
		objs = append(objs, serviceClient(e.ns, name, "fault.read"))
	}
	if err := e.startCreating(objs, 4).wait(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.waitConverged(time.Now(), conflictClients, time.Minute); err != nil {
		t.Fatal(err)
	}

	// The person, in a loop: a spec edit, a label on the Secret, every third time a new secret.
	lastScopes := map[string][]string{}
	lastLabel := map[string]string{}
	lastSecret := map[string]string{}
	var allSecrets []string // every secret the person wrote
	edits, conflicts, rotations := 0, 0, 0
	begin := time.Now()
	for i := 0; time.Since(begin) < conflictDuration; i++ {
		name := clients[(i/4)%conflictClients] // four edits in a row to each, so they meet the operator's writes
		scopes := []string{"fault.read", "edit." + strconv.Itoa(i)}
		c, err := e.retrying(func() error {
			obj := &v1alpha1.OAuth2Client{}
			if err := e.k8s.Get(e.ctx, client.ObjectKey{Namespace: e.ns, Name: name}, obj); err != nil {
				return err
			}
			obj.Spec.Scopes = scopes
			e.faultDelay(conflictThink) // the person looks at the object before saving it
			return e.k8s.Update(e.ctx, obj, client.FieldOwner(personManager))
		})
		conflicts += c
		if err != nil {
			t.Fatalf("editing %s: %v", name, err)
		}
		lastScopes[name] = scopes
		edits++

		patch := map[string]any{"metadata": map[string]any{"labels": map[string]string{personLabel: strconv.Itoa(i)}}}
		if i%3 == 0 {
			secret := newSecretValue()
			patch["data"] = map[string]string{"client_secret": base64.StdEncoding.EncodeToString([]byte(secret))}
			lastSecret[name] = secret
			allSecrets = append(allSecrets, secret)
			rotations++
		}
		raw, _ := json.Marshal(patch)
		if _, err := e.retrying(func() error {
			return e.k8s.Patch(e.ctx, &corev1.Secret{ObjectMeta: metaOf(e.ns, name)}, client.RawPatch(types.MergePatchType, raw), client.FieldOwner(personManager))
		}); err != nil {
			t.Fatalf("editing Secret %s: %v", name, err)
		}
		lastLabel[name] = strconv.Itoa(i)
		// The person's pace, not a wait for the operator.
		e.faultDelay(conflictPace)
	}
	stoppedAt := time.Now()

	converge, snap, convergeErr := e.waitConverged(stoppedAt, conflictClients, 2*time.Minute)
	lost, duplicates, tokenFailures := conflictClients, -1, -1
	specLost, labelsLost, secretsLost, opSpecFields := -1, -1, -1, -1
	var tokenErrs, problems []string
	leaks := -1
	if snap != nil {
		tl := snap.tally()
		lost, duplicates = tl.Missing+(conflictClients-tl.Resources), tl.Duplicates
		specLost, labelsLost, secretsLost, opSpecFields = 0, 0, 0, 0
		for _, name := range clients {
			obj, sec := snap.resources[name], snap.secrets[name]
			if obj == nil || sec == nil {
				problems = append(problems, name+": resource or Secret missing")
				continue
			}
			if !slices.Equal(obj.Spec.Scopes, lastScopes[name]) {
				specLost++
				problems = append(problems, fmt.Sprintf("%s: spec.scopes %v, the person's last edit %v", name, obj.Spec.Scopes, lastScopes[name]))
			}
			if sec.Labels[personLabel] != lastLabel[name] {
				labelsLost++
				problems = append(problems, fmt.Sprintf("%s: Secret label %q, the person's last %q", name, sec.Labels[personLabel], lastLabel[name]))
			}
			if want, ok := lastSecret[name]; ok && string(sec.Data["client_secret"]) != want {
				secretsLost++
				problems = append(problems, fmt.Sprintf("%s: Secret's client_secret is not the person's last rotation", name))
			}
			for _, mf := range obj.ManagedFields {
				if mf.Manager != personManager && mf.Manager != "fault-test" && mf.FieldsV1 != nil && strings.Contains(mf.FieldsV1.GetRawString(), `"f:spec"`) {
					opSpecFields++
					problems = append(problems, fmt.Sprintf("%s: field manager %q (%s) owns spec fields", name, mf.Manager, mf.Operation))
				}
			}
		}
		tokenFailures, tokenErrs = e.checkTokens(snap, clients)
		leaks = e.secretsInLogs(snap, allSecrets...)
		if convergeErr != nil {
			t.Logf("last state: %s", tl)
		}
	}
	e.report(converge, convergeErr, lost, duplicates,
		kv("clients", conflictClients), kv("personEdits", edits), kv("personConflicts", conflicts), kv("personRotations", rotations),
		kv("specEditsLost", specLost), kv("labelsLost", labelsLost), kv("rotationsLost", secretsLost), kv("operatorSpecFields", opSpecFields),
		kv("tokenFailures", fmt.Sprintf("%d/%d", tokenFailures, conflictClients)), kv("secretsInLogs", leaks))

	for _, p := range problems {
		t.Error(p)
	}
	if leaks != 0 {
		t.Errorf("%d client secrets appear in the operator's logs", leaks)
	}
	if convergeErr != nil {
		t.Fatal(convergeErr)
	}
	if tokenFailures != 0 {
		t.Errorf("%d token requests with the Secrets' credentials failed: %v", tokenFailures, tokenErrs)
	}
	if op.exited() {
		t.Errorf("the operator exited: %v", op.ExitErr())
	}
}

func newSecretValue() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
