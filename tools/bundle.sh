#!/usr/bin/env bash
# tools/bundle.sh — `make bundle`: the proto bundle a bank compiles without
# Go, as dist/sanzhi-proto-$VERSION.tar.gz.
#
# It holds proto/sanzhi/v1/*.proto (but floor.proto) and every file they
# import, and
# google/rpc (status.proto, error_details.proto, code.proto: the error
# model every sanzhi error uses) and google/api (annotations.proto,
# http.proto: the HTTP rules' types), each with every file *it* imports,
# down to google/protobuf: one -I directory compiles it all, with any protoc
# or protobuf runtime. Beside them: the HTTP rules (sanzhi_http.yaml), both
# OpenAPI documents, the licences and a README.
#
# Files come from proto/, .build/protodeps (buf/validate, from the Go module
# cache) and the npm package google-proto-files (tools/node, pinned by its
# package-lock.json). The archive is reproducible: sorted names, the
# commit's time on every file, no owner names, gzip without a timestamp.
set -euo pipefail

VERSION=${VERSION:-dev}
PROTODEPS=${PROTODEPS:-.build/protodeps}
GOOGLE=${GOOGLE:-tools/node/node_modules/google-proto-files}
DIST=${DIST:-dist}
BUF=${BUF:-buf}

name=sanzhi-proto-$VERSION
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/$name
mkdir -p "$root"

# find FILE: the directory that has the import path FILE.
find_import() {
  for dir in proto "$PROTODEPS" "$GOOGLE"; do
    if [ -f "$dir/$1" ]; then echo "$dir"; return 0; fi
  done
  return 1
}

# floor.proto is left out: FloorService is the load tests' baseline, served
# only by a --bench-floors build, and no part of a bank's API.
queue=()
while IFS= read -r f; do queue+=("${f#proto/}"); done < <(find proto/sanzhi -name '*.proto' ! -name floor.proto | sort)
queue+=(google/rpc/status.proto google/rpc/error_details.proto google/rpc/code.proto
        google/api/annotations.proto google/api/http.proto)
declare -A seen=()
while [ ${#queue[@]} -gt 0 ]; do
  f=${queue[0]}
  queue=("${queue[@]:1}")
  [ -n "${seen[$f]:-}" ] && continue
  seen[$f]=1
  dir=$(find_import "$f") || { echo "bundle: cannot find $f (run make protodeps, and npm ci in tools/node)" >&2; exit 1; }
  install -D -m 0644 "$dir/$f" "$root/$f"
  while IFS= read -r imp; do queue+=("$imp"); done \
    < <(sed -n 's/^[[:space:]]*import[[:space:]]\{1,\}\(public[[:space:]]\{1,\}\|weak[[:space:]]\{1,\}\)\{0,1\}"\([^"]*\)".*/\2/p' "$dir/$f")
done

install -m 0644 proto/sanzhi/v1/sanzhi_http.yaml "$root/sanzhi/v1/sanzhi_http.yaml"
install -D -m 0644 adapters/gateway/openapi/sanzhi.swagger.json "$root/openapi/sanzhi.swagger.json"
install -D -m 0644 adapters/gateway/openapi/sanzhi.openapi3.json "$root/openapi/sanzhi.openapi3.json"
install -m 0644 LICENSE "$root/LICENSE"
install -m 0644 "$GOOGLE/LICENSE" "$root/google/LICENSE"
pv=$(go mod download -json "github.com/bufbuild/protovalidate@${PROTOVALIDATE_VERSION:?}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
install -m 0644 "$pv/LICENSE" "$root/buf/LICENSE"

cat > "$root/README.md" <<EOF
# sanzhi proto bundle $VERSION

The gRPC API of sanzhi (package \`sanzhi.v1\`) and every .proto file it
imports, with google/rpc (the error model: \`google.rpc.Status\` and the
details in \`error_details.proto\`) and google/api. One include directory,
this one, compiles everything; no Go toolchain and no network are needed.

    sanzhi/v1/*.proto          the API (sanzhi_http.yaml: its HTTP/JSON routes)
    buf/validate/validate.proto  the request rules (protovalidate), Apache-2.0 (buf/LICENSE)
    google/rpc, google/api, google/protobuf   from googleapis and protobuf, Apache-2.0 / BSD (google/LICENSE)
    openapi/                   the HTTP API as OpenAPI 2.0 and 3.0

Java (protoc and the grpc-java plugin):

    protoc -I . --java_out=out --grpc-java_out=out \\
      --plugin=protoc-gen-grpc-java=\$(command -v protoc-gen-grpc-java) \\
      sanzhi/v1/*.proto buf/validate/validate.proto google/rpc/*.proto

Node (@grpc/proto-loader loads the files at run time):

    protoLoader.load(['sanzhi/v1/lending.proto'], {includeDirs: [bundleDir], keepCase: true, longs: String, enums: String, defaults: true})

The integration guide (authentication, each call, errors, webhooks) is
docs/BANK-INTEGRATION.md in the sanzhi repository.
EOF

# Self-contained: buf compiles it from this directory alone.
printf 'version: v2\n' > "$work/buf.yaml"
( cd "$root" && "$BUF" build --config "$work/buf.yaml" -o /dev/null . ) \
  || { echo "bundle: the bundle does not compile on its own" >&2; exit 1; }

epoch=$(git log -1 --format=%ct 2>/dev/null || echo 0)
mkdir -p "$DIST"
out=$DIST/$name.tar.gz
tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
    -C "$work" -cf - "$name" | gzip -n -9 > "$out"
echo "bundle: $out ($(tar -tzf "$out" | grep -c '\.proto$') .proto files)"
