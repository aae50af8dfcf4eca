package controllers

import (
	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/drift"
)

// DriftVerdicts is all the reconciler asks of a drift scanner (internal/drift), which checks
// every settled client against Hydra with a few paged list reads. It is declared here, where it
// is used, so that the scanner needn't know the reconciler: the scanner reaches the controller
// only through the queue it is given (DriftQueue). Both methods answer from memory at once.
type DriftVerdicts interface {
	// Verdict says whether a pass can skip reading Hydra's client: drift.InSync when the scanner
	// saw this generation in sync, drift.ScanSoon while the first scan after a start is under
	// way, and drift.Unknown otherwise, always so for a resource that is not settled (Ready for
	// its generation, with a client ID).
	Verdict(obj *v1alpha1.OAuth2Client) drift.Verdict
	// MarkInSync records that the pass has just made Hydra's client match this generation, so
	// that the pass its own Secret and status writes trigger need not read Hydra again.
	MarkInSync(obj *v1alpha1.OAuth2Client)
	// SeenInSync reports whether some generation of the resource was last seen in sync at Hydra
	// (by the last scan, or by a pass since), its owner mark included: its client is this
	// resource's, whatever its generation is now.
	SeenInSync(obj *v1alpha1.OAuth2Client) bool
}

type noDrift struct{}

func (noDrift) Verdict(*v1alpha1.OAuth2Client) drift.Verdict { return drift.Unknown }

func (noDrift) MarkInSync(*v1alpha1.OAuth2Client) {}

func (noDrift) SeenInSync(*v1alpha1.OAuth2Client) bool { return false }
