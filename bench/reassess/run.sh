#!/usr/bin/env bash
# Measures `sanzhi reassess` (the batch re-assessment of issue 6) over a
# large synthetic population in PostgreSQL: wall time and maximum resident
# set size.
#
#   bench/reassess/run.sh [HOUSEHOLDS]        (default 1000000)
#
# Environment: PGURL (default postgres://postgres@127.0.0.1:5432), DBNAME
# (default sanzhi_reassess), WORK (default /tmp/sanzhi-reassess),
# SKIP_LOAD=1 to reuse the loaded population, KEEP_LINES=1 to keep the
# lines of an earlier run (the run then updates a million lines instead
# of opening them), CPU_PROFILE=FILE to write a CPU profile of sanzhi's
# run there (--cpu-profile).
#
# Steps: load the population with bench/simulate/run.sh (the demo county
# with its active policy, N households with facts, points sheets and
# listings; that script also times a simulation), give every household a
# live consent of tongxiang-rcb, clear the lending tables (unless
# KEEP_LINES=1, and then the audit queue too: the benchmark's database is
# a throwaway), then time `sanzhi reassess --bank tongxiang-rcb`,
# and last a `COPY … TO STDOUT` of the rows the run reads (households,
# their facts and sheets), the floor the run is compared with (issue 19).
set -euo pipefail
N=${1:-1000000}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
DBNAME=${DBNAME:-sanzhi_reassess}
WORK=${WORK:-/tmp/sanzhi-reassess}
DB="$PGURL/$DBNAME?sslmode=disable"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$WORK"
cd "$ROOT"
psql_db() { psql "$DB" -v ON_ERROR_STOP=1 -q "$@"; }

if [ "${SKIP_LOAD:-0}" != 1 ]; then
  PGURL="$PGURL" DBNAME="$DBNAME" WORK="$WORK" bench/simulate/run.sh "$N" > "$WORK/load.log"
  grep -E "households|sheets|listings|database size" "$WORK/load.log"
fi
go build -o "$WORK/sanzhi" ./cmd/sanzhi
SANZHI="$WORK/sanzhi"
KEY="$WORK/data.key"

# One live consent of the bank per household (counter authorisations, both
# purposes); idempotent, so a rerun adds nothing.
echo "consents..."
psql_db <<'SQL'
\timing on
INSERT INTO consents (id, village_code, household_id, bank, purposes, grant_time, expire_time, channel,
    authorisation_hash, recorded_by)
SELECT 'bench-' || id, village_code, id, 'tongxiang-rcb', 'assessment,post_loan', now() - interval '1 day',
       now() + interval '1 year', 'counter', encode(sha256(convert_to(id, 'UTF8')), 'hex'), 'bench'
FROM households
ON CONFLICT (id) DO NOTHING;
SQL

if [ "${KEEP_LINES:-0}" != 1 ]; then
  echo "clearing lending state..."
  psql_db -c "TRUNCATE line_events, line_event_heads, line_transactions, review_requests, loan_status_reports, shadow_decisions, credit_lines,
      credit_decisions, reassessment_runs, reassess_due"
  # Each run queues a million audit records, which no sequencer takes
  # here: on a cluster in /dev/shm ten runs filled the machine's memory
  # (BENCHMARKS.md, issue 19, 2026-12-06, third session). The queue's
  # triggers refuse TRUNCATE; a superuser's session may set them aside.
  psql_db -c "SET session_replication_role = replica" -c "TRUNCATE audit_queue"
fi
# With KEEP_LINES=1 earlier runs' records stay in the queue, so count
# this run's page records as a difference.
pages0=$(psql_db -Atc "SELECT count(*) FROM audit_queue WHERE action = 'credit.reassess_page'")
psql_db -c "VACUUM ANALYZE"
psql_db -Atc "SELECT 'consenting households ' || count(DISTINCT household_id) FROM consents WHERE bank = 'tongxiang-rcb'" \
        -c "SELECT 'lines before ' || count(*) FROM credit_lines"

echo "re-assessing..."
# The machine's CPU time (user + system, /proc/stat) over the run, less
# sanzhi's own: what PostgreSQL spent, give or take the machine's idle noise.
machine() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
m0=$(machine)
/usr/bin/time -v "$SANZHI" reassess --database "$DB" --data-key-file "$KEY" --bank tongxiang-rcb \
  --no-progress --lang en ${CPU_PROFILE:+--cpu-profile "$CPU_PROFILE"} > "$WORK/reassess.txt" 2> "$WORK/time.txt" || { cat "$WORK/reassess.txt" "$WORK/time.txt"; exit 1; }
m1=$(machine)
cat "$WORK/reassess.txt"
grep -E "Elapsed \(wall|Maximum resident|User time|System time|Percent of CPU" "$WORK/time.txt"
python3 - "$m0" "$m1" "$(getconf CLK_TCK)" "$WORK/time.txt" <<'PY'
import re, sys
m0, m1, hz, t = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), open(sys.argv[4]).read()
own = sum(float(re.search(p + r" time \(seconds\): ([0-9.]+)", t).group(1)) for p in ("User", "System"))
total = (m1 - m0) / hz
print(f"CPU: the machine {total:.1f} s, sanzhi {own:.1f} s, the rest (PostgreSQL) {total - own:.1f} s")
PY
psql_db -Atc "SELECT 'decisions ' || count(*) FROM credit_decisions" \
        -c "SELECT 'lines ' || count(*) || ', eligible ' || count(*) FILTER (WHERE limit_amount > 0) FROM credit_lines" \
        -c "SELECT 'line events ' || count(*) FROM line_events" \
        -c "SELECT 'page records ' || count(*) - $pages0 FROM audit_queue WHERE action = 'credit.reassess_page'" \
        -c "SELECT 'database size ' || pg_size_pretty(pg_database_size(current_database()))"

# The floor: the same rows read by PostgreSQL and written out, nothing else.
echo "COPY of the same rows..."
start=$(date +%s.%N)
psql "$DB" -qAt -c "COPY (SELECT h.*, f.*, p.entries || E'~\\n' || p.tail FROM households h
    JOIN household_facts f ON f.household_id = h.id AND f.version = h.facts_version
    LEFT JOIN household_points p ON p.household_id = h.id
    WHERE h.id IN (SELECT household_id FROM consents WHERE bank = 'tongxiang-rcb')
    ORDER BY h.id) TO STDOUT" > /dev/null
end=$(date +%s.%N)
python3 - "$start" "$end" "$WORK/time.txt" <<'PY'
import re, sys
start, end, timing = float(sys.argv[1]), float(sys.argv[2]), open(sys.argv[3]).read()
w = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([0-9:.]+)", timing).group(1)
secs = 0.0
for part in w.split(":"):
    secs = secs * 60 + float(part)
copy = end - start
print(f"COPY of the same rows: {copy:.1f} s; the run took {secs:.1f} s, {secs / copy:.1f} x the COPY")
PY
