#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, in memory, without fsync.
#
#   tools/test-postgres.sh start DIR [PORT]
#       initdb and start a cluster in DIR (under /dev/shm, say) on PORT, or
#       the first free port from 5433; prints its URL for SANZHI_TEST_POSTGRES
#   tools/test-postgres.sh stop DIR
#       stop it and remove DIR
#   tools/test-postgres.sh bindir
#       print the directory of the PostgreSQL server binaries, or fail
#
# .ci/run uses it for the tests' cluster, and for the machine's own when
# the machine has PostgreSQL's binaries but no cluster.
#
# Why: every PostgreSQL test clones a migrated template database and drops
# it afterwards, over a thousand times a run. On a cluster on disk each
# clone writes the template through the WAL and each drop forces a
# checkpoint, so the tests wait on fsyncs, and PostgreSQL spent another
# 37 s of CPU beside adapters/rpc's own 58 s (BENCHMARKS.md, "Test time").
# A test database is thrown away after the test, so durability is not
# what a test run checks: fsync, full_page_writes and synchronous_commit
# are off here, and only here, never on a cluster that holds data.
# Transactions keep their atomicity and isolation; SERIALIZABLE behaves
# the same.
#
# Needs the PostgreSQL server binaries (initdb, pg_ctl); as root it runs
# them as the postgres user, which initdb requires.
set -euo pipefail

usage() { echo "usage: $0 start DIR [PORT] | stop DIR | bindir" >&2; exit 2; }
[ $# -ge 1 ] || usage
cmd=$1

bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null && { dirname "$(readlink -f "$(command -v initdb)")"; return 0; }
  echo "no PostgreSQL server binaries (initdb) found" >&2
  return 1
}
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
bin=$(bindir)

case $cmd in
bindir)
  echo "$bin"
  ;;
start)
  [ $# -ge 2 ] && [ $# -le 3 ] || usage
  dir=$2
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  if [ $# -eq 3 ]; then
    port=$3
  else
    port=5433
    while pg_isready -q -h 127.0.0.1 -p "$port" >/dev/null 2>&1; do
      port=$((port + 1))
      [ "$port" -le 5499 ] || { echo "no free port in 5433-5499" >&2; exit 1; }
    done
  fi
  # C.UTF-8, UTF8: as the Debian cluster the machines have, so that text
  # sorts as it does there.
  as_postgres "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
  as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off -c synchronous_commit=off" \
    start >/dev/null || { cat "$dir/log" >&2 || true; exit 1; }
  echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
  ;;
stop)
  [ $# -eq 2 ] || usage
  dir=$2
  if [ -d "$dir/data" ]; then
    as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  ;;
*) usage ;;
esac
