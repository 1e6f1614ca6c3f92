#!/usr/bin/env bash
# The database runbooks of docs/OPERATIONS.md, run end to end on a scratch
# database of the PostgreSQL server at SANZHI_TEST_POSTGRES (a superuser's
# URL): `make backup-check`.
#
#   1. production roles (deploy/postgres/roles.sql), `sanzhi migrate` as the
#      migrator, the demo county seeded and a member with a known 身份证号
#      added as the app role, a batch re-assessment run as the app role,
#      sanzhid --no-migrate serving as the app role;
#   2. the audit-key rotation runbook: rotate-key with the server stopped,
#      the server on the new key, verify with the key history;
#   3. deploy/backup.sh with the keys apart, the dump checked to hold no
#      身份证号 and no key;
#   4. DROP DATABASE, then deploy/restore.sh onto a new empty one: the
#      restored log verifies with the same size and root, the keys are back
#      with mode 0600, the data key opens the 身份证号 again, sanzhid serves;
#   5. what must fail does: an altered archive, a keys archive of another
#      backup, a non-empty target, the wrong verifier key, one byte changed
#      in an audit row.
#
# Needs go, psql, pg_dump and pg_restore.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
GO=${GO:-go}
admin=${SANZHI_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
for tool in "$GO" psql pg_dump pg_restore; do
	command -v "$tool" >/dev/null || { echo "backup-check: $tool is not on PATH" >&2; exit 1; }
done

step() { echo "==> $* (at $(($(date +%s) - start)) s)"; }
fail() { echo "backup-check: FAILED: $*" >&2; exit 1; }

tmp=$(mktemp -d)
suffix="$$_$RANDOM"
db="sanzhi_bck_$suffix"
migrator="sanzhi_bck${suffix}_migrator" app="sanzhi_bck${suffix}_app" auditor="sanzhi_bck${suffix}_auditor"
password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
sanzhid_pid=""
cleanup() {
	[ -z "$sanzhid_pid" ] || kill "$sanzhid_pid" 2>/dev/null || true
	psql -X -q --dbname "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" \
		-c "DROP ROLE IF EXISTS $app" -c "DROP ROLE IF EXISTS $auditor" -c "DROP ROLE IF EXISTS $migrator" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# url ROLE: the scratch database's URL as ROLE ("" for the superuser).
[[ "$admin" =~ ^(postgres(ql)?://)(([^@/]*)@)?([^/?]*)(/[^?]*)?(\?.*)?$ ]] || fail "SANZHI_TEST_POSTGRES is not a postgres:// URL"
scheme=${BASH_REMATCH[1]} admin_user=${BASH_REMATCH[4]} hostport=${BASH_REMATCH[5]} query=${BASH_REMATCH[7]}
url() {
	if [ -z "${1-}" ]; then
		echo "$scheme${admin_user:+$admin_user@}$hostport/$db$query"
	else
		echo "$scheme$1:$password@$hostport/$db$query"
	fi
}
sql() { psql -X -A -t -q -v ON_ERROR_STOP=1 "$@"; }

# SANZHI_BIN: a directory holding sanzhi and sanzhid already built
# (make backup-check builds bin/ first); otherwise they are built here.
bin=${SANZHI_BIN:-}
if [ -z "$bin" ]; then
	step "build sanzhi and sanzhid"
	bin="$tmp/bin"
	mkdir "$bin"
	"$GO" build -o "$bin/sanzhi" ./cmd/sanzhi
	"$GO" build -o "$bin/sanzhid" ./cmd/sanzhid
fi
[ -x "$bin/sanzhi" ] && [ -x "$bin/sanzhid" ] || fail "no sanzhi and sanzhid in $bin"
sanzhi=("$bin/sanzhi" --no-progress)
vars=(-v "migrator=$migrator" -v "app=$app" -v "auditor=$auditor")

step "roles.sql, sanzhi migrate as the migrator, roles.sql again"
sql --dbname "$admin" -c "CREATE DATABASE $db"
# roles.sql changes the database it is given: make sure it is this one.
[ "$(sql --dbname "$(url)" -c 'SELECT current_database()')" = "$db" ] || fail "cannot reach the scratch database $db"
sql --dbname "$(url)" "${vars[@]}" -f deploy/postgres/roles.sql
for r in "$migrator" "$app" "$auditor"; do sql --dbname "$admin" -c "ALTER ROLE $r PASSWORD '$password'"; done
if "${sanzhi[@]}" migrate --database "$(url "$app")" 2>/dev/null; then fail "the app role migrated the schema"; fi
"${sanzhi[@]}" migrate --database "$(url "$migrator")"
sql --dbname "$(url)" "${vars[@]}" -f deploy/postgres/roles.sql

keys="$tmp/keys"
mkdir "$keys"
"${sanzhi[@]}" keygen "$keys/data.key" >/dev/null
"${sanzhi[@]}" audit keygen "$keys/audit.key" --origin sanzhi.check/backup >/dev/null

step "seed the demo county as the app role"
"${sanzhi[@]}" demo seed --database "$(url "$app")" --data-key-file "$keys/data.key" >/dev/null
# A member with a 身份证号 this script knows, to look for in the dump.
first17="33048320250101$(printf '%03d' $((RANDOM % 900 + 100)))"
weights=(7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2) sum=0
for i in $(seq 0 16); do sum=$((sum + ${first17:i:1} * weights[i])); done
checks=10X98765432
id_number="$first17${checks:$((sum % 11)):1}"
household=$(sql --dbname "$(url "$app")" -c "SELECT 'villages/' || village_code || '/households/' || id FROM households
	WHERE village_code = '330483102215' ORDER BY id LIMIT 1")
printf '编号,姓名,与户主关系,身份证号,劳动力状况\n1,,户主,,非劳动力\n,沈小宝,孙子女,%s,非劳动力\n' "$id_number" >"$tmp/members.csv"
"${sanzhi[@]}" household set-members "$household" "$tmp/members.csv" --database "$(url "$app")" \
	--key sz_demo_clerk_nanyang --data-key-file "$keys/data.key" >/dev/null

# The batch re-assessment writes its pages by COPY (decisions, line
# events): the app role's grants must be enough for it, as for the rest.
step "a batch re-assessment as the app role"
reassessed=$("${sanzhi[@]}" reassess --database "$(url "$app")" --data-key-file "$keys/data.key" --bank tongxiang-rcb --lang en) ||
	fail "the re-assessment failed as the app role: $reassessed"
grep ': done, [1-9][0-9]* of ' <<<"$reassessed" || fail "the re-assessment assessed no household: $reassessed"

# serve AUDIT_KEY DATA_KEY: sanzhid as the app role until it serves (it
# sequences the queue and signs a checkpoint first), then SIGTERM (it signs
# the last one).
serve() {
	"$bin/sanzhid" --database "$(url "$app")" --no-migrate --data-key-file "$2" --audit-key-file "$1" \
		--grpc-addr 127.0.0.1:0 --http-addr "" 2>"$tmp/sanzhid.log" &
	sanzhid_pid=$!
	for _ in $(seq 1200); do
		grep -q '"sanzhid serving"' "$tmp/sanzhid.log" && break
		kill -0 "$sanzhid_pid" 2>/dev/null || { cat "$tmp/sanzhid.log" >&2; fail "sanzhid did not start"; }
		sleep 0.1
	done
	grep -q '"sanzhid serving"' "$tmp/sanzhid.log" || { cat "$tmp/sanzhid.log" >&2; fail "sanzhid did not become ready in 2 minutes"; }
	kill -TERM "$sanzhid_pid"
	wait "$sanzhid_pid" || { cat "$tmp/sanzhid.log" >&2; fail "sanzhid did not stop cleanly"; }
	sanzhid_pid=""
}
step "sanzhid --no-migrate as the app role"
serve "$keys/audit.key" "$keys/data.key"

step "audit-key rotation: rotate-key with the server stopped, then serve with the new key"
old_vkey=$("${sanzhi[@]}" audit key --audit-key-file "$keys/audit.key")
"${sanzhi[@]}" audit rotate-key --database "$(url "$app")" --audit-key-file "$keys/audit.key" \
	--new-key-file "$keys/audit-2.key" --key-history "$keys/key-history" >/dev/null
[ "$(stat -c %a "$keys/audit-2.key")" = 600 ] || fail "the new signing key is not mode 0600"
# A write after the handover, so that the new key signs a checkpoint alone.
"${sanzhi[@]}" principal create --database "$(url "$app")" --name check-regulator --role regulator >/dev/null
serve "$keys/audit-2.key" "$keys/data.key"
if "${sanzhi[@]}" audit verify --database "$(url "$auditor")" --verifier-key "$old_vkey" >/dev/null 2>&1; then
	fail "the log verified with the retired key alone after the rotation"
fi
before=$("${sanzhi[@]}" audit verify --database "$(url "$auditor")" --key-history "$keys/key-history")
echo "$before"
before_line=$(grep '^latest checkpoint: ' <<<"$before")
households=$(sql --dbname "$(url "$app")" -c "SELECT count(*) FROM households")

step "backup.sh, the keys apart"
mkdir "$tmp/backups" "$tmp/vault"
mapfile -t written < <(deploy/backup.sh --sanzhi "$bin/sanzhi" --database "$(url "$migrator")" \
	--audit-database "$(url "$auditor")" --data-key-file "$keys/data.key" --audit-key-file "$keys/audit-2.key" \
	--key-history "$keys/key-history" --out "$tmp/backups" --keys-to "$tmp/vault")
[ "${#written[@]}" = 2 ] || fail "backup.sh did not name two archives: ${written[*]}"
archive=${written[0]} keys_archive=${written[1]}
grep -q "^audit_root $(sed -E 's/.*root ([0-9a-f]+)$/\1/' <<<"$before_line")$" <(tar -xOf "$archive" MANIFEST) ||
	fail "the manifest does not hold the root verify reported"
if tar -tf "$archive" | grep -q '^keys'; then fail "the database archive holds keys"; fi
tar -xOf "$archive" db.dump | pg_restore -f - >"$tmp/dump.sql"
grep -q "${id_number:0:6}\*\*\*\*\*\*\*\*${id_number:14:4}" "$tmp/dump.sql" || fail "the added member is not in the dump"
if grep -qF "$id_number" "$tmp/dump.sql"; then fail "the dump holds a 身份证号 in clear"; fi
if grep -qF "$(printf '%s' "$id_number" | od -An -tx1 | tr -d ' \n')" "$tmp/dump.sql"; then fail "the dump holds a 身份证号 in hex"; fi
while IFS=: read -r _ secret; do
	if grep -qF "$secret" "$tmp/dump.sql"; then fail "the dump holds the data key"; fi
done < <(grep -v '^#' "$keys/data.key")
ls -l "$archive" "$keys_archive"

step "DROP DATABASE; restore.sh onto a new one"
sql --dbname "$admin" -c "DROP DATABASE $db WITH (FORCE)"
sql --dbname "$admin" -c "CREATE DATABASE $db"
restored="$tmp/restored"
mkdir "$restored"
deploy/restore.sh --sanzhi "$bin/sanzhi" --archive "$archive" --keys "$keys_archive" --database "$(url)" \
	--audit-database "$(url "$auditor")" --data-key-file "$restored/data.key" --audit-key-file "$restored/audit.key" \
	--key-history "$restored/key-history" --roles "${vars[@]/#-v/--psql-var}" | tee "$tmp/restore.out"
grep -q "latest checkpoint size ${before_line#latest checkpoint: size }$" "$tmp/restore.out" ||
	fail "the restored log's latest checkpoint is not the one before the backup ($before_line)"
for f in data.key audit.key key-history; do
	[ "$(stat -c %a "$restored/$f")" = 600 ] || fail "$f was restored with mode $(stat -c %a "$restored/$f")"
done
[ "$(sql --dbname "$(url "$app")" -c "SELECT count(*) FROM households")" = "$households" ] || fail "households were lost"
# The restored data key opens the 身份证号: the member's age comes from it.
"${sanzhi[@]}" household members "$household" --database "$(url "$app")" --key sz_demo_clerk_nanyang \
	--data-key-file "$restored/data.key" | grep -E "沈小宝 +孙子女 +${id_number:0:6}\*+${id_number:14:4} +[0-9]+ " >/dev/null ||
	fail "the restored data key does not open the added member's 身份证号"
serve "$restored/audit.key" "$restored/data.key"

step "what must fail, fails"
# restore_fails WHY ARGS...: restore.sh must refuse, saying WHY.
restore_fails() {
	local why=$1
	shift
	if deploy/restore.sh --sanzhi "$bin/sanzhi" --data-key-file "$tmp/x.key" --audit-key-file "$tmp/x.audit" \
		--key-history "$tmp/x.history" "$@" >"$tmp/refused.out" 2>&1; then
		fail "restore.sh accepted: $why"
	fi
	grep -q "$why" "$tmp/refused.out" || { cat "$tmp/refused.out" >&2; fail "restore.sh refused, but did not say: $why"; }
	echo "refused: $(tail -1 "$tmp/refused.out")"
}
mkdir "$tmp/altered"
tar -C "$tmp/altered" -xf "$archive"
printf 'x' | dd of="$tmp/altered/checkpoint.txt" bs=1 seek=5 conv=notrunc status=none
tar -C "$tmp/altered" -cf "$tmp/altered.tar" MANIFEST db.dump checkpoint.txt
restore_fails "does not match its checksum" --archive "$tmp/altered.tar" --keys "$keys_archive" --database "$(url)"
mkdir "$tmp/otherkeys"
tar -C "$tmp/otherkeys" -xf "$keys_archive"
sed -i 's/^created .*/created 20000101T000000Z/' "$tmp/otherkeys/MANIFEST"
tar -C "$tmp/otherkeys" -cf "$tmp/otherkeys.tar" MANIFEST keys
restore_fails "belongs to another backup" --archive "$archive" --keys "$tmp/otherkeys.tar" --database "$(url)"
restore_fails "pass it with --keys" --archive "$archive" --database "$(url)"
restore_fails "not empty" --archive "$archive" --keys "$keys_archive" --database "$(url)"
"${sanzhi[@]}" audit keygen "$tmp/stranger.key" --origin sanzhi.check/backup >/dev/null
if "${sanzhi[@]}" audit verify --database "$(url "$auditor")" \
	--verifier-key "$("${sanzhi[@]}" audit key --audit-key-file "$tmp/stranger.key")" >"$tmp/wrongkey.out" 2>&1; then
	fail "the restored log verified with a stranger's key"
fi
grep -q "AUDIT LOG FAILED VERIFICATION" "$tmp/wrongkey.out" || fail "no verification failure with the wrong key"
echo "refused: $(tail -1 "$tmp/wrongkey.out")"
# One byte of one entry, rewritten by a superuser past the triggers.
sql --dbname "$(url)" -c "BEGIN; ALTER TABLE sanzhi.audit_leaves DISABLE TRIGGER USER;
	UPDATE sanzhi.audit_leaves SET data = set_byte(data, 20, get_byte(data, 20) # 1) WHERE seq = 1000;
	ALTER TABLE sanzhi.audit_leaves ENABLE TRIGGER USER; COMMIT;"
if "${sanzhi[@]}" audit verify --database "$(url "$auditor")" --key-history "$restored/key-history" >"$tmp/tampered.out" 2>&1; then
	fail "a log with a byte changed verified"
fi
grep -q "leaf 1000" "$tmp/tampered.out" || { cat "$tmp/tampered.out" >&2; fail "verify did not name the changed entry"; }
echo "refused: $(tail -1 "$tmp/tampered.out")"

echo "backup-check: OK in $(($(date +%s) - start)) s"
