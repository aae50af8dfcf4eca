//go:build integration

package controllers_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/fields"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/controllers"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/operator"
)

// This file is in the external test package because it imports internal/operator, which
// imports controllers; see controllers.StartOperator.
func init() { controllers.StartOperator = startOperator }

// startOperator runs internal/operator, the wiring cmd/ ships, with the suite's settings s.
// Only what the suite can't use from cmd/'s defaults differs: no metrics or probe listeners
// (tests read metrics from the registry), and Hydra's timeout of the suite's own client.
func startOperator(ctx context.Context, s controllers.SuiteOperator) (func(), error) {
	o := operator.DefaultOptions()
	o.HydraAdminURL, o.HydraPublicURL = s.HydraAdminURL, s.HydraPublicURL
	o.HydraTimeout = 5 * time.Second
	o.MetricsAddr, o.ProbeAddr = "0", "0"
	o.SyncPeriod, o.HydraPageSize, o.StartupGrace = s.SyncPeriod, s.PageSize, s.StartupGrace
	o.AdoptionNamespaces, o.ClientIDRules = s.AdoptionNamespaces, s.ClientIDRules
	o.FingerprintKey = s.FingerprintKey
	o.WrapHydra = s.WrapHydra
	o.ServerCheckInterval = s.ServerCheckInterval
	hidden := fields.ParseSelectorOrDie("metadata.namespace!=" + s.HiddenNamespace)
	o.EditCache = func(c *cache.Options) {
		c.ByObject[&v1alpha1.OAuth2Client{}] = cache.ByObject{Field: hidden}
	}
	op, err := operator.New(ctx, s.RestConfig, o)
	if err != nil {
		return nil, err
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := op.Start(mctx); err != nil {
			fmt.Fprintln(os.Stderr, "operator:", err)
		}
	}()
	return func() { cancel(); <-done }, nil
}
