#!/usr/bin/env bash
# Builds (once) and prints the location of the test binaries this project needs:
# kube-apiserver, etcd and kubectl for envtest and the end-to-end tests, kube-controller-manager
# for `make run-local` (its garbage collector and namespace controllers), and Ory Hydra.
#
# Usage: hack/testbins.sh envtest|hydra|all
#   envtest  prints the folder with kube-apiserver, etcd, kubectl and kube-controller-manager
#            (use as KUBEBUILDER_ASSETS)
#   hydra    prints the path of the hydra binary
#
# Binaries are cached outside the clone, keyed by version, so that every clone on a machine
# (and CI's fresh clones) reuse them. envtest's binaries go where setup-envtest puts them
# (~/.local/share/kubebuilder-envtest/k8s/<version>-linux-<arch>), which is also where envtest
# looks by default. setup-envtest is tried first; where it cannot download (offline machines),
# the binaries are built from pinned Go modules served by the Go module proxy.
# setup-envtest does not ship kube-controller-manager: it is always built, from the same
# k8s.io/kubernetes version as kube-apiserver, into the same folder.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.1}"          # kube-apiserver, kubectl, kube-controller-manager
ETCD_VERSION="${ETCD_VERSION:-3.7.0}"         # the etcd that Kubernetes 1.37 requires in its go.mod
HYDRA_VERSION="${HYDRA_VERSION:-2.3.0}"       # Ory Hydra
HYDRA_CLIENT_GO_VERSION="v2.2.1"              # what Hydra v2.3.0 itself builds against
ORY_POP_VERSION="v6.2.1-0.20241121111754-e5dfc0f3344b"
SETUP_ENVTEST_VERSION="${SETUP_ENVTEST_VERSION:-v0.25.1}"
OAUTH2_PROXY_VERSION="${OAUTH2_PROXY_VERSION:-7.15.6}"  # the consumer in the user guide's login walkthrough

GOOS="$(go env GOOS)"; GOARCH="$(go env GOARCH)"
DATA_HOME="${XDG_DATA_HOME:-$HOME/.local/share}"
ENVTEST_DIR="${ENVTEST_DIR:-$DATA_HOME/kubebuilder-envtest/k8s/${K8S_VERSION}-${GOOS}-${GOARCH}}"
HYDRA_DIR="${HYDRA_DIR:-$DATA_HOME/oauth2-client-operator/hydra/v${HYDRA_VERSION}-${GOOS}-${GOARCH}}"
OAUTH2_PROXY_DIR="${OAUTH2_PROXY_DIR:-$DATA_HOME/oauth2-client-operator/oauth2-proxy/v${OAUTH2_PROXY_VERSION}-${GOOS}-${GOARCH}}"
LOCK_DIR="$DATA_HOME/oauth2-client-operator"

log() { echo "testbins: $*" >&2; }

# with_lock serialises builds between concurrent clones and make targets on one machine.
with_lock() {
  mkdir -p "$LOCK_DIR"
  exec 9>"$LOCK_DIR/build.lock"
  flock 9
  "$@"
  flock -u 9
}

# wrapper_module writes a throw-away module in $1 with the given go.mod text and main file.
wrapper_module() {
  local dir="$1" gomod="$2"
  rm -rf "$dir" && mkdir -p "$dir"
  printf '%s\n' "$gomod" > "$dir/go.mod"
}

# install_atomically moves a freshly built binary into place only once it is complete,
# so an interrupted build never leaves a half-written binary in the cache.
install_atomically() {
  local built="$1" dest="$2"
  chmod +x "$built"
  mv -f "$built" "$dest"
}

try_setup_envtest() {
  local bin="$LOCK_DIR/bin/setup-envtest"
  if [ ! -x "$bin" ]; then
    GOBIN="$LOCK_DIR/bin" go install "sigs.k8s.io/controller-runtime/tools/setup-envtest@${SETUP_ENVTEST_VERSION}" >/dev/null 2>&1 || return 1
  fi
  local dir
  dir="$(timeout 60 "$bin" use "$K8S_VERSION" -p path 2>/dev/null)" || return 1
  [ -x "$dir/kube-apiserver" ] && [ -x "$dir/etcd" ] || return 1
  mkdir -p "$ENVTEST_DIR"
  for b in kube-apiserver etcd kubectl; do
    if [ -x "$dir/$b" ] && [ "$dir" != "$ENVTEST_DIR" ]; then cp -f "$dir/$b" "$ENVTEST_DIR/$b"; fi
  done
  return 0
}

# KUBE_CMDS are the commands of k8s.io/kubernetes this project needs, all at K8S_VERSION.
KUBE_CMDS="kube-apiserver kubectl kube-controller-manager"

# missing_kube_cmds prints those of KUBE_CMDS not yet in the envtest folder.
missing_kube_cmds() {
  local cmd missing=""
  for cmd in $KUBE_CMDS; do
    [ -x "$ENVTEST_DIR/$cmd" ] || missing="$missing $cmd"
  done
  echo "${missing# }"
}

# build_kubernetes builds only the commands that are missing, so a machine that already has
# kube-apiserver and kubectl (from setup-envtest or an earlier version of this script) builds
# just kube-controller-manager.
build_kubernetes() {
  local work="$LOCK_DIR/src/kubernetes-$K8S_VERSION" minor missing
  missing="$(missing_kube_cmds)"
  [ -n "$missing" ] || return 0
  minor="$(echo "$K8S_VERSION" | cut -d. -f2)"
  log "building $missing v$K8S_VERSION from the Go module proxy (several minutes each, once per machine)"
  local upstream
  upstream="$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')"
  local replaces
  replaces="$(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#replace \1 => \1 v0.'"$minor"'.'"${K8S_VERSION##*.}"'#p' "$upstream")"
  wrapper_module "$work" "module testbins/kubernetes

go 1.26

require k8s.io/kubernetes v$K8S_VERSION

$replaces"
  cat > "$work/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  (cd "$work" && go mod tidy -e >/dev/null 2>&1 || true)
  local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
  mkdir -p "$ENVTEST_DIR"
  for cmd in $missing; do
    (cd "$work" && CGO_ENABLED=0 go build -ldflags "$ldflags" -o "$ENVTEST_DIR/.$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd")
    install_atomically "$ENVTEST_DIR/.$cmd.tmp" "$ENVTEST_DIR/$cmd"
  done
}

build_etcd() {
  local work="$LOCK_DIR/src/etcd-$ETCD_VERSION"
  log "building etcd v$ETCD_VERSION from the Go module proxy (about two minutes, once per machine)"
  wrapper_module "$work" "module testbins/etcd

go 1.26

require go.etcd.io/etcd/server/v3 v$ETCD_VERSION"
  cat > "$work/main.go" <<'GO'
// Command etcd is etcd's own main package, which lives in a module with local replaces.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$work" && go mod tidy >/dev/null && CGO_ENABLED=0 go build -ldflags "-s -w" -o "$ENVTEST_DIR/.etcd.tmp" .)
  install_atomically "$ENVTEST_DIR/.etcd.tmp" "$ENVTEST_DIR/etcd"
}

build_hydra() {
  local work="$LOCK_DIR/src/hydra-$HYDRA_VERSION"
  log "building Ory Hydra v$HYDRA_VERSION from the Go module proxy (about two minutes, once per machine)"
  wrapper_module "$work" "module testbins/hydra

go 1.26

require github.com/ory/hydra/v2 v$HYDRA_VERSION

replace github.com/ory/hydra-client-go/v2 => github.com/ory/hydra-client-go/v2 $HYDRA_CLIENT_GO_VERSION

replace github.com/gobuffalo/pop/v6 => github.com/ory/pop/v6 $ORY_POP_VERSION"
  cat > "$work/tools.go" <<'GO'
//go:build tools

package tools

import _ "github.com/ory/hydra/v2"
GO
  mkdir -p "$HYDRA_DIR"
  (cd "$work" && go mod tidy -e >/dev/null 2>&1 || true)
  (cd "$work" && CGO_ENABLED=1 go build -tags sqlite,sqlite_omit_load_extension \
      -ldflags "-s -w -X github.com/ory/hydra/v2/driver/config.Version=v$HYDRA_VERSION" \
      -o "$HYDRA_DIR/.hydra.tmp" github.com/ory/hydra/v2)
  install_atomically "$HYDRA_DIR/.hydra.tmp" "$HYDRA_DIR/hydra"
}

# build_oauth2_proxy builds oauth2-proxy, the real OIDC consumer that the user guide signs in
# with on `make run-local` (and the docs test with it). `hack/testbins.sh oauth2-proxy` prints
# its path; `all` leaves it out, since only the guide's walkthrough needs it.
build_oauth2_proxy() {
  local work="$LOCK_DIR/src/oauth2-proxy-$OAUTH2_PROXY_VERSION"
  log "building oauth2-proxy v$OAUTH2_PROXY_VERSION from the Go module proxy (several minutes, once per machine)"
  # go install pkg@version builds with the module's own go.mod (it has no replace directives),
  # so no wrapper module is needed. The binary is pure Go: CGO is off so it runs anywhere.
  mkdir -p "$OAUTH2_PROXY_DIR" "$work"
  CGO_ENABLED=0 GOBIN="$work" go install -ldflags "-s -w -X github.com/oauth2-proxy/oauth2-proxy/v7/pkg/version.VERSION=v$OAUTH2_PROXY_VERSION" \
    "github.com/oauth2-proxy/oauth2-proxy/v7@v$OAUTH2_PROXY_VERSION"
  install_atomically "$work/oauth2-proxy" "$OAUTH2_PROXY_DIR/oauth2-proxy"
}

ensure_envtest() {
  if [ -x "$ENVTEST_DIR/etcd" ] && [ -z "$(missing_kube_cmds)" ]; then
    return
  fi
  # setup-envtest provides etcd, kube-apiserver and kubectl, never kube-controller-manager.
  if [ ! -x "$ENVTEST_DIR/etcd" ] || [ ! -x "$ENVTEST_DIR/kube-apiserver" ] || [ ! -x "$ENVTEST_DIR/kubectl" ]; then
    if [ -n "${TESTBINS_NO_SETUP_ENVTEST:-}" ] || ! try_setup_envtest; then
      log "setup-envtest could not download binaries; building them instead"
    fi
  fi
  [ -x "$ENVTEST_DIR/etcd" ] || build_etcd
  build_kubernetes
}

ensure_hydra() {
  [ -x "$HYDRA_DIR/hydra" ] || build_hydra
}

ensure_oauth2_proxy() {
  [ -x "$OAUTH2_PROXY_DIR/oauth2-proxy" ] || build_oauth2_proxy
}

case "${1:-all}" in
  envtest) with_lock ensure_envtest; echo "$ENVTEST_DIR" ;;
  hydra)   with_lock ensure_hydra;   echo "$HYDRA_DIR/hydra" ;;
  oauth2-proxy) with_lock ensure_oauth2_proxy; echo "$OAUTH2_PROXY_DIR/oauth2-proxy" ;;
  all)     with_lock ensure_envtest; with_lock ensure_hydra; echo "$ENVTEST_DIR"; echo "$HYDRA_DIR/hydra" ;;
  *) echo "usage: $0 envtest|hydra|oauth2-proxy|all" >&2; exit 2 ;;
esac
