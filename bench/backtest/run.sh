#!/usr/bin/env bash
# Measures the back-test of a policy version (issue 16 §3) over N decisions
# with outcomes in PostgreSQL, against a COPY of the same rows, in one run.
#
#   bench/backtest/run.sh [DECISIONS]        (default 1000000)
#
# Environment: PGURL (default postgres://postgres@127.0.0.1:5432), DBNAME
# (default sanzhi_bt), WORK (default /tmp/sanzhi-bt), SKIP_LOAD=1 to reuse
# the loaded database (the decisions are refilled unless SKIP_FILL=1).
#
# Steps: (re)create the database, migrate, seed the demo county (the
# example policy, active), COPY N households from bench/simulate/gen (real
# 身份证号 sealed under the data key), then bench/backtest fills N decisions
# of the example policy with their lines, drawdowns and loan status reports
# (INSERT ... SELECT over generate_series) and times, in the same process,
# COPY (the back-test's SELECT) TO STDOUT and the back-test itself, each
# with its peak RSS. Not part of `make test`.
set -euo pipefail
N=${1:-1000000}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
DBNAME=${DBNAME:-sanzhi_bt}
WORK=${WORK:-/tmp/sanzhi-bt}
DB="$PGURL/$DBNAME?sslmode=disable"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$WORK"
cd "$ROOT"
go build -o "$WORK/sanzhi" ./cmd/sanzhi
go build -o "$WORK/gen" ./bench/simulate/gen
go build -o "$WORK/backtest" ./bench/backtest
SANZHI="$WORK/sanzhi"
KEY="$WORK/data.key"
psql_db() { psql "$DB" -v ON_ERROR_STOP=1 -q "$@"; }

FILL=-fill
if [ "${SKIP_LOAD:-0}" != 1 ]; then
  psql "$PGURL/postgres" -v ON_ERROR_STOP=1 -qc "DROP DATABASE IF EXISTS $DBNAME" -c "CREATE DATABASE $DBNAME"
  rm -f "$KEY"
  "$SANZHI" keygen "$KEY" >/dev/null
  "$SANZHI" migrate --database "$DB"
  "$SANZHI" demo seed --database "$DB" --data-key-file "$KEY" > "$WORK/seed.txt"
  t0=$(date +%s)
  "$WORK/gen" -n "$N" -key "$KEY" | psql_db -c "\copy households (id, village_code, head_name, head_id_masked, head_id_key, head_id_cipher, head_id_index, group_no, address, registered_on, facts_version, request_id, request_hash, create_time, update_time) FROM STDIN WITH (FORMAT csv)"
  echo "households: $(( $(date +%s) - t0 )) s"
elif [ "${SKIP_FILL:-0}" = 1 ]; then
  FILL=
fi
"$WORK/backtest" -db "$DB" -key "$KEY" -n "$N" $FILL
psql_db -Atc "SELECT 'database size ' || pg_size_pretty(pg_database_size(current_database()))"
