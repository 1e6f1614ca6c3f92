#!/usr/bin/env bash
# tools/node-example.sh — `make node-example`: the Node example client
# (examples/node) runs the bank journey against a real sanzhid --demo, with
# the protos of the proto bundle (dist/sanzhi-proto-$VERSION.tar.gz).
#
# sanzhid runs from a temporary directory (its SQLite database and keys
# there), on loopback ports the kernel picks, and is stopped at the end
# whatever happens. The journey's output must show each step.
set -euo pipefail

VERSION=${VERSION:-dev}
DIST=${DIST:-dist}
GO=${GO:-go}
NPM=${NPM:-npm}

tmp=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/bundle"
tar -xzf "$DIST/sanzhi-proto-$VERSION.tar.gz" -C "$tmp/bundle" --strip-components=1
echo "==> go build sanzhid"
"$GO" build -o "$tmp/sanzhid" ./cmd/sanzhid

echo "==> sanzhid --demo (seeding the demo county takes a while)"
"$tmp/sanzhid" --demo --database "sqlite://$tmp/demo.db" \
  --grpc-addr 127.0.0.1:0 --http-addr 127.0.0.1:0 >"$tmp/stdout" 2>"$tmp/stderr" &
pid=$!
grpc=
for _ in $(seq 1 360); do
  grpc=$(sed -n 's/.*"msg":"sanzhid serving","grpc":"\([^"]*\)".*/\1/p' "$tmp/stderr" | head -1)
  [ -n "$grpc" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "node-example: sanzhid stopped before serving:" >&2; tail -20 "$tmp/stderr" >&2; exit 1
  fi
  sleep 0.5
done
[ -n "$grpc" ] || { echo "node-example: sanzhid did not serve within 180 s" >&2; tail -20 "$tmp/stderr" >&2; exit 1; }
echo "sanzhid serving gRPC on $grpc"

echo "==> node examples/node/journey.js"
SANZHI_GRPC=$grpc node examples/node/journey.js "$tmp/bundle" | tee "$tmp/journey"
for want in 'refused: PERMISSION_DENIED CONSENT_REQUIRED' 'CONSENT_STATE_PENDING' 'CONSENT_STATE_GRANTED' \
            'replayed=true' 'INVALID_ARGUMENT INVALID_ARGUMENT on amount' 'journey: OK'; do
  grep -qF -- "$want" "$tmp/journey" || { echo "node-example: the journey did not show: $want" >&2; exit 1; }
done
echo "node-example: OK"
