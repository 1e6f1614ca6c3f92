#!/usr/bin/env bash
# Restore a backup made by deploy/backup.sh into an empty database, put the
# keys back, and prove the restored audit log: it verifies end to end with
# the restored keys and still contains the checkpoint signed at backup
# time. docs/OPERATIONS.md, "Backup and restore".
#
# Order: every check that can fail without touching anything runs first
# (the manifest's checksums, the keys' archive belonging to this backup,
# the target database being empty, existing key files being the same
# keys); then pg_restore in one transaction; then the keys; then the
# verification, whose failure is this script's failure.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: deploy/restore.sh --archive FILE --database URL --data-key-file DEST --audit-key-file DEST [options]

  --archive FILE        sanzhi-backup-….tar written by backup.sh
  --keys FILE           sanzhi-keys-….tar, when backup.sh wrote the keys apart (--keys-to)
  --database URL        the database to restore into (libpq URL): it must exist and be
                        empty. Restore as a superuser: the dump sets owners and grants.
  --audit-database URL  where the restored log is verified (default: --database); the
                        auditor role of deploy/postgres/roles.sql is enough
  --data-key-file DEST  where the data key goes (mode 0600; an existing file must hold
                        the same key)
  --audit-key-file DEST where the checkpoint signing key goes (the same)
  --key-history DEST    where the key history goes, if the backup has one
  --roles               create the roles of deploy/postgres/roles.sql before restoring
                        (a new server has none), and run the script after
  --psql-var NAME=VALUE a variable for roles.sql (schema, migrator, app, auditor), repeatable
  --sanzhi PATH         the sanzhi command (default: sanzhi on PATH)
EOF
}

die() { echo "restore.sh: $*" >&2; exit 1; }

archive="" keys_archive="" database="" audit_database="" data_dest="" audit_dest="" history_dest="" roles=no sanzhi=sanzhi
psql_vars=()
while [ $# -gt 0 ]; do
	case "$1" in
	--archive) archive=${2-}; shift 2 ;;
	--keys) keys_archive=${2-}; shift 2 ;;
	--database) database=${2-}; shift 2 ;;
	--audit-database) audit_database=${2-}; shift 2 ;;
	--data-key-file) data_dest=${2-}; shift 2 ;;
	--audit-key-file) audit_dest=${2-}; shift 2 ;;
	--key-history) history_dest=${2-}; shift 2 ;;
	--roles) roles=yes; shift ;;
	--psql-var) psql_vars+=(-v "${2-}"); shift 2 ;;
	--sanzhi) sanzhi=${2-}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
if [ -z "$archive" ] || [ -z "$database" ] || [ -z "$data_dest" ] || [ -z "$audit_dest" ]; then
	usage >&2
	exit 2
fi
audit_database=${audit_database:-$database}
for tool in pg_restore psql tar sha256sum "$sanzhi"; do
	command -v "$tool" >/dev/null || die "$tool is not on PATH"
done
roles_sql="$(dirname "${BASH_SOURCE[0]}")/postgres/roles.sql"
[ "$roles" = no ] || [ -r "$roles_sql" ] || die "--roles: cannot read $roles_sql"

umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. The archives and the manifest.
mkdir "$work/db" "$work/keys"
tar -C "$work/db" -xf "$archive" || die "cannot read $archive"
[ -f "$work/db/MANIFEST" ] || die "$archive has no MANIFEST: not a sanzhi backup"
grep -qx 'format 1' "$work/db/MANIFEST" || die "$archive: unknown manifest format (this restore.sh reads format 1)"
field() { sed -n "s/^$1 //p" "$work/db/MANIFEST"; }
if [ "$(field keys_apart)" = yes ]; then
	[ -n "$keys_archive" ] || die "this backup's keys are in an archive of their own (backup.sh --keys-to): pass it with --keys"
	tar -C "$work/keys" -xf "$keys_archive" || die "cannot read $keys_archive"
	cmp -s "$work/db/MANIFEST" "$work/keys/MANIFEST" ||
		die "$keys_archive belongs to another backup than $archive (their manifests differ)"
elif [ -n "$keys_archive" ]; then
	die "$archive holds its keys itself; --keys is for a backup made with --keys-to"
else
	mv "$work/db/keys" "$work/keys/keys" 2>/dev/null || die "$archive has no keys"
fi
part_file() { # where part $1 was extracted
	case "$1" in
	keys/*) echo "$work/keys/$1" ;;
	*) echo "$work/db/$1" ;;
	esac
}
while read -r _ path sum; do
	f=$(part_file "$path")
	[ -f "$f" ] || die "$path, listed in the manifest, is missing"
	[ "$(sha256sum "$f" | cut -d' ' -f1)" = "$sum" ] ||
		die "$path does not match its checksum in the manifest: the backup is damaged or was altered"
done < <(grep '^part ' "$work/db/MANIFEST")
size=$(field audit_size)
root=$(field audit_root)
[[ "$size" =~ ^[0-9]+$ && "$root" =~ ^[0-9a-f]{64}$ ]] || die "the manifest names no audit checkpoint"
has_history=no
[ ! -f "$work/keys/keys/key-history" ] || has_history=yes
[ "$has_history" = no ] || [ -n "$history_dest" ] || die "the backup holds an audit key history: say where it goes with --key-history"

# 2. Where the keys go: never over a different key.
same_or_absent() { # same_or_absent PART DEST
	local src
	src=$(part_file "$1")
	if [ -e "$2" ] && ! cmp -s "$src" "$2"; then
		die "$2 exists and holds another key than the backup's $1: move it away first"
	fi
	[ -d "$(dirname "$2")" ] || die "directory $(dirname "$2") does not exist"
}
same_or_absent keys/data.key "$data_dest"
same_or_absent keys/audit.key "$audit_dest"
[ "$has_history" = no ] || same_or_absent keys/key-history "$history_dest"

# 3. The target database must be empty: pg_restore into a used one would
# mix two databases or fail half-way.
used=$(psql -X -A -t -v ON_ERROR_STOP=1 --dbname "$database" -c "
	SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%')
	     + (SELECT count(*) FROM pg_namespace
	         WHERE nspname NOT IN ('public', 'information_schema') AND nspname NOT LIKE 'pg\_%')") ||
	die "cannot connect to the target database"
[ "$used" = 0 ] || die "the target database is not empty: restore into a new database (CREATE DATABASE …), or drop this one first"

# 4. The database.
if [ "$roles" = yes ]; then
	psql -X -q -v ON_ERROR_STOP=1 -v roles_only=on "${psql_vars[@]}" --dbname "$database" -f "$roles_sql" ||
		die "roles.sql failed"
fi
if ! pg_restore --exit-on-error --single-transaction --dbname "$database" "$work/db/db.dump"; then
	die "pg_restore failed (above) and restored nothing; if a role 'does not exist', create the roles first (--roles)"
fi
if [ "$roles" = yes ]; then
	psql -X -q -v ON_ERROR_STOP=1 "${psql_vars[@]}" --dbname "$database" -f "$roles_sql" || die "roles.sql failed"
fi
# pg_restore leaves no statistics; verify reads the log in seq order and,
# without them, the planner may sort the whole table on disk first.
psql -X -q -v ON_ERROR_STOP=1 --dbname "$database" -c 'ANALYZE' || die "ANALYZE failed"

# 5. The keys, readable by their owner only.
install -m 0600 "$(part_file keys/data.key)" "$data_dest"
install -m 0600 "$(part_file keys/audit.key)" "$audit_dest"
[ "$has_history" = no ] || install -m 0600 "$(part_file keys/key-history)" "$history_dest"

# 6. The proof: the restored log verifies with the restored keys and
# extends the checkpoint signed at backup time.
if [ "$has_history" = yes ]; then
	keys=(--key-history "$history_dest")
else
	keys=(--verifier-key "$("$sanzhi" audit key --audit-key-file "$audit_dest")")
fi
if ! report=$("$sanzhi" --no-progress audit verify --database "$audit_database" "${keys[@]}" --since "$work/db/checkpoint.txt" 2>"$work/verify.err"); then
	cat "$work/verify.err" >&2
	if grep -q 'FAILED VERIFICATION' "$work/verify.err"; then
		die "RESTORED LOG FAILED VERIFICATION (above): the database is restored but must not be served"
	fi
	die "the restored database is not yet proven: the verification could not run (above). Fix that and run sanzhi audit verify --since the backup's checkpoint (tar -xOf $archive checkpoint.txt)"
fi
echo "$report"
line=$(grep '^latest checkpoint: ' <<<"$report")
now_size=$(sed -E 's/^latest checkpoint: size ([0-9]+), root ([0-9a-f]+)$/\1/' <<<"$line")
now_root=$(sed -E 's/^latest checkpoint: size ([0-9]+), root ([0-9a-f]+)$/\2/' <<<"$line")
if [ "$now_size" -lt "$size" ] || { [ "$now_size" = "$size" ] && [ "$now_root" != "$root" ]; }; then
	die "RESTORED LOG FAILED VERIFICATION: its latest checkpoint (size $now_size, root $now_root) is not the backup's (size $size, root $root) or later"
fi
echo "restored: the log verifies and contains the backup's checkpoint (size $size, root $root); latest checkpoint size $now_size, root $now_root"
