#!/usr/bin/env bash
# Package check (make package-check): does the .deb install a sanzhid that
# serves? Run as root on Debian, on a machine (or CI container) without
# sanzhi installed. It
#
#   1. builds the amd64 .deb (make package PKG_ARCHES=amd64 PKG_FORMATS=deb);
#   2. installs it with dpkg -i and checks the user, directories, keys and
#      modes postinstall made;
#   3. installs it again and checks the keys and an edited config survive;
#   4. runs systemd-analyze verify on the unit, where systemd-analyze exists;
#   5. starts the packaged /usr/bin/sanzhid the way sanzhid.service does:
#      its ExecStart=, as its User=, with its EnvironmentFile= loaded into an
#      otherwise empty environment, UMask 0077, working directory /. CI
#      containers run no systemd, so the unit's sandboxing (ProtectSystem=
#      and the rest) is NOT applied here; systemd-analyze only checks that
#      systemd would accept it;
#   6. waits for `sanzhi health --wait 60s` to say SERVING, stops sanzhid
#      with SIGTERM as systemd would, checks it exited 0 within the unit's
#      TimeoutStopSec and that the audit log it left verifies;
#   7. purges the package (dpkg -P) and checks what purge removes (the
#      binaries, the unit, the docs, /etc/sanzhi/sanzhid.env) and what it
#      keeps on purpose (/var/lib/sanzhi, /etc/sanzhi/data.key and
#      audit.key, the user sanzhi: a package never deletes data or keys);
#   8. then deletes those itself, so the machine is as it was.
#
# It refuses to start if sanzhi's package, user or directories already
# exist: step 8 would delete someone's data.
set -euo pipefail

cd "$(dirname "$0")/.."

UNIT=/usr/lib/systemd/system/sanzhid.service
WAIT=60s

section() { printf '\n==== package-check: %s ====\n' "$*"; }
die() { printf '\nPACKAGE CHECK FAILED: %s\n' "$*" >&2; exit 1; }
# expect DESCRIPTION COMMAND...: run a check, fail with its description.
expect() { local what=$1; shift; "$@" || die "$what"; echo "ok: $what"; }
# mode_owner PATH: "0750 sanzhi:sanzhi".
mode_owner() { stat -c '%04a %U:%G' "$1"; }

[ "$(id -u)" -eq 0 ] || die "run as root (it installs a package and creates a user)"
command -v dpkg >/dev/null || die "dpkg not found: the check runs on Debian or a derivative"
for d in /usr/sbin /sbin; do case ":$PATH:" in *":$d:"*) ;; *) PATH="$PATH:$d" ;; esac; done
if dpkg-query -W -f '${Status}' sanzhi 2>/dev/null | grep -qv 'not-installed'; then
  die "package sanzhi is installed or has config files here; the check would purge it"
fi
getent passwd sanzhi >/dev/null && die "user sanzhi exists here; the check would delete it"
getent group sanzhi >/dev/null && die "group sanzhi exists here; the check would delete it"
for p in /var/lib/sanzhi /etc/sanzhi; do
  [ -e "$p" ] && die "$p exists here; the check would delete it"
done

LOG=$(mktemp /tmp/sanzhi-package-check.XXXXXX)
PID=
# Whatever happens, leave the machine as it was.
cleanup() {
  local rc=$?
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID" 2>/dev/null || true; fi
  # Anything else still running as sanzhi, a user this script created
  # (it refuses to run where one exists), would keep userdel from working.
  local left
  left=$(pgrep -u sanzhi 2>/dev/null || true)
  if [ -n "$left" ]; then
    echo "killing processes left running as sanzhi: $left" >&2
    # shellcheck disable=SC2086 # one id per word
    kill -KILL $left 2>/dev/null || true
    sleep 1
  fi
  if [ "$rc" -ne 0 ] && [ -s "$LOG" ]; then echo "--- sanzhid's log ---" >&2; cat "$LOG" >&2; fi
  if dpkg-query -W -f '${Status}' sanzhi 2>/dev/null | grep -qv 'not-installed'; then
    dpkg -P sanzhi >/dev/null 2>&1 || true
  fi
  rm -rf /var/lib/sanzhi /etc/sanzhi
  getent passwd sanzhi >/dev/null && userdel sanzhi
  getent group sanzhi >/dev/null && groupdel sanzhi
  rm -f "$LOG"
  exit "$rc"
}
trap cleanup EXIT

# ---------------------------------------------------------------------------
section "build the amd64 .deb"
make package PKG_ARCHES=amd64 PKG_FORMATS=deb
# The newest: dist/ may hold packages of earlier commits.
deb=$(ls -t dist/sanzhi_*_amd64.deb | head -1)
[ -f "$deb" ] || die "make package wrote no dist/sanzhi_*_amd64.deb"
dpkg-deb --info "$deb"
dpkg-deb --contents "$deb"

# ---------------------------------------------------------------------------
section "install: dpkg -i $deb"
dpkg -i "$deb"
expect "package sanzhi is installed" dpkg-query -W -f '${Status}\n' sanzhi
dpkg-query -W -f '${Status}\n' sanzhi | grep -qx 'install ok installed' || die "dpkg says: $(dpkg-query -W -f '${Status}' sanzhi)"

IFS=: read -r _ _ uid gid _ home shell < <(getent passwd sanzhi) || die "postinstall made no user sanzhi"
expect "sanzhi is a system user (uid $uid < 1000)" test "$uid" -lt 1000
expect "sanzhi's group is sanzhi" test "$(getent group "$gid" | cut -d: -f1)" = sanzhi
expect "sanzhi cannot log in (shell $shell)" test "${shell##*/}" = nologin
expect "sanzhi's home is the data directory" test "$home" = /var/lib/sanzhi
expect "/var/lib/sanzhi is sanzhi's, 0750" test "$(mode_owner /var/lib/sanzhi)" = "0750 sanzhi:sanzhi"
expect "/etc/sanzhi is root:sanzhi 0750" test "$(mode_owner /etc/sanzhi)" = "0750 root:sanzhi"
expect "sanzhid.env is root:sanzhi 0640" test "$(mode_owner /etc/sanzhi/sanzhid.env)" = "0640 root:sanzhi"
for k in data.key audit.key; do
  expect "$k is sanzhi's, 0600" test "$(mode_owner /etc/sanzhi/$k)" = "0600 sanzhi:sanzhi"
  expect "$k is not empty" test -s /etc/sanzhi/$k
done
expect "the audit key has a verifier key" /usr/bin/sanzhi audit key --audit-key-file /etc/sanzhi/audit.key
expect "the unit is installed" test -f "$UNIT"
expect "sanzhid names its build" /usr/bin/sanzhid --version
# Go records the revision only in a checkout whose .git is a directory (a
# clean clone, as in CI; not a git worktree).
if [ -d .git ]; then
  rev=$(git rev-parse --short=12 HEAD)
  expect "sanzhid names revision $rev" bash -c "/usr/bin/sanzhid --version | grep -q 'revision $rev'"
fi
if command -v readelf >/dev/null; then
  expect "sanzhid is static (no program interpreter)" bash -c '! readelf -l /usr/bin/sanzhid | grep -q INTERP'
fi

# ---------------------------------------------------------------------------
section "install again: keys and an edited config are kept"
sums=$(sha256sum /etc/sanzhi/data.key /etc/sanzhi/audit.key)
echo "# edited by package-check" >>/etc/sanzhi/sanzhid.env
dpkg -i "$deb"
expect "the keys are unchanged" test "$(sha256sum /etc/sanzhi/data.key /etc/sanzhi/audit.key)" = "$sums"
expect "the edited sanzhid.env is kept" grep -qx '# edited by package-check' /etc/sanzhi/sanzhid.env

# ---------------------------------------------------------------------------
section "the unit"
cat "$UNIT"
if command -v systemd-analyze >/dev/null; then
  # verify loads the unit as systemd would and reports unknown or bad
  # settings; it needs no running systemd.
  out=$(systemd-analyze verify "$UNIT" 2>&1) || die "systemd-analyze verify: $out"
  [ -z "$out" ] || { echo "$out"; die "systemd-analyze verify printed warnings"; }
  echo "ok: systemd-analyze verify $UNIT"
  systemd-analyze security --offline=true "$UNIT" 2>/dev/null | tail -1 || true
else
  echo "systemd-analyze not found: the unit is not verified here"
fi

# ---------------------------------------------------------------------------
section "start /usr/bin/sanzhid as sanzhid.service would"
unit_value() { sed -n "s/^$1=//p" "$UNIT"; }
[ "$(unit_value ExecStart | wc -l)" -eq 1 ] || die "the unit must have exactly one ExecStart="
read -r -a exec_start <<<"$(unit_value ExecStart)"
user=$(unit_value User)
env_file=$(unit_value EnvironmentFile)
umask_=$(unit_value UMask)
stop_timeout=$(unit_value TimeoutStopSec)
stop_timeout=${stop_timeout%s}
[ "$user" = sanzhi ] || die "the unit runs as '$user', not sanzhi"
# The environment file in systemd's syntax: NAME=value lines, comments
# and blank lines skipped. The packaged file quotes nothing, so each line
# is one variable as it stands.
env_vars=()
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in '' | '#'*) continue ;; esac
  [[ "$line" =~ ^[A-Z_][A-Z0-9_]*= ]] || die "$env_file: not NAME=value: $line"
  env_vars+=("$line")
done <"$env_file"
printf 'environment from %s:\n' "$env_file"; printf '  %s\n' "${env_vars[@]}"
# "${as_service[@]}" CMD...: CMD as the service's user, in an empty
# environment but the file's, as systemd gives a service (plus PATH, HOME
# and USER). setpriv and env exec, so CMD keeps their process id (runuser
# would stay as its parent).
as_service=(setpriv --reuid="$user" --regid="$user" --init-groups
  env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$home" USER="$user" LOGNAME="$user" "${env_vars[@]}")
# A principal made with the CLI before the first start, as an operator
# would: its creation is the first audited entry, and its key makes an
# authenticated call below.
key=$(umask "$umask_" && "${as_service[@]}" /usr/bin/sanzhi principal create --name package-check --role regulator | grep -o 'sz_[a-z2-7]\{52\}') ||
  die "sanzhi principal create (as $user, on the packaged database) failed"
echo "running as $user, umask $umask_: ${exec_start[*]}"
# The subshell execs too: $! is sanzhid, the process systemd would signal.
(
  cd /
  umask "$umask_"
  exec "${as_service[@]}" "${exec_start[@]}"
) >"$LOG" 2>&1 &
PID=$!

section "wait for SERVING: sanzhi health --wait $WAIT"
start=$(date +%s)
env -i "${env_vars[@]}" /usr/bin/sanzhi health --plaintext --wait "$WAIT" ||
  die "sanzhid did not become SERVING within $WAIT"
echo "SERVING after $(($(date +%s) - start)) s"
expect "sanzhid runs as sanzhi" test "$(ps -o user= -p "$PID")" = sanzhi
expect "the database is in /var/lib/sanzhi, sanzhi's, 0600 (UMask)" \
  test "$(mode_owner /var/lib/sanzhi/sanzhi.db)" = "0600 sanzhi:sanzhi"
expect "the log says it is serving" grep -q '"msg":"sanzhid serving"' "$LOG"
expect "the HTTP gateway answers on loopback" curl -fsS -o /dev/null http://127.0.0.1:7080/openapi.json
checkpoint=$(curl -fsS -H "Authorization: Bearer $key" http://127.0.0.1:7080/v1/audit/checkpoint) ||
  die "an authenticated call (GET /v1/audit/checkpoint as the regulator) failed"
echo "$checkpoint"
expect "the checkpoint is signed by the key postinstall made" grep -qF "$(uname -n)/sanzhi/audit" <<<"$checkpoint"

# ---------------------------------------------------------------------------
section "stop: SIGTERM, as systemctl stop sends"
kill -TERM "$PID"
for ((i = 0; i < stop_timeout; i++)); do
  kill -0 "$PID" 2>/dev/null || break
  sleep 1
done
kill -0 "$PID" 2>/dev/null && die "sanzhid still runs ${stop_timeout}s after SIGTERM (TimeoutStopSec)"
rc=0
wait "$PID" || rc=$?
PID=
expect "sanzhid exited 0 (it exited $rc)" test "$rc" -eq 0
expect "the log says it stopped" grep -q '"msg":"stopped"' "$LOG"
expect "health now fails" bash -c '! env -i "$@" /usr/bin/sanzhi health --plaintext --timeout 2s' _ "${env_vars[@]}"
vkey=$(/usr/bin/sanzhi audit key --audit-key-file /etc/sanzhi/audit.key)
# As sanzhi: SQLite files root made in the data directory
# would lock the service out of its own database.
verified=$("${as_service[@]}" /usr/bin/sanzhi audit verify --no-progress --verifier-key "$vkey") ||
  die "sanzhi audit verify failed on the log sanzhid left: $verified"
echo "$verified"
expect "the audit log it left verifies, the principal's creation in it" grep -q '^OK: [1-9][0-9]* leaves' <<<"$verified"

# ---------------------------------------------------------------------------
section "purge: dpkg -P sanzhi"
dpkg -P sanzhi
expect "the package is gone" bash -c "! dpkg-query -W -f '\${Status}' sanzhi 2>/dev/null | grep -q installed"
for p in /usr/bin/sanzhid /usr/bin/sanzhi "$UNIT" /etc/sanzhi/sanzhid.env /usr/share/doc/sanzhi; do
  expect "purge removed $p" test ! -e "$p"
done
for p in /var/lib/sanzhi/sanzhi.db /etc/sanzhi/data.key /etc/sanzhi/audit.key; do
  expect "purge kept $p" test -e "$p"
done
expect "purge kept the user sanzhi" getent passwd sanzhi
expect "the keys are still the ones installed" test "$(sha256sum /etc/sanzhi/data.key /etc/sanzhi/audit.key)" = "$sums"

section "leave the machine as it was"
rm -rf /var/lib/sanzhi /etc/sanzhi
userdel sanzhi
getent group sanzhi >/dev/null && groupdel sanzhi
expect "no user sanzhi" bash -c '! getent passwd sanzhi'
expect "no group sanzhi" bash -c '! getent group sanzhi'

section "passed"
