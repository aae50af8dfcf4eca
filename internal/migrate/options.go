package migrate

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Default key names of hydra-maester's Secret: it writes CLIENT_ID and CLIENT_SECRET unless its
// CLIENT_ID_KEY and CLIENT_SECRET_KEY environment variables say otherwise.
const (
	DefaultClientIDKey     = "CLIENT_ID"
	DefaultClientSecretKey = "CLIENT_SECRET"
)

// Options shape the conversion.
type Options struct {
	// ClientIDKey and ClientSecretKey are the key names in hydra-maester's Secrets, copied into
	// spec.secretTemplate so that the operator reads (and later writes) the same keys.
	ClientIDKey     string
	ClientSecretKey string
	// DropUnsupported converts a resource that sets fields our API has no place for, without
	// them, instead of refusing it; the result then warns which fields were dropped.
	DropUnsupported bool
}

// secretKeyPattern is the CRD's rule for clientIDKey and clientSecretKey (a valid Secret key).
var secretKeyPattern = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)

// Validate refuses key names the CRD would refuse, so that a typo in a flag fails the command
// rather than every apply of its output.
func (o Options) Validate() error {
	for _, k := range []struct{ flag, key string }{{"--client-id-key", o.ClientIDKey}, {"--client-secret-key", o.ClientSecretKey}} {
		if len(k.key) > 253 || !secretKeyPattern.MatchString(k.key) || k.key == "." || strings.HasPrefix(k.key, "..") {
			return fmt.Errorf("%s %q is not a valid Secret key: 1 to 253 letters, digits, -, _ and ., not . and not starting with .., such as client_id", k.flag, k.key)
		}
		if slices.Contains([]string{"issuer_url", "token_endpoint", "authorization_endpoint", "jwks_uri"}, k.key) {
			return fmt.Errorf("%s %s is reserved by this operator for the authorization server's endpoints", k.flag, k.key)
		}
	}
	if o.ClientIDKey == o.ClientSecretKey {
		return fmt.Errorf("--client-id-key and --client-secret-key are both %q: they must name two different keys", o.ClientIDKey)
	}
	return nil
}

// Result is what the conversion of one resource says to the user.
type Result struct {
	Namespace, Name string
	// Refusals, when not empty, say why the resource was not converted and what to do.
	Refusals []string
	// Notes are mappings worth knowing, such as merged scopes.
	Notes []string
	// Warnings name what the converted manifest lost (fields dropped by DropUnsupported).
	Warnings []string
	// Actions are what the user must do for the converted resource to work.
	Actions []string
}

// Refused says whether the resource was left unconverted.
func (r Result) Refused() bool { return len(r.Refusals) > 0 }

// Key is namespace/name, as the report and kubectl write it.
func (r Result) Key() string {
	ns := r.Namespace
	if ns == "" {
		ns = "(no namespace)"
	}
	return ns + "/" + r.Name
}
