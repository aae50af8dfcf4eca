// Package e2e holds the end-to-end tests: the OAuth2 flows of RFC 6749 and RFC 7636 against a
// real Ory Hydra, with clients registered by the operator binary running as a separate process
// against a real kube-apiserver and etcd, and manifests applied with kubectl; and `make
// run-local` itself, on a pseudo-terminal (TestRunLocal). The tests carry the build tag e2e; run
// them with `make test-e2e`.
package e2e
