# syntax=docker/dockerfile:1
# The operator's container image: `make docker-build IMG=...`. Needs BuildKit (the default builder
# since Docker 23) for the cache mounts; with buildx it builds for any --platform.

# Build the manager binary.
FROM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH

WORKDIR /workspace
# Download the modules first, in a layer of their own that is rebuilt only when go.mod or go.sum
# change, not on every source change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

# The sources; .dockerignore keeps out what the build does not need.
COPY . .

# A static binary (no cgo) without symbol tables, local paths, VCS stamp or build ID, for the
# distroless base below: the flags of `make image` (internal/image.GoBuildFlags; the test
# TestDockerfileMatchesImage keeps them, the user and the entrypoint the same).
# GOARCH is empty unless buildx sets TARGETARCH; then Go builds for the builder's own architecture.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -buildvcs=false -ldflags "-s -w -buildid=" -o manager ./cmd

# The runtime image: no shell, no package manager, only CA certificates, tzdata and the binary.
# distroless "nonroot" runs as UID/GID 65532; the Deployment requires runAsNonRoot.
FROM gcr.io/distroless/static:nonroot
WORKDIR /
COPY --from=builder /workspace/manager /manager
USER 65532:65532

ENTRYPOINT ["/manager"]
