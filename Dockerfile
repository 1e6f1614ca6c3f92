# sanzhid in a container: static binaries on a distroless base (CA
# certificates and time zones, no shell, no package manager), run as a
# numeric non-root user. docs/OPERATIONS.md, "Containers", says how to build
# and run it, and that our own machines have no container engine: this file
# has NOT been built here; its go build lines are the ones make package runs.
#
#   docker build --build-arg VERSION=$(git describe --always --dirty) -t sanzhi .

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first: this layer is rebuilt only when go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# .git stays out of the build context (.dockerignore), so the toolchain
# cannot record the revision: VERSION should name it (git describe does).
ARG VERSION=dev
ARG TARGETOS=linux
ARG TARGETARCH=amd64
RUN for cmd in sanzhid sanzhi; do \
      CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -buildvcs=false \
        -ldflags "-s -w -X main.version=${VERSION}" -o /out/usr/bin/$cmd ./cmd/$cmd || exit 1; \
    done \
 && mkdir -p /out/var/lib/sanzhi /out/etc/sanzhi

# distroless/static: /etc/passwd names uid 65532 "nonroot"; there is no
# shell, so the directories are made in the build stage and copied.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/usr/bin/ /usr/bin/
COPY --from=build --chown=65532:65532 /out/var/lib/sanzhi /var/lib/sanzhi
COPY --from=build /out/etc/sanzhi /etc/sanzhi
USER 65532:65532
# In a container the listeners face the container network. sanzhid still
# refuses plaintext off loopback: set SANZHI_TLS_CERT and SANZHI_TLS_KEY, or
# SANZHI_INSECURE_ALLOW_PLAINTEXT=true where a trusted network or a proxy
# provides TLS (compose.yaml does the latter). The keys are mounted by the
# operator (made once with sanzhi keygen and sanzhi audit keygen).
ENV SANZHI_GRPC_ADDR=0.0.0.0:7070 \
    SANZHI_HTTP_ADDR=0.0.0.0:7080 \
    SANZHI_DATABASE=sqlite:///var/lib/sanzhi/sanzhi.db \
    SANZHI_DATA_KEY_FILE=/etc/sanzhi/data.key \
    SANZHI_AUDIT_KEY_FILE=/etc/sanzhi/audit.key
VOLUME ["/var/lib/sanzhi"]
EXPOSE 7070 7080 7090
# No shell in the image, so the probe is a program: sanzhi health asks
# gRPC health at SANZHI_GRPC_ADDR (0.0.0.0 is asked on loopback). With TLS
# on, override it with --ca-file instead of --plaintext.
HEALTHCHECK --interval=15s --timeout=10s --start-period=60s --retries=3 \
  CMD ["/usr/bin/sanzhi", "health", "--plaintext", "--timeout", "5s"]
ENTRYPOINT ["/usr/bin/sanzhid"]
