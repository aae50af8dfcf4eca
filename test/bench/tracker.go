package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// tracker follows every OAuth2Client and every operator-managed Secret through a watch, and
// remembers when each resource became done: Ready=True for its current generation (status
// observedGeneration and the condition's observedGeneration), with its Secret holding the
// client ID the status reports and a secret. Waiting for a phase reads this state; it never
// lists thousands of objects from the API server in a loop.
type tracker struct {
	mu       sync.Mutex
	objs     map[string]*entry      // namespace/name of the OAuth2Client
	secrets  map[string]secretState // namespace/name of the Secret
	created  int                    // OAuth2Clients seen so far
	lastGone time.Time              // when the latest OAuth2Client disappeared
}

type entry struct {
	uid, clientID    string
	gen, observedGen int64
	minGen           int64 // the generation a phase waits for
	ready            bool
	reason           string // reason of the Ready condition (for diagnostics)
	secretName       string
	doneSince        time.Time // zero while not done
}

type secretState struct {
	clientID  string
	hasSecret bool
}

func newTracker() *tracker {
	return &tracker{objs: map[string]*entry{}, secrets: map[string]secretState{}}
}

// start runs an informer cache for OAuth2Clients and managed Secrets and waits for its sync.
func (t *tracker) start(ctx context.Context, cfg *rest.Config, scheme *runtime.Scheme) error {
	managed := labels.SelectorFromSet(labels.Set{v1alpha1.ManagedByLabel: v1alpha1.ManagedByValue})
	c, err := cache.New(cfg, cache.Options{
		Scheme:   scheme,
		ByObject: map[client.Object]cache.ByObject{&corev1.Secret{}: {Label: managed}},
	})
	if err != nil {
		return err
	}
	objInf, err := c.GetInformer(ctx, &v1alpha1.OAuth2Client{})
	if err != nil {
		return err
	}
	if _, err := objInf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { t.onClient(o) },
		UpdateFunc: func(_, o any) { t.onClient(o) },
		DeleteFunc: func(o any) { t.onClientGone(o) },
	}); err != nil {
		return err
	}
	secInf, err := c.GetInformer(ctx, &corev1.Secret{})
	if err != nil {
		return err
	}
	if _, err := secInf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { t.onSecret(o, false) },
		UpdateFunc: func(_, o any) { t.onSecret(o, false) },
		DeleteFunc: func(o any) { t.onSecret(o, true) },
	}); err != nil {
		return err
	}
	go func() { _ = c.Start(ctx) }()
	syncCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if !c.WaitForCacheSync(syncCtx) {
		return fmt.Errorf("the harness's watch cache did not sync within a minute")
	}
	return nil
}

func (t *tracker) onClient(o any) {
	obj, ok := o.(*v1alpha1.OAuth2Client)
	if !ok {
		return
	}
	now := time.Now()
	k := obj.Namespace + "/" + obj.Name
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.objs[k]
	if e == nil {
		e = &entry{}
		t.objs[k] = e
		t.created++
	}
	e.uid, e.clientID = string(obj.UID), obj.Status.ClientID
	e.gen, e.observedGen = obj.Generation, obj.Status.ObservedGeneration
	e.secretName = obj.Namespace + "/" + obj.Name
	if obj.Spec.SecretName != "" {
		e.secretName = obj.Namespace + "/" + obj.Spec.SecretName
	}
	e.ready, e.reason = false, "NoReadyCondition"
	if c := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionReady); c != nil {
		e.ready = c.Status == "True" && (c.ObservedGeneration == 0 || c.ObservedGeneration == obj.Generation)
		e.reason = string(c.Status) + "/" + c.Reason
	}
	if !obj.DeletionTimestamp.IsZero() {
		e.ready, e.reason = false, "Deleting"
	}
	t.evaluate(e, now)
}

func (t *tracker) onClientGone(o any) {
	if tomb, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
		o = tomb.Obj
	}
	obj, ok := o.(*v1alpha1.OAuth2Client)
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.objs, obj.Namespace+"/"+obj.Name)
	t.lastGone = time.Now()
}

func (t *tracker) onSecret(o any, gone bool) {
	if tomb, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
		o = tomb.Obj
	}
	s, ok := o.(*corev1.Secret)
	if !ok {
		return
	}
	now := time.Now()
	k := s.Namespace + "/" + s.Name
	t.mu.Lock()
	defer t.mu.Unlock()
	if gone {
		delete(t.secrets, k)
	} else {
		t.secrets[k] = secretState{clientID: string(s.Data["client_id"]), hasSecret: len(s.Data["client_secret"]) > 0}
	}
	// The default Secret name is the resource's name; look the owner up by that first.
	if e := t.objs[k]; e != nil {
		t.evaluate(e, now)
		return
	}
	for _, e := range t.objs {
		if e.secretName == k {
			t.evaluate(e, now)
		}
	}
}

// evaluate updates doneSince; the caller holds t.mu.
func (t *tracker) evaluate(e *entry, now time.Time) {
	s, hasSecret := t.secrets[e.secretName]
	done := e.ready && e.observedGen == e.gen && e.gen >= e.minGen &&
		e.clientID != "" && hasSecret && s.hasSecret && s.clientID == e.clientID
	switch {
	case done && e.doneSince.IsZero():
		e.doneSince = now
	case !done:
		e.doneSince = time.Time{}
	}
}

// expectNewGeneration makes every present resource count as not done until its generation is
// above the current one (call it before changing every spec).
func (t *tracker) expectNewGeneration() {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	for _, e := range t.objs {
		e.minGen = e.gen + 1
		t.evaluate(e, now)
	}
}

// progress is a summary of the tracked resources.
type progress struct {
	Present, Done int
	// LastDone is the latest time a resource became done (meaningful when all are done).
	LastDone time.Time
	// NotDone counts the resources not done by their Ready condition's status/reason.
	NotDone map[string]int
}

func (p progress) String() string {
	s := fmt.Sprintf("%d/%d done", p.Done, p.Present)
	if len(p.NotDone) > 0 {
		keys := make([]string, 0, len(p.NotDone))
		for k := range p.NotDone {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		s += "; not done:"
		for _, k := range keys {
			s += fmt.Sprintf(" %s=%d", k, p.NotDone[k])
		}
	}
	return s
}

func (t *tracker) progress() progress { return t.progressOf("") }

// progressOf is the progress of the resources whose namespace/name starts with prefix.
func (t *tracker) progressOf(prefix string) progress {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := progress{NotDone: map[string]int{}}
	for k, e := range t.objs {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		p.Present++
		if !e.doneSince.IsZero() {
			p.Done++
			if e.doneSince.After(p.LastDone) {
				p.LastDone = e.doneSince
			}
			continue
		}
		why := e.reason
		switch {
		case e.ready && e.gen < e.minGen:
			why = "OldGeneration"
		case e.ready && e.observedGen != e.gen:
			why = "ObservedGenerationBehind"
		case e.ready:
			why = "SecretMissingOrDifferent"
		}
		p.NotDone[why]++
	}
	return p
}

// clientIDs returns the client ID in the status of every present resource.
func (t *tracker) clientIDs() map[string]bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	ids := make(map[string]bool, len(t.objs))
	for _, e := range t.objs {
		if e.clientID != "" {
			ids[e.clientID] = true
		}
	}
	return ids
}

// gone reports how many resources are still present and when the latest one disappeared.
func (t *tracker) gone() (present int, last time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.objs), t.lastGone
}
