#!/usr/bin/env bash
# Prints the packages `make test` runs under -race, longest first.
#
# go test starts test binaries in the order it is given them (-p at a
# time), so a long package listed late runs alone at the end while the
# other core idles: in alphabetical order cmd/sanzhi started at 300 s of a
# 440 s pass and ran 140 s on its own. The first ones below are the
# longest under -race (BENCHMARKS.md, "Test time"); the rest follow in go
# list's order. adapters/demo and cmd/sanzhi are left out: make test runs
# them without -race (and cmd/sanzhi's concurrent commands with it).
set -euo pipefail
mod=$(go list -m)
longest=(adapters/sqlite adapters/server adapters/rpc adapters/console adapters/merklelog
  access/signin adapters/postgres audit scoring/dividend adapters/delivery)
first=()
for p in "${longest[@]}"; do first+=("$mod/$p"); done
printf '%s\n' "${first[@]}"
go list ./... | grep -v -x -F -e "$mod/adapters/demo" -e "$mod/cmd/sanzhi" | grep -v -x -F -f <(printf '%s\n' "${first[@]}")
