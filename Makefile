# oauth2-client-operator Makefile. Every tool is pinned; nothing is downloaded except Go modules.

IMG ?= oauth2-client-operator:dev
# The platform of `make image`: linux/amd64 unless given, e.g. make image GOARCH=arm64.
IMAGE_GOOS ?= linux
GOARCH ?= amd64
SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

# Pinned tool versions. Tools are installed from the Go module proxy into ./bin (git-ignored).
CONTROLLER_TOOLS_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION ?= v2.15.0
KUSTOMIZE_VERSION ?= v5.8.2

# Pinned test binaries, built by hack/testbins.sh and cached outside the clone.
K8S_VERSION ?= 1.37.1
ETCD_VERSION ?= 3.7.0
HYDRA_VERSION ?= 2.3.0
export K8S_VERSION ETCD_VERSION HYDRA_VERSION

LOCALBIN ?= $(CURDIR)/bin
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
KUSTOMIZE ?= $(LOCALBIN)/kustomize-$(KUSTOMIZE_VERSION)

# Test tiers. Unit tests need nothing; integration and e2e tests need the test binaries.
GO_TEST_FLAGS ?= -race -count=1
FUZZ_TIME ?= 5s
FUZZ_LONG_TIME ?= 5m

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

# The Helm chart's copies of the generated files: its crds/ (Helm installs CRDs from there) and
# the manager's rules, which its templates read. Copied here so they never drift from config/;
# `make verify` fails when a copy is stale and TestChart* in the e2e tier compares them.
CHART_DIR ?= charts/oauth2-client-operator

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate the CRD and RBAC manifests, and the Helm chart's copies of them.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./api/...;./controllers/...;./internal/..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac/manager
	rm -f $(CHART_DIR)/crds/*.yaml
	cp config/crd/bases/*.yaml $(CHART_DIR)/crds/
	cp config/rbac/manager/role.yaml $(CHART_DIR)/files/manager-role.yaml

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: verify
verify: generate manifests ## Fail when generated files (the Helm chart's copies too) or go.mod are stale, or the package map is broken.
	go test -count=1 ./internal/architecture/
	go mod tidy
	@if [ -n "$$(git status --porcelain -- api config $(CHART_DIR) go.mod go.sum)" ]; then \
		echo "Generated files are stale; run 'make generate manifests' and 'go mod tidy' and commit:"; \
		git status --porcelain -- api config $(CHART_DIR) go.mod go.sum; git --no-pager diff --stat -- api config $(CHART_DIR) go.mod go.sum; exit 1; fi

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: $(GOLANGCI_LINT) ## Run golangci-lint.
	$(GOLANGCI_LINT) run ./...

##@ Test

.PHONY: test
test: verify vet lint test-unit fuzz test-integration test-e2e test-fault ## Run every check and test tier (what CI runs).

.PHONY: test-unit
test-unit: ## Unit tests and the fast controller tier (no binaries needed; the loop to run on every change).
	go test $(GO_TEST_FLAGS) ./api/... ./internal/... ./cmd/... ./controllers/... ./hack/...

.PHONY: fuzz
fuzz: ## A short run of every fuzz target (FUZZ_TIME each); their seed corpora also run in test-unit.
	hack/fuzz.sh $(FUZZ_TIME)

.PHONY: test-integration
test-integration: testbins ## Integration tests: envtest (real etcd and kube-apiserver) plus a real Hydra.
	KUBEBUILDER_ASSETS="$$(hack/testbins.sh envtest)" HYDRA_BIN="$$(hack/testbins.sh hydra)" \
		go test $(GO_TEST_FLAGS) -tags integration -timeout 20m ./controllers/... ./internal/hydra/...

.PHONY: test-e2e
test-e2e: testbins manifests $(KUSTOMIZE) ## End-to-end OAuth2 flows: real processes, the operator binary, kubectl apply; the docs test.
	hack/testbins.sh oauth2-proxy >/dev/null
	KUBEBUILDER_ASSETS="$$(hack/testbins.sh envtest)" HYDRA_BIN="$$(hack/testbins.sh hydra)" KUSTOMIZE="$(KUSTOMIZE)" \
		go test $(GO_TEST_FLAGS) -tags e2e -timeout 20m ./test/e2e/...

.PHONY: test-fault
test-fault: testbins ## Fault matrix: Hydra outages and hangs, API server restart, SIGKILLs, leader failover.
	KUBEBUILDER_ASSETS="$$(hack/testbins.sh envtest)" HYDRA_BIN="$$(hack/testbins.sh hydra)" \
		go test $(GO_TEST_FLAGS) -tags fault -timeout 30m -v ./test/fault/...

.PHONY: fuzz-long
fuzz-long: ## Run every fuzz target for FUZZ_LONG_TIME each.
	hack/fuzz.sh $(FUZZ_LONG_TIME)

.PHONY: bench
bench: testbins build ## Scale benchmark against real processes (BENCH_N="1000 10000" by default: one table each) and Go benchmarks.
	go test -run '^$$' -bench . -benchmem ./internal/...
	for n in $${BENCH_N:-1000 10000}; do \
		KUBEBUILDER_ASSETS="$$(hack/testbins.sh envtest)" HYDRA_BIN="$$(hack/testbins.sh hydra)" \
			go run ./test/bench -operator $(LOCALBIN)/manager -n $$n || exit 1; \
	done

.PHONY: testbins
testbins: ## Build (once per machine) kube-apiserver, etcd, kubectl, kube-controller-manager and Hydra, pinned by version.
	hack/testbins.sh all >/dev/null

##@ Build

.PHONY: build
build: ## Build the operator binary.
	go build -o $(LOCALBIN)/manager ./cmd

.PHONY: run
run: ## Run the operator against the cluster in KUBECONFIG and the Hydra in HYDRA_ADMIN_URL.
	go run ./cmd

# RUN_LOCAL_FLAGS are further flags of hack/runlocal, e.g. RUN_LOCAL_FLAGS="-hydra-public-port=0 -dir /tmp/x"
# (bin/runlocal -h lists them).
RUN_LOCAL_FLAGS ?=

# run-local runs a built binary, not `go run`, which exits 1 when interrupted; exec makes it make's
# own child. It takes the terminal's foreground so that Ctrl-C ends make with status 0
# (hack/runlocal/terminal.go says why).
.PHONY: run-local
run-local: testbins build ## Run a local cluster (kube-apiserver, GC and namespace controllers), Hydra on :4444/:4445, a login app on :3000 and the operator; Ctrl-C stops all.
	go build -o $(LOCALBIN)/runlocal ./hack/runlocal
	exec $(LOCALBIN)/runlocal -manager $(LOCALBIN)/manager -assets "$$(hack/testbins.sh envtest)" -hydra "$$(hack/testbins.sh hydra)" $(RUN_LOCAL_FLAGS)

# image needs no Docker engine: hack/image builds the static binary and the image with
# go-containerregistry, reproducibly (the digest depends on the commit, not on the build's time).
# make exports a GOARCH given on its command line; hack/image itself runs on this machine, so
# it gets the platform as flags only.
.PHONY: image
image: ## Build the container image IMG for GOARCH without Docker: dist/image/oci (OCI layout) and dist/image/image.tar (docker load); prints the digest.
	env -u GOOS -u GOARCH go run ./hack/image -img $(IMG) -goos $(IMAGE_GOOS) -goarch $(GOARCH) -out dist/image

.PHONY: docker-build
docker-build: ## Build the container image with a Docker engine (the same user, entrypoint and binary flags as make image).
	docker build -t $(IMG) .

.PHONY: build-installer
build-installer: manifests $(KUSTOMIZE) ## Write dist/install.yaml: CRDs, RBAC and the Deployment in one file.
	mkdir -p dist
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default > dist/install.yaml
	cd config/manager && $(KUSTOMIZE) edit set image controller=oauth2-client-operator:dev

##@ Deployment

.PHONY: install
install: manifests $(KUSTOMIZE) ## Install the CRDs into the cluster in KUBECONFIG.
	$(KUSTOMIZE) build config/crd | kubectl apply --server-side -f -

.PHONY: uninstall
uninstall: manifests $(KUSTOMIZE) ## Remove the CRDs from the cluster in KUBECONFIG.
	$(KUSTOMIZE) build config/crd | kubectl delete --ignore-not-found -f -

.PHONY: deploy
deploy: manifests $(KUSTOMIZE) ## Deploy the operator (image IMG) into the cluster in KUBECONFIG.
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default | kubectl apply --server-side -f -
	cd config/manager && $(KUSTOMIZE) edit set image controller=oauth2-client-operator:dev

.PHONY: undeploy
undeploy: $(KUSTOMIZE) ## Remove the operator from the cluster in KUBECONFIG.
	$(KUSTOMIZE) build config/default | kubectl delete --ignore-not-found -f -

##@ Tools

$(CONTROLLER_GEN):
	$(call go-install-tool,$@,sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))

$(GOLANGCI_LINT):
	$(call go-install-tool,$@,github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

$(KUSTOMIZE):
	$(call go-install-tool,$@,sigs.k8s.io/kustomize/kustomize/v5,$(KUSTOMIZE_VERSION),kustomize)

# go-install-tool installs a Go package at a version into a versioned file name in ./bin.
# $(4), when given, is the name go install gives the binary (for module paths ending in /vN).
define go-install-tool
@[ -f "$(1)" ] || { \
set -e; \
echo "Installing $(2)@$(3)"; \
rm -f "$(1)"; \
GOBIN="$(LOCALBIN)" go install "$(2)@$(3)"; \
mv "$(LOCALBIN)/$(if $(4),$(4),$$(basename "$(2)"))" "$(1)"; \
}
endef
