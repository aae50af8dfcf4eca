// Command apicost measures what single API requests cost the kube-apiserver and etcd, in CPU
// milliseconds per request, on the envtest control plane the benchmark uses: the requests an
// OAuth2Client's creation needs (its create, the finalizer patch, the status patch, the Secret's
// server-side apply, an event) beside the raw path's plain Secret create. It explains where the
// converge figure of `make bench` stands against the raw path; see docs/performance.md.
//
//	KUBEBUILDER_ASSETS=$(hack/testbins.sh envtest) go run ./test/bench/apicost
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

func cpuOf(name string) float64 {
	ents, _ := os.ReadDir("/proc")
	tot := 0.0
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.Index(s, "(")
		j := strings.LastIndex(s, ")")
		if s[i+1:j] != name {
			continue
		}
		f := strings.Fields(s[j+2:])
		u, _ := strconv.Atoi(f[11])
		st, _ := strconv.Atoi(f[12])
		tot += float64(u+st) / 100
	}
	return tot
}

// baseline is the first measurement's CPU per request (a Secret create), the unit of the ratios.
var baseline float64

func run(label string, n int, f func(i int) error) {
	a0, e0 := cpuOf("kube-apiserver"), cpuOf("etcd")
	var wg sync.WaitGroup
	ch := make(chan int)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ch {
				if err := f(i); err != nil {
					fmt.Println(label, err)
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		ch <- i
	}
	close(ch)
	wg.Wait()
	time.Sleep(2 * time.Second) // let the last requests' CPU time reach /proc
	api, etcd := (cpuOf("kube-apiserver")-a0)*1000/float64(n), (cpuOf("etcd")-e0)*1000/float64(n)
	if baseline == 0 {
		baseline = api + etcd
	}
	fmt.Printf("| %s | %.2f | %.2f | %.2f |\n", label, api, etcd, (api+etcd)/baseline)
}

func main() {
	root, _ := testenv.ModuleRoot()
	cp, err := testenv.StartControlPlane(testenv.ControlPlaneOptions{CRDDir: filepath.Join(root, "config", "crd", "bases")})
	if err != nil {
		panic(err)
	}
	defer func() { _ = cp.Stop() }()
	sch := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(sch)
	_ = v1alpha1.AddToScheme(sch)
	cfg := rest.CopyConfig(cp.Config)
	cfg.QPS, cfg.Burst = -1, 0
	c, _ := client.New(cfg, client.Options{Scheme: sch})
	ctx := context.Background()
	_ = c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "x"}})
	fmt.Println("| request (1000 each, 8 in parallel) | kube-apiserver CPU ms | etcd CPU ms | × Secret create |")
	fmt.Println("|---|---|---|---|")
	n := 1000
	time.Sleep(3 * time.Second) // the API server's start-up work is not part of any figure
	run("secret create", n, func(i int) error {
		return c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("s%d", i), Namespace: "x"}, StringData: map[string]string{"client_id": "abc", "client_secret": "def"}})
	})
	run("secret get missing", n, func(i int) error {
		s := &corev1.Secret{}
		_ = c.Get(ctx, client.ObjectKey{Namespace: "x", Name: fmt.Sprintf("m%d", i)}, s)
		return nil
	})
	run("secret SSA create", n, func(i int) error {
		ac := corev1ac.Secret(fmt.Sprintf("a%d", i), "x").WithLabels(map[string]string{"a": "b"}).
			WithData(map[string][]byte{"client_id": []byte("abc"), "client_secret": []byte("def")})
		return c.Apply(ctx, ac, client.FieldOwner("op"), client.ForceOwnership)
	})
	run("event create", n, func(i int) error {
		e := &eventsv1.Event{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("e%d", i), Namespace: "x"}, EventTime: metav1.NewMicroTime(time.Now()), ReportingController: "x", ReportingInstance: "y", Action: "Reconcile", Reason: "Created", Note: "Created client", Type: "Normal", Regarding: corev1.ObjectReference{Kind: "Secret", Name: "a", Namespace: "x"}}
		return c.Create(ctx, e)
	})
	run("oauth2client create", n, func(i int) error {
		o := &v1alpha1.OAuth2Client{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("o%d", i), Namespace: "x"}, Spec: v1alpha1.OAuth2ClientSpec{GrantTypes: []v1alpha1.GrantType{"client_credentials"}, Scopes: []string{"read", "write"}}}
		return c.Create(ctx, o)
	})
	// The patches start from objects read beforehand, so that their rows hold the patch alone.
	objs := make([]*v1alpha1.OAuth2Client, n)
	for i := range objs {
		objs[i] = &v1alpha1.OAuth2Client{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: "x", Name: fmt.Sprintf("o%d", i)}, objs[i]); err != nil {
			panic(err)
		}
	}
	run("oauth2client finalizer patch", n, func(i int) error {
		o := objs[i]
		p := client.MergeFromWithOptions(o.DeepCopy(), client.MergeFromWithOptimisticLock{})
		o.Finalizers = append(o.Finalizers, "x/y")
		return c.Patch(ctx, o, p)
	})
	run("oauth2client status patch", n, func(i int) error {
		o := objs[i]
		p := client.MergeFrom(o.DeepCopy())
		o.Status.ClientID = "abc"
		o.Status.ObservedGeneration = 1
		o.Status.SecretName = "s"
		o.Status.Conditions = []metav1.Condition{{Type: "Ready", Status: "True", Reason: "Reconciled", Message: "The client is registered", LastTransitionTime: metav1.Now(), ObservedGeneration: 1}}
		return c.Status().Patch(ctx, o, p)
	})
	run("oauth2client get", n, func(i int) error {
		o := &v1alpha1.OAuth2Client{}
		return c.Get(ctx, client.ObjectKey{Namespace: "x", Name: fmt.Sprintf("o%d", i)}, o)
	})
}
