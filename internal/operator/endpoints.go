package operator

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/secrets"
)

// discoveryWait is how long the operator tries at start to read Hydra's discovery document
// before it falls back to the standard paths: long enough for Hydra starting beside it.
const discoveryWait = 5 * time.Second

// publicEndpoints are the URLs secretTemplate.includeEndpoints puts into Secrets: those Hydra's
// discovery document advertises, or, when it cannot be read at start (Hydra not up yet), the
// standard paths under --hydra-public-url, which are Hydra's own when the issuer is that URL.
// hopts carry the timeout and CA bundle of requests to Hydra.
func publicEndpoints(ctx context.Context, publicURL string, hopts hydra.Options) secrets.Endpoints {
	if publicURL == "" {
		return secrets.Endpoints{}
	}
	log := ctrl.Log.WithName("setup")
	var found hydra.PublicEndpoints
	err := wait.PollUntilContextTimeout(ctx, time.Second, discoveryWait, true, func(ctx context.Context) (bool, error) {
		ep, err := hydra.Discover(ctx, publicURL, hopts)
		found = ep
		return err == nil, nil
	})
	if err != nil {
		log.Info("Hydra's discovery document could not be read; using the standard paths under --hydra-public-url", "publicURL", publicURL)
		return secrets.EndpointsFromPublicURL(publicURL)
	}
	log.Info("Read Hydra's discovery document", "issuer", found.Issuer)
	return secrets.Endpoints{Issuer: found.Issuer, Token: found.Token, Authorization: found.Authorization, JWKS: found.JWKS}
}
