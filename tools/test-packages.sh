#!/usr/bin/env bash
# Prints the packages `make test` runs: `race` (the default) those it runs
# under -race, longest first; `norace` the pure ones it runs without;
# `engines` those whose tests above the store run on each engine
# (storetest.Backends, Engine, Run), which the race pass runs on
# PostgreSQL and a pass without -race again on SQLite
# (storetest.EnginesEnv says why that loses nothing).
#
# go test starts test binaries in the order it is given them (-p at a
# time), so a long package listed late runs alone at the end while the
# other core idles: in alphabetical order cmd/sanzhi started at 300 s of a
# 440 s pass and ran 140 s on its own. The first ones below are the
# longest under -race (BENCHMARKS.md, "Test time"); the rest follow in go
# list's order. adapters/demo and cmd/sanzhi are left out: make test runs
# them without -race (and cmd/sanzhi's concurrent commands with it).
#
# Pure packages, run without -race: their code and tests start no
# goroutine and touch no store, network or pool that would, so their test
# binaries cannot race; the race detector only multiplied their CPU time
# (audit 41 s, scoring/rules 17 s of the race pass). Their code still runs
# under -race wherever it is used concurrently: in the server, the rpc
# handlers, the log's sequencer. The check below keeps the list honest.
set -euo pipefail
mod=$(go list -m)
pure=(audit scoring/rules)

for p in "${pure[@]}"; do
  if grep -lE '^\s*go\s|go func|t\.Parallel\(' "$p"/*.go >/dev/null 2>&1; then
    echo "tools/test-packages.sh: $p now starts a goroutine or a parallel test; run it under -race (take it out of pure)" >&2
    exit 1
  fi
  imports=$(go list -f '{{join .Imports "\n"}}{{"\n"}}{{join .TestImports "\n"}}{{"\n"}}{{join .XTestImports "\n"}}' "./$p")
  if grep -qE '^(net|net/http|database/sql|os/exec|google\.golang\.org/grpc|github\.com/jackc/pgx/v5.*|modernc\.org/sqlite|'"$mod"'/adapters/.*)$' <<<"$imports"; then
    echo "tools/test-packages.sh: $p now imports a store, network or process package; run it under -race (take it out of pure)" >&2
    exit 1
  fi
done

case ${1:-race} in
norace)
  for p in "${pure[@]}"; do echo "$mod/$p"; done
  ;;
engines)
  # The packages the race pass runs (so not adapters/demo and cmd/sanzhi,
  # whose pass without -race runs both engines already).
  grep -rlE 'storetest\.(Backends|Engine|Run)\(' --include='*_test.go' . |
    xargs -n1 dirname | sort -u | sed "s|^\.|$mod|" |
    grep -v -x -F -e "$mod/adapters/demo" -e "$mod/cmd/sanzhi"
  ;;
race)
  longest=(adapters/sqlite adapters/server adapters/rpc adapters/console adapters/merklelog
    access/signin adapters/postgres scoring/dividend adapters/delivery)
  first=()
  for p in "${longest[@]}"; do first+=("$mod/$p"); done
  printf '%s\n' "${first[@]}"
  go list ./... | grep -v -x -F -e "$mod/adapters/demo" -e "$mod/cmd/sanzhi" |
    grep -v -x -F -f <(printf '%s\n' "${first[@]}") |
    grep -v -x -F -f <(printf "$mod/%s\n" "${pure[@]}")
  ;;
*)
  echo "usage: $0 [race|norace|engines]" >&2
  exit 2
  ;;
esac
