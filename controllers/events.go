package controllers

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// event records an Event on obj, with the message cut to what the API server accepts, unless
// it is a routine success and QuietSuccess is set.
func (r *OAuth2ClientReconciler) event(obj *v1alpha1.OAuth2Client, eventType, reason, message string) {
	if r.QuietSuccess && eventType == corev1.EventTypeNormal && routineSuccess[reason] {
		return
	}
	if r.Recorder != nil {
		r.Recorder.Eventf(obj, nil, eventType, reason, "Reconcile", "%s", truncate(message, maxEventMessage))
	}
}

// routineSuccess are the reasons of the Normal Events that --success-events=false leaves out:
// the expected outcome of a change, which status and the log record too.
var routineSuccess = map[string]bool{"Created": true, "Updated": true, "Deleted": true}

// maxEventMessage is the longest note the API server accepts in an events.k8s.io Event (1 kB);
// a longer one is refused, and the refusal would be logged with the whole message in it.
const maxEventMessage = 1024
