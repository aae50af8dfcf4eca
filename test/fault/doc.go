// Package fault holds the fault-injection tests: real processes (the operator binary built from
// ./cmd, a real Ory Hydra, envtest's kube-apiserver and etcd) and one fault each: Hydra losing
// its data, a slow or hanging Hydra, an API server restart, SIGKILLs of the operator, a leader
// that dies, and a person editing the same objects. Each test logs one line
//
//	FAULT <name>: converge=<duration> lost=<n> duplicates=<n> ...
//
// with what it measured. The tests carry the build tag fault; run them with `make test-fault`
// (docs/reliability.md has the details and the numbers).
package fault
