#!/usr/bin/env bash
# tools/breaking.sh — `make breaking`: buf breaking (FILE rules) of the working
# tree's proto/ against the committed proto/ of an earlier git ref.
#
# The ref: $BREAKING_REF if set; else, on a branch other than main, the commit
# where it left main (git merge-base HEAD main); else HEAD~1 (on main, the last
# commit is the change under review).
#
# Why not `buf breaking --against '.git#ref=...'`: the workspace's second module
# (.build/protodeps, validate.proto) is gitignored, so a git input cannot
# resolve `import "buf/validate/validate.proto"`. Instead the ref's proto/ is
# exported with `git archive` into .build/against/, next to today's buf.yaml and
# a copy of .build/protodeps, and that directory is the --against input.
set -euo pipefail

BUF=${BUF:-buf}
PROTODEPS=${PROTODEPS:-.build/protodeps}
AGAINST=.build/against
API_DIR=proto/sanzhi/v1

skip() { echo "breaking: skipped: $*"; exit 0; }

git rev-parse --is-inside-work-tree >/dev/null 2>&1 || skip "not a git work tree"

if [ -n "${BREAKING_REF:-}" ]; then
  ref=$BREAKING_REF
  label=$ref
  git rev-parse --verify --quiet "$ref^{commit}" >/dev/null \
    || { echo "breaking: BREAKING_REF=$ref is not a commit" >&2; exit 2; }
else
  branch=$(git symbolic-ref --quiet --short HEAD || echo HEAD)
  if [ "$branch" != main ] && git rev-parse --verify --quiet 'main^{commit}' >/dev/null; then
    # Where this branch left main: what main had then is what this branch changes.
    ref=$(git merge-base HEAD main) || skip "this branch shares no history with main"
    label="main's fork point"
  else
    ref=HEAD~1
    label=$ref
  fi
  git rev-parse --verify --quiet "$ref^{commit}" >/dev/null \
    || skip "no commit '$ref' to compare with (first commit, or a shallow clone)"
fi
if ! git ls-tree -r --name-only "$ref" -- "$API_DIR" | grep -q '\.proto$'; then
  skip "$label has no $API_DIR/*.proto yet (v1 has not landed)"
fi

rm -rf "$AGAINST"
mkdir -p "$AGAINST"
git archive --format=tar "$ref" -- proto | tar -x -C "$AGAINST"
cp buf.yaml "$AGAINST/buf.yaml"
mkdir -p "$AGAINST/$PROTODEPS"
cp -R "$PROTODEPS/." "$AGAINST/$PROTODEPS/"

label="$label ($(git rev-parse --short "$ref"))"
echo "==> buf breaking against $label"
"$BUF" breaking --against "$AGAINST"
echo "no breaking changes against $label"
