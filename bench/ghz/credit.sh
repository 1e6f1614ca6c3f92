#!/usr/bin/env bash
# Load test of CreditService/GetCreditLine on PostgreSQL with ghz,
# reported as a ratio of two floors measured on the same server in the same
# run (see BENCHMARKS.md, issue 6). Needs PostgreSQL on 127.0.0.1:5432
# (user postgres, trust) and ghz on PATH or in $GHZ
# (go install github.com/bojand/ghz/cmd/ghz@latest).
#
#   bash bench/ghz/credit.sh                 # N=20000 requests per run
#   N=30000 C=50 ROUNDS=3 HOUSEHOLDS=200 bash bench/ghz/credit.sh
#
# Steps: a fresh database, `sanzhi migrate`, the demo county (`sanzhi demo
# seed`, which makes the example policy of banks/tongxiang-rcb/products/
# sanzhi-xindai active), a bank officer and a bank risk manager of
# tongxiang-rcb, sanzhid with --bench-floors; then, through the API
# (bench/ghz/seedcredit), a counter-signed consent (assessment, post_loan)
# and an assessment for each of HOUSEHOLDS households of 南阳村. Then ghz at
# C concurrent clients, in the order E S G E S G … E S so that every
# GetCreditLine run has a floor run before and after it:
#   E  FloorService/Empty       no database: the gRPC + chain floor
#   S  FloorService/SelectOne   one primary-key SELECT on the same pgx pool
#   G  CreditService/GetCreditLine, purpose post_loan, round-robin over the
#      households: consent check, line and decision read and the audited
#      query record, one statement (data-modifying CTE) in autocommit
# Every GetCreditLine is divided by the mean of the floor runs either side
# of it. A short unreported warm-up of each RPC comes first.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-20000}
C=${C:-50}
ROUNDS=${ROUNDS:-2}
HOUSEHOLDS=${HOUSEHOLDS:-200}
GHZ=${GHZ:-$(command -v ghz || echo "$(go env GOPATH)/bin/ghz")}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
ADDR=${ADDR:-127.0.0.1:7171}
DB=sanzhi_credit_bench
VILLAGE=330483102215
BANK=tongxiang-rcb
PRODUCT=banks/$BANK/products/sanzhi-xindai
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

go build -o "$work/sanzhi" ./cmd/sanzhi
go build -o "$work/sanzhid" ./cmd/sanzhid
go build -o "$work/seedcredit" ./bench/ghz/seedcredit
psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
export SANZHI_DATABASE="$PGURL/$DB?sslmode=disable"
"$work/sanzhi" keygen "$work/data.key" >/dev/null
"$work/sanzhi" audit keygen "$work/audit.key" >/dev/null
"$work/sanzhi" migrate >/dev/null
"$work/sanzhi" demo seed --data-key-file "$work/data.key" >/dev/null
key() { "$work/sanzhi" principal create --name "$1" --role "$2" --bank $BANK | grep -o 'sz_[A-Za-z0-9_-]*' | head -1; }
OFFICER=$(key bench-officer bank_officer)
RISK=$(key bench-risk bank_risk)

"$work/sanzhid" --data-key-file "$work/data.key" --audit-key-file "$work/audit.key" \
  --grpc-addr "$ADDR" --http-addr "" --bench-floors --log-level error --checkpoint-interval 1s &
pid=$!
up=0
for _ in $(seq 100); do
  if "$GHZ" --insecure --call grpc.health.v1.Health/Check -n 1 -c 1 "$ADDR" 2>/dev/null | grep -q 'OK'; then up=1; break; fi
  sleep 0.2
done
[ "$up" = 1 ] || { echo "sanzhid did not come up on $ADDR" >&2; exit 1; }

# The demo seeds the example policy as version 1, active; should a future
# seed not, upload, approve (a second risk manager) and activate it.
ids=$(psql "$SANZHI_DATABASE" -Atc "SELECT id FROM households WHERE village_code='$VILLAGE' ORDER BY id LIMIT $HOUSEHOLDS")
seed() { echo "$ids" | SANZHI_BENCH_OFFICER_KEY=$OFFICER SANZHI_BENCH_RISK_KEY=$RISK \
  "$work/seedcredit" -addr "$ADDR" -bank $BANK -village $VILLAGE -purpose post_loan -out "$work/lines.json"; }
rc=0; seed || rc=$?
if [ "$rc" = 3 ]; then
  "$work/sanzhi" principal create --name bench-risk-2 --role bank_risk --bank $BANK >/dev/null
  v=$("$work/sanzhi" policy upload examples/policies/tongxiang-rcb-sanzhi.yaml --as bench-risk | grep -o "$PRODUCT/policies/[0-9]*" | head -1)
  "$work/sanzhi" policy approve "$v" --as bench-risk-2 >/dev/null
  "$work/sanzhi" policy activate "$v" --as bench-risk >/dev/null
  rc=0; seed || rc=$?
fi
[ "$rc" = 0 ] || exit "$rc"
nlines=$(psql "$SANZHI_DATABASE" -Atc "SELECT count(*) FROM credit_lines WHERE bank='$BANK'")

# SelectOne reads existing rows, as many as there are households.
psql "$SANZHI_DATABASE" -qc "INSERT INTO bench_floor (payload) SELECT md5(g::text) FROM generate_series(1, $HOUSEHOLDS) g"
psql "$SANZHI_DATABASE" -Atc "SELECT id FROM bench_floor ORDER BY id LIMIT $HOUSEHOLDS" |
  python3 -c 'import json,sys; json.dump([{"id": int(l)} for l in sys.stdin if l.strip()], open(sys.argv[1], "w"))' "$work/select.json"
echo '[{}]' >"$work/empty.json"

ghz() { "$GHZ" --insecure --format json -c "$C" --connections "$(( C < 4 ? C : 4 ))" -m "{\"authorization\":\"Bearer $OFFICER\"}" "$@" "$ADDR"; }
declare -A call=([E]=sanzhi.v1.FloorService/Empty [S]=sanzhi.v1.FloorService/SelectOne [G]=sanzhi.v1.CreditService/GetCreditLine)
declare -A data=([E]=$work/empty.json [S]=$work/select.json [G]=$work/lines.json)
for k in E S G; do ghz --call "${call[$k]}" -n 2000 --data-file "${data[$k]}" >/dev/null; done   # warm-up

queries0=$(psql "$SANZHI_DATABASE" -Atc "SELECT (SELECT count(*) FROM audit_queue WHERE action='credit.query') + (SELECT count(*) FROM audit_leaves WHERE action='credit.query')")
order=""
for r in $(seq "$ROUNDS"); do order+="E S G "; done
order+="E S"
i=0
for k in $order; do
  i=$((i + 1))
  ghz --call "${call[$k]}" -n "$N" --data-file "${data[$k]}" >"$work/run-$i-$k.json"
done
sleep 2   # let the sequencer catch up before counting
queries1=$(psql "$SANZHI_DATABASE" -Atc "SELECT (SELECT count(*) FROM audit_queue WHERE action='credit.query') + (SELECT count(*) FROM audit_leaves WHERE action='credit.query')")

echo "PostgreSQL $(psql "$SANZHI_DATABASE" -Atc 'SHOW server_version'), $C concurrent clients over $(( C < 4 ? C : 4 )) connections, N=$N per run, $nlines lines over $HOUSEHOLDS households, $(nproc) cores"
echo "query records (credit.query) written during the timed runs: $((queries1 - queries0))"
python3 - "$work" "$order" <<'PY'
import json, os, statistics, sys
w, order = sys.argv[1], sys.argv[2].split()
names = {"E": "FloorService/Empty", "S": "FloorService/SelectOne", "G": "GetCreditLine"}
runs = []
for i, k in enumerate(order, 1):
    r = json.load(open(os.path.join(w, f"run-{i}-{k}.json")))
    lat = {d["percentage"]: d["latency"] / 1e6 for d in r.get("latencyDistribution") or []}
    errs = sum(v for c, v in (r.get("statusCodeDistribution") or {}).items() if c != "OK")
    runs.append(dict(k=k, rps=r["rps"], p50=lat.get(50, 0), p99=lat.get(99, 0), errs=errs))
print(f"{'run':<4} {'RPC':<24} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}  ratio to Empty / SelectOne (mean of the runs either side)")
ratios = {"E": [], "S": []}
for i, r in enumerate(runs):
    extra = ""
    if r["k"] == "G":
        for f in "ES":
            side = [x["rps"] for x in runs[max(0, i - 3):i + 3] if x["k"] == f]
            ratios[f].append(r["rps"] / statistics.mean(side))
        extra = f"  {ratios['E'][-1]:.3f} / {ratios['S'][-1]:.3f}"
    print(f"{i + 1:<4} {names[r['k']]:<24} {r['rps']:>8.0f} {r['p50']:>8.2f} {r['p99']:>8.2f} {r['errs']:>7}{extra}")
print()
print(f"{'median over runs':<29} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
for k in "ESG":
    rs = [r for r in runs if r["k"] == k]
    med = lambda f: statistics.median(r[f] for r in rs)
    print(f"{names[k]:<29} {med('rps'):>8.0f} {med('p50'):>8.2f} {med('p99'):>8.2f} {sum(r['errs'] for r in rs):>7}")
g = [r for r in runs if r["k"] == "G"]
rs, p99 = statistics.median(ratios["S"]), max(r["p99"] for r in g)
print(f"GetCreditLine / Empty: {statistics.median(ratios['E']):.3f}   / SelectOne: {rs:.3f} (goal >= 0.8: {'met' if rs >= 0.8 else 'not met'})"
      f"   worst p99 {p99:.2f} ms (goal <= 25 ms: {'met' if p99 <= 25 else 'not met'})")
PY
