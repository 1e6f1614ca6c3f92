#!/usr/bin/env bash
# Load test of CreditService/GetCreditLine on PostgreSQL with ghz,
# reported as a ratio of two floors measured on the same server in the same
# run (see BENCHMARKS.md, issue 6). Needs PostgreSQL on 127.0.0.1:5432
# (user postgres, trust) and ghz on PATH or in $GHZ
# (go install github.com/bojand/ghz/cmd/ghz@latest).
#
#   bash bench/ghz/credit.sh                 # N=20000 GetCreditLine requests per run, and
#                                            # enough of each floor to last >= 5 s
#   N=30000 C=50 ROUNDS=3 HOUSEHOLDS=200 bash bench/ghz/credit.sh
#   NE=200000 NS=100000 NI=50000 bash bench/ghz/credit.sh   # Empty, SelectOne, InsertOne
#   POOL=16 bash bench/ghz/credit.sh         # sanzhid's pgx pool: pool_max_conns=16
#                                            # (default: pgxpool's, 4 on 2 cores)
#   WAL_STATS=1 bash bench/ghz/credit.sh     # and what the first InsertOne and GetCreditLine
#                                            # runs wrote to the WAL, by relation (wal.py)
#   VIEW=full bash bench/ghz/credit.sh       # GetCreditLine's full view (reasons and
#                                            # working); default basic, the API's default
#
# Steps: a fresh database, `sanzhi migrate`, the demo county (`sanzhi demo
# seed`, which makes the example policy of banks/tongxiang-rcb/products/
# sanzhi-xindai active), a bank officer and a bank risk manager of
# tongxiang-rcb, sanzhid with --bench-floors; then, through the API
# (bench/ghz/seedcredit), a counter-signed consent (assessment, post_loan; recorded by the officer, countersigned by the village clerk)
# and an assessment for each of HOUSEHOLDS households of 南阳村. Then ghz at
# C concurrent clients, in the order E S I G E S I G … E S I so that
# every GetCreditLine run has a floor run before and after it:
#   E  FloorService/Empty       no database: the gRPC + chain floor
#   S  FloorService/SelectOne   one primary-key SELECT on the same pgx pool
#   I  FloorService/InsertOne   one durable single-row INSERT (a reference:
#                               what a durable commit alone costs)
#   G  CreditService/GetCreditLine, purpose post_loan, round-robin over the
#      households: consent check, line and decision read and the audited
#      query record, one statement (data-modifying CTE) in autocommit
# Every GetCreditLine is divided by the mean of the floor runs either side
# of it. A short unreported warm-up of each RPC comes first. Each run also
# reports the CPU it took per call, from /proc: sanzhid, the PostgreSQL
# backends of the database plus the WAL writer (PostgreSQL must run on
# this host), and ghz itself, which shares the machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-20000}
NE=${NE:-160000}   # FloorService/Empty runs at 15,000-31,000/s here
NS=${NS:-80000}    # FloorService/SelectOne at 6,000-14,000/s
NI=${NI:-40000}    # FloorService/InsertOne at 2,000-7,500/s
C=${C:-50}
ROUNDS=${ROUNDS:-3}
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
go build -tags benchfloors -o "$work/sanzhid" ./cmd/sanzhid  # with the load-test floors
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
# A bank-recorded consent is pending until the household confirms it or a
# clerk of its village countersigns the signed form.
CLERK=$("$work/sanzhi" principal create --name bench-clerk --role village_clerk --villages $VILLAGE | grep -o 'sz_[A-Za-z0-9_-]*' | head -1)

SANZHI_DATABASE="$SANZHI_DATABASE${POOL:+&pool_max_conns=$POOL}" \
"$work/sanzhid" --data-key-file "$work/data.key" --audit-key-file "$work/audit.key" \
  --grpc-addr "$ADDR" --http-addr "" --admin-addr "" --bench-floors --rate-limit 0 --log-level error --checkpoint-interval 1s &
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
seed() { echo "$ids" | SANZHI_BENCH_OFFICER_KEY=$OFFICER SANZHI_BENCH_RISK_KEY=$RISK SANZHI_BENCH_CLERK_KEY=$CLERK \
  "$work/seedcredit" -addr "$ADDR" -bank $BANK -village $VILLAGE -purpose post_loan -view "${VIEW:-basic}" -out "$work/lines.json"; }
rc=0; seed || rc=$?
if [ "$rc" = 3 ]; then
  RISK2=$("$work/sanzhi" principal create --name bench-risk-2 --role bank_risk --bank $BANK | grep -o 'sz_[A-Za-z0-9_-]*' | head -1)
  v=$("$work/sanzhi" policy upload examples/policies/tongxiang-rcb-sanzhi.yaml --key "$RISK" | grep -o "$PRODUCT/policies/[0-9]*" | head -1)
  "$work/sanzhi" policy approve "$v" --key "$RISK2" >/dev/null
  "$work/sanzhi" policy activate "$v" --key "$RISK" >/dev/null
  rc=0; seed || rc=$?
fi
[ "$rc" = 0 ] || exit "$rc"
nlines=$(psql "$SANZHI_DATABASE" -Atc "SELECT count(*) FROM credit_lines WHERE bank='$BANK'")

# SelectOne reads existing rows, as many as there are households.
psql "$SANZHI_DATABASE" -qc "INSERT INTO bench_floor (payload) SELECT md5(g::text) FROM generate_series(1, $HOUSEHOLDS) g"
psql "$SANZHI_DATABASE" -Atc "SELECT id FROM bench_floor ORDER BY id LIMIT $HOUSEHOLDS" |
  python3 -c 'import json,sys; json.dump([{"id": int(l)} for l in sys.stdin if l.strip()], open(sys.argv[1], "w"))' "$work/select.json"
echo '[{}]' >"$work/empty.json"
# Autovacuum is off on our PostgreSQL: without statistics the cached generic
# plan of GetCreditLine's statement finds the line through credit_lines_bank_idx,
# reading the bank's lines one by one. Gather what autovacuum would have on the
# three tables the statement reads, which the timed runs do not change. Not the
# tables the runs grow (bench_floor, the audit tables): statistics of 200 rows would
# make, e.g., SelectOne's cached plan a sequential scan, slower with every InsertOne run.
psql "$SANZHI_DATABASE" -qc "VACUUM ANALYZE consents, credit_lines, credit_decisions"

echo '[{"payload":"bench"}]' >"$work/insert.json"

ghz() { "$GHZ" --insecure --format json -c "$C" --connections "$(( C < 4 ? C : 4 ))" -m "{\"authorization\":\"Bearer $OFFICER\"}" "$@" "$ADDR"; }
declare -A call=([E]=sanzhi.v1.FloorService/Empty [S]=sanzhi.v1.FloorService/SelectOne
  [I]=sanzhi.v1.FloorService/InsertOne [G]=sanzhi.v1.CreditService/GetCreditLine)
declare -A count=([E]=$NE [S]=$NS [I]=$NI [G]=$N)
declare -A data=([E]=$work/empty.json [S]=$work/select.json [I]=$work/insert.json [G]=$work/lines.json)
for k in E S I G; do ghz --call "${call[$k]}" -n 2000 --data-file "${data[$k]}" >/dev/null; done   # warm-up
# CPU ticks (user + system) of processes, from /proc/PID/stat.
ticks() { for p in "$@"; do [ -r "/proc/$p/stat" ] && sed 's/.*) //' "/proc/$p/stat" | awk '{print $12 + $13}'; done | awk '{s += $1} END {print s + 0}'; }
pgpids() { psql "$SANZHI_DATABASE" -Atc "SELECT pid FROM pg_stat_activity WHERE (datname = '$DB' AND pid <> pg_backend_pid()) OR backend_type = 'walwriter'"; }
# WAL written by the whole cluster, in bytes: the durable work of a run,
# which no other load on the machine changes (as bench/ghz/evidence.sh).
walpos() { psql "$SANZHI_DATABASE" -Atc "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint"; }

linetuples() { psql "$SANZHI_DATABASE" -Atc "SELECT sum(idx_tup_read) FROM pg_stat_user_indexes WHERE relname = 'credit_lines'"; }
tuples0=$(linetuples)
queries0=$(psql "$SANZHI_DATABASE" -Atc "SELECT (SELECT count(*) FROM audit_queue WHERE action='credit.query') + (SELECT count(*) FROM audit_leaves WHERE action='credit.query')")
order=""
for r in $(seq "$ROUNDS"); do order+="E S I G "; done
order+="E S I"
i=0
for k in $order; do
  i=$((i + 1))
  pg=$(pgpids)
  s0=$(ticks $pid); p0=$(ticks $pg); w0=$(walpos)
  /usr/bin/time -f '%U %S' -o "$work/time-$i" "$GHZ" --insecure --format json -c "$C" --connections "$(( C < 4 ? C : 4 ))" \
    -m "{\"authorization\":\"Bearer $OFFICER\"}" --call "${call[$k]}" -n "${count[$k]}" --data-file "${data[$k]}" "$ADDR" >"$work/run-$i-$k.json"
  sleep 2   # the sequencer's last checkpoint of the run's records (--checkpoint-interval 1s)
  s1=$(ticks $pid); p1=$(ticks $pg); w1=$(walpos)
  echo "$(( s1 - s0 )) $(( p1 - p0 )) $(getconf CLK_TCK) $(cat "$work/time-$i") $(( w1 - w0 ))" >"$work/cpu-$i"
  echo "$w0 $w1" >"$work/walpos-$i"
done
sleep 1   # let the statistics be reported before counting
queries1=$(psql "$SANZHI_DATABASE" -Atc "SELECT (SELECT count(*) FROM audit_queue WHERE action='credit.query') + (SELECT count(*) FROM audit_leaves WHERE action='credit.query')")
tuples1=$(linetuples)

echo "PostgreSQL $(psql "$SANZHI_DATABASE" -Atc 'SHOW server_version'), $C concurrent clients over $(( C < 4 ? C : 4 )) connections, N=$N per GetCreditLine run (Empty $NE, SelectOne $NS, InsertOne $NI), $nlines lines over $HOUSEHOLDS households, $(nproc) cores, pgx pool ${POOL:-default}, view ${VIEW:-basic}"
echo "query records (credit.query) written during the timed runs: $((queries1 - queries0)) (GetCreditLine calls: $((ROUNDS * N)));" \
  "credit_lines index entries read per call: $(python3 -c "print(round(($tuples1 - $tuples0) / ($ROUNDS * $N), 2))")"
python3 - "$work" "$order" <<'PY'
import json, os, statistics, sys
w, order = sys.argv[1], sys.argv[2].split()
names = {"E": "FloorService/Empty", "S": "FloorService/SelectOne", "I": "FloorService/InsertOne", "G": "GetCreditLine"}
runs = []
for i, k in enumerate(order, 1):
    r = json.load(open(os.path.join(w, f"run-{i}-{k}.json")))
    lat = {d["percentage"]: d["latency"] / 1e6 for d in r.get("latencyDistribution") or []}
    errs = sum(v for c, v in (r.get("statusCodeDistribution") or {}).items() if c != "OK")
    n = sum((r.get("statusCodeDistribution") or {}).values()) or r["count"]
    st, pt, hz, gu, gs, wal = open(os.path.join(w, f"cpu-{i}")).read().split()
    us = lambda sec: 1e6 * sec / n
    runs.append(dict(k=k, secs=r["total"] / 1e9, rps=r["rps"], p50=lat.get(50, 0), p99=lat.get(99, 0), errs=errs,
                     srv=us(int(st) / int(hz)), pg=us(int(pt) / int(hz)), cli=us(float(gu) + float(gs)), wal=int(wal) / n))
print(f"{'run':<4} {'RPC':<24} {'s':>5} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}  "
      f"{'CPU µs/call: sanzhid':>20} {'postgres':>8} {'ghz':>5} {'WAL B/call':>10}  ratio to Empty / SelectOne / InsertOne")
ratios = {"E": [], "S": [], "I": []}
for i, r in enumerate(runs):
    extra = ""
    if r["k"] == "G":
        # the floor runs either side of this GetCreditLine run
        for f in "ESI":
            side = [x["rps"] for x in runs[max(0, i - 3):i + 4] if x["k"] == f]
            ratios[f].append(r["rps"] / statistics.mean(side))
        extra = f"  {ratios['E'][-1]:.3f} / {ratios['S'][-1]:.3f} / {ratios['I'][-1]:.3f}"
    print(f"{i + 1:<4} {names[r['k']]:<24} {r['secs']:>5.1f} {r['rps']:>8.0f} {r['p50']:>7.2f} {r['p99']:>7.2f} {r['errs']:>6}  "
          f"{r['srv']:>20.0f} {r['pg']:>8.0f} {r['cli']:>5.0f} {r['wal']:>10.0f}{extra}")
print()
print(f"{'median over runs':<29} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}  {'CPU µs/call: sanzhid':>20} {'postgres':>8} {'ghz':>5} {'WAL B/call':>10}")
for k in "ESIG":
    rs = [r for r in runs if r["k"] == k]
    med = lambda f: statistics.median(r[f] for r in rs)
    print(f"{names[k]:<29} {med('rps'):>8.0f} {med('p50'):>7.2f} {med('p99'):>7.2f} {sum(r['errs'] for r in rs):>6}  "
          f"{med('srv'):>20.0f} {med('pg'):>8.0f} {med('cli'):>5.0f} {med('wal'):>10.0f}")
g = [r for r in runs if r["k"] == "G"]
rs, p99 = statistics.median(ratios["S"]), max(r["p99"] for r in g)
print(f"GetCreditLine / Empty: {statistics.median(ratios['E']):.3f}   / SelectOne: {rs:.3f} (goal >= 0.8: {'met' if rs >= 0.8 else 'not met'})"
      f"   / InsertOne: {statistics.median(ratios['I']):.3f}")
print(f"GetCreditLine worst p99 {p99:.2f} ms, median p99 {statistics.median(r['p99'] for r in g):.2f} ms (goal <= 25 ms: {'met' if p99 <= 25 else 'not met'})")
cpu = {k: statistics.median(r["srv"] + r["pg"] + r["cli"] for r in runs if r["k"] == k) for k in "SIG"}
wal = {k: statistics.median(r["wal"] for r in runs if r["k"] == k) for k in "IG"}
print(f"GetCreditLine CPU per call (all three processes, medians) against SelectOne's: {cpu['G'] / cpu['S']:.2f}x,"
      f" InsertOne's: {cpu['G'] / cpu['I']:.2f}x; WAL per call against InsertOne's: {wal['G'] / wal['I']:.2f}x")
PY
if [ -n "${WAL_STATS:-}" ]; then
  for k in I G; do
    i=0; for x in $order; do i=$((i + 1)); [ "$x" = "$k" ] && break; done
    echo "== WAL of run $i, ${call[$k]}, by relation"
    python3 bench/ghz/wal.py "$SANZHI_DATABASE" $(cat "$work/walpos-$i") "${count[$k]}"
  done
fi
