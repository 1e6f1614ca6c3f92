#!/usr/bin/env bash
# Load test of the evidence workflow on PostgreSQL with ghz, each RPC
# reported as a ratio of floors measured on the same server in the same
# run (see BENCHMARKS.md, issue 4). Needs PostgreSQL on 127.0.0.1:5432
# (user postgres, trust) and ghz on PATH or in $GHZ
# (go install github.com/bojand/ghz/cmd/ghz@latest).
#
#   bash bench/ghz/evidence.sh            # N=20000 requests per run
#   N=5000 C=50 bash bench/ghz/evidence.sh
#   READS_ONLY=1 bash bench/ghz/evidence.sh   # floors and GetPoints only
#   CPU_PROFILE=/tmp/sanzhid.prof bash bench/ghz/evidence.sh   # sanzhid's CPU
#                                            # profile of the whole run
#   WAL_STATS=1 bash bench/ghz/evidence.sh    # and what the write runs wrote to the
#                                            # WAL, by relation (bench/ghz/wal.py)
#
# Steps: a fresh database, the demo county seeded through the real
# service, two principals (a clerk and a reviewer of 南阳村), sanzhid with
# --bench-floors; then ghz at C concurrent clients for
#   FloorService/InsertOne   one durable single-row INSERT (the floor)
#   EvidenceService/SubmitEvidence   a 邻里互助 item needing review, spread
#                                    over the village's 434 households
#   EvidenceService/ReviewEvidence   approving each of those once (posts
#                                    the ledger entry, updates the sheet)
#   PointsService/GetPoints  a household with 1,000 ledger entries
# and finally `sanzhi import evidence` of a 100,000-row CSV.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-20000}
C=${C:-50}
ROWS=${ROWS:-100000}
GHZ=${GHZ:-$(command -v ghz || echo "$(go env GOPATH)/bin/ghz")}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
DB=sanzhi_bench
VILLAGE=330483102215
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null && wait $pid; rm -rf "$work"' EXIT

go build -o "$work/sanzhi" ./cmd/sanzhi
go build -tags benchfloors -o "$work/sanzhid" ./cmd/sanzhid  # with the load-test floors
psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
export SANZHI_DATABASE="$PGURL/$DB?sslmode=disable"
"$work/sanzhi" keygen "$work/data.key" >/dev/null
"$work/sanzhi" audit keygen "$work/audit.key" >/dev/null
"$work/sanzhi" migrate >/dev/null
"$work/sanzhi" demo seed --data-key-file "$work/data.key" >/dev/null
key() { "$work/sanzhi" principal create --name "$1" --role "$2" --villages $VILLAGE | grep -o 'sz_[A-Za-z0-9_-]*' | head -1; }
CLERK=$(key bench-clerk village_clerk)
REVIEWER=$(key bench-reviewer village_reviewer)

"$work/sanzhid" --data-key-file "$work/data.key" --audit-key-file "$work/audit.key" \
  --grpc-addr 127.0.0.1:7170 --http-addr "" --admin-addr "" --bench-floors --rate-limit 0 --log-level error --checkpoint-interval 1s ${CPU_PROFILE:+--cpu-profile "$CPU_PROFILE"} &
pid=$!
for _ in $(seq 50); do grpcurl_ok=$("$GHZ" --insecure --call grpc.health.v1.Health/Check -n 1 -c 1 127.0.0.1:7170 2>/dev/null | grep -c 'OK' || true); [ "$grpcurl_ok" -gt 0 ] && break; sleep 0.2; done

ghz() { "$GHZ" --insecure --format json -c "$C" --connections "$(( C < 4 ? C : 4 ))" "$@" 127.0.0.1:7170; }
# CPU ticks (user + system) of processes, from /proc/PID/stat; the
# PostgreSQL backends of the database (the sequencer's included) and the WAL
# writer. As bench/ghz/credit.sh: CPU per call is the measure that noise on
# a shared 2-core machine moves least (issue 19).
ticks() { for p in "$@"; do [ -r "/proc/$p/stat" ] && sed 's/.*) //' "/proc/$p/stat" | awk '{print $12 + $13}'; done | awk '{s += $1} END {print s + 0}'; }
pgpids() { psql "$SANZHI_DATABASE" -Atc "SELECT pid FROM pg_stat_activity WHERE (datname = '$DB' AND pid <> pg_backend_pid()) OR backend_type = 'walwriter'"; }
# WAL written by the whole cluster, in bytes since its start: the durable
# work a call does, which no other load on the machine changes (the
# sequencer's audit leaves included; a checkpoint during a run adds
# full-page images, so compare runs, not single figures).
walpos() { psql "$SANZHI_DATABASE" -Atc "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint"; }
# measured OUT ghz-args...: ghz into OUT, and the CPU it cost each side
# and the WAL it wrote into OUT.cpu (and its WAL positions into OUT.walpos)
measured() {
  local out=$1 pg s0 p0 s1 p1 w0 w1; shift
  pg=$(pgpids); s0=$(ticks $pid); p0=$(ticks $pg); w0=$(walpos)
  /usr/bin/time -f '%U %S' -o "$out.time" "$GHZ" --insecure --format json -c "$C" --connections "$(( C < 4 ? C : 4 ))" "$@" 127.0.0.1:7170 >"$out"
  sleep 2   # the sequencer's last checkpoint of the run's records (--checkpoint-interval 1s)
  s1=$(ticks $pid); p1=$(ticks $pg); w1=$(walpos)
  echo "$(( s1 - s0 )) $(( p1 - p0 )) $(getconf CLK_TCK) $(cat "$out.time") $(( w1 - w0 ))" >"$out.cpu"
  echo "$w0 $w1" >"$out.walpos"
}
summary() { # name json-file
  python3 - "$1" "$2" <<'PY'
import json, sys
name, path = sys.argv[1], sys.argv[2]
r = json.load(open(path))
lat = {d["percentage"]: d["latency"] / 1e6 for d in r.get("latencyDistribution") or []}
errs = sum(v for k, v in (r.get("statusCodeDistribution") or {}).items() if k != "OK")
n = sum((r.get("statusCodeDistribution") or {}).values()) or r["count"]
st, pt, hz, gu, gs, wal = open(path + ".cpu").read().split()
us = lambda sec: 1e6 * sec / n
print(f"{name:<28} {r['rps']:>9.0f} req/s  p50 {lat.get(50, 0):6.2f} ms  p99 {lat.get(99, 0):6.2f} ms  errors {errs}"
      f"  CPU µs/call: sanzhid {us(int(st) / int(hz)):4.0f}  postgres {us(int(pt) / int(hz)):4.0f}  ghz {us(float(gu) + float(gs)):4.0f}"
      f"  WAL B/call {int(wal) / n:6.0f}")
PY
}
auth() { echo "{\"authorization\":\"Bearer $1\"}"; }

ids=$(psql "$SANZHI_DATABASE" -Atc "SELECT id FROM households WHERE village_code='$VILLAGE' ORDER BY id")
python3 - "$VILLAGE" "$work/submit.json" <<PY
import json, sys
village, out = sys.argv[1], sys.argv[2]
ids = """$ids""".split()
json.dump([{"parent": f"villages/{village}/households/{h}",
            "evidence": {"kind": "EVIDENCE_KIND_POINTS", "item_code": "DZ-XF-07", "quantity": 1,
                         "occurred_on": "$(TZ=Asia/Shanghai date +%F)", "witness": "王伟", "note": "邻里互助"},
            "request_id": "{{newUUID}}"} for h in ids], open(out, "w"))
PY

# Warm-up, unreported: the pool opens its connections before CPU is counted.
ghz --call sanzhi.v1.FloorService/InsertOne -n 1000 -m "$(auth "$CLERK")" -d '{"payload":"{{newUUID}}"}' >/dev/null
measured "$work/empty.json" --call sanzhi.v1.FloorService/Empty -n "$N" -m "$(auth "$CLERK")" -d '{}'
measured "$work/floor.json" --call sanzhi.v1.FloorService/InsertOne -n "$N" -m "$(auth "$CLERK")" -d '{"payload":"{{newUUID}}"}'
if [ -z "${READS_ONLY:-}" ]; then
measured "$work/submit.out.json" --call sanzhi.v1.EvidenceService/SubmitEvidence -n "$N" -m "$(auth "$CLERK")" --data-file "$work/submit.json"
psql "$SANZHI_DATABASE" -Atc "SELECT 'villages/'||village_code||'/households/'||household_id||'/evidence/'||id FROM evidence WHERE state='pending_review' AND village_code='$VILLAGE' AND request_id NOT LIKE 'demo-%'" |
  python3 -c 'import json,sys; json.dump([{"name": l.strip(), "decision": "REVIEW_DECISION_APPROVE"} for l in sys.stdin if l.strip()], open(sys.argv[1], "w"))' "$work/review.json"
nreview=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$work/review.json")
measured "$work/review.out.json" --call sanzhi.v1.EvidenceService/ReviewEvidence -n "$nreview" -m "$(auth "$REVIEWER")" --data-file "$work/review.json"
fi

# A household with 1,000 ledger entries: 1,000 machine-recorded rows.
hh=$(echo "$ids" | tail -1)
python3 - "$hh" "$work/thousand.csv" <<'PY'
import sys, datetime
hh, out = sys.argv[1], sys.argv[2]
today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).date()
with open(out, "w") as f:
    f.write("household,item_code,occurred_on,system_source,request_id\n")
    for i in range(1000):
        d = today - datetime.timedelta(days=i % 80)
        item = ["DZ-ML-01", "ZZ-MS-05", "DZ-XF-06", "ZZ-GY-02"][i % 4]
        f.write(f"{hh},{item},{d},bench,thousand-{i}\n")
PY
"$work/sanzhi" import evidence "$work/thousand.csv" --village $VILLAGE --key "$CLERK" --lang en >/dev/null
entries=$(psql "$SANZHI_DATABASE" -Atc "SELECT count(*) FROM ledger_entries WHERE household_id='$hh'")
measured "$work/points.json" --call sanzhi.v1.PointsService/GetPoints -n "$N" -m "$(auth "$CLERK")" -d "{\"household\":\"villages/$VILLAGE/households/$hh\"}"
C=1 measured "$work/points1.json" --call sanzhi.v1.PointsService/GetPoints -n "${N1:-2000}" -m "$(auth "$CLERK")" -d "{\"household\":\"villages/$VILLAGE/households/$hh\"}"

echo "PostgreSQL, $C concurrent clients, N=$N (ReviewEvidence: ${nreview:-not run}, one per pending submission)"
summary "FloorService/Empty" "$work/empty.json"
summary "FloorService/InsertOne" "$work/floor.json"
summary "GetPoints ($entries entries)" "$work/points.json"
summary "GetPoints, 1 client" "$work/points1.json"
[ -n "${READS_ONLY:-}" ] && exit 0
summary "SubmitEvidence" "$work/submit.out.json"
summary "ReviewEvidence" "$work/review.out.json"
python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
rps = lambda f: json.load(open(f"{w}/{f}"))["rps"]
def per_call(f):  # CPU µs per call (all three processes) and WAL bytes per call
    r = json.load(open(f"{w}/{f}"))
    n = sum((r.get("statusCodeDistribution") or {}).values()) or r["count"]
    st, pt, hz, gu, gs, wal = open(f"{w}/{f}.cpu").read().split()
    return 1e6 * ((int(st) + int(pt)) / int(hz) + float(gu) + float(gs)) / n, int(wal) / n
floor = rps("floor.json")
print(f"ratio to the INSERT floor: SubmitEvidence {rps('submit.out.json')/floor:.2f}, ReviewEvidence {rps('review.out.json')/floor:.2f}")
(fc, fw), (sc, sw), (rc, rw) = per_call("floor.json"), per_call("submit.out.json"), per_call("review.out.json")
print(f"CPU per call against the floor's: SubmitEvidence {sc/fc:.2f}x, ReviewEvidence {rc/fc:.2f}x")
print(f"WAL per call against the floor's: SubmitEvidence {sw/fw:.2f}x, ReviewEvidence {rw/fw:.2f}x")
PY
if [ -n "${WAL_STATS:-}" ]; then
  for f in floor submit.out review.out; do
    echo "== WAL of the $f run, by relation"
    python3 bench/ghz/wal.py "$SANZHI_DATABASE" $(cat "$work/$f.json.walpos") "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["count"])' "$work/$f.json")"
  done
fi

# 100,000 CSV rows across the village's households, half needing review.
python3 - "$VILLAGE" "$ROWS" "$work/big.csv" <<PY
import sys, datetime
village, rows, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ids = """$ids""".split()
today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).date()
with open(out, "w", encoding="utf-8") as f:
    f.write("户编号,事项代码,发生日期,数量,说明,证明人,系统来源\n")
    for i in range(rows):
        d = today - datetime.timedelta(days=1 + i % 85)
        if i % 2:
            f.write(f"{ids[i % len(ids)]},DZ-XF-07,{d},1,邻里互助 {i},王伟,\n")
        else:
            f.write(f"{ids[i % len(ids)]},DZ-ML-01,{d},1,垃圾分类 {i},,智能垃圾桶\n")
PY
start=$(date +%s.%N)
"$work/sanzhi" import evidence "$work/big.csv" --village $VILLAGE --key "$CLERK" --lang en 2>/dev/null | tail -1
end=$(date +%s.%N)
python3 -c "print(f'CSV import of $ROWS rows: {$end - $start:.1f} s')"
