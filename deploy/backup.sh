#!/usr/bin/env bash
# Back up a sanzhi PostgreSQL database together with the keys it cannot be
# read or verified without, into one dated archive with a manifest.
# docs/OPERATIONS.md, "Backup and restore"; deploy/restore.sh reverses it;
# tools/backup-restore-check.sh runs both end to end.
#
# The archive holds:
#   MANIFEST         what restore.sh checks: the sha256 of every part, the
#                    audit tree's size and root at backup time, the versions
#   db.dump          pg_dump --format=custom of the whole database
#   checkpoint.txt   the signed checkpoint of that size: the restored log
#                    must still contain it (sanzhi audit verify --since)
#   keys/data.key    the data key that seals 身份证号
#   keys/audit.key   the checkpoint signing key
#   keys/key-history the audit key history, once the key has been rotated
#
# With --keys-to DIR the keys go into an archive of their own in DIR (with
# the same MANIFEST), and the database archive holds none. Keep the two
# apart: the dump alone holds every 身份证号 sealed, which only the data key
# opens; whoever has both has everything.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: deploy/backup.sh --database URL --data-key-file FILE --audit-key-file FILE [options]

  --database URL        the database to dump, as a libpq URL pg_dump and psql
                        accept: a role that reads every table (the migrator, which
                        owns them, or a superuser). No pool_* settings in it.
  --audit-database URL  where `sanzhi audit verify` reads the log (default: --database);
                        the auditor role of deploy/postgres/roles.sql is enough
  --data-key-file FILE  the data key sanzhid runs with (--data-key-file)
  --audit-key-file FILE the checkpoint signing key sanzhid runs with (--audit-key-file)
  --key-history FILE    the audit key history, once the signing key has been rotated
  --out DIR             where the archive is written (default: .)
  --keys-to DIR         write the keys to an archive of their own in DIR instead
  --no-verify           record the latest checkpoint without verifying the whole log
                        first (for a log so long that verifying takes too long; the
                        restore verifies it anyway)
  --sanzhi PATH         the sanzhi command (default: sanzhi on PATH)

Prints the path of each archive written, last.
EOF
}

die() { echo "backup.sh: $*" >&2; exit 1; }

database="" audit_database="" data_key="" audit_key="" history="" out="." keys_to="" verify=yes sanzhi=sanzhi
while [ $# -gt 0 ]; do
	case "$1" in
	--database) database=${2-}; shift 2 ;;
	--audit-database) audit_database=${2-}; shift 2 ;;
	--data-key-file) data_key=${2-}; shift 2 ;;
	--audit-key-file) audit_key=${2-}; shift 2 ;;
	--key-history) history=${2-}; shift 2 ;;
	--out) out=${2-}; shift 2 ;;
	--keys-to) keys_to=${2-}; shift 2 ;;
	--no-verify) verify=no; shift ;;
	--sanzhi) sanzhi=${2-}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
if [ -z "$database" ] || [ -z "$data_key" ] || [ -z "$audit_key" ]; then
	usage >&2
	exit 2
fi
audit_database=${audit_database:-$database}
for tool in pg_dump psql tar sha256sum "$sanzhi"; do
	command -v "$tool" >/dev/null || die "$tool is not on PATH"
done
for f in "$data_key" "$audit_key" ${history:+"$history"}; do
	[ -r "$f" ] || die "cannot read $f"
done
[ -d "$out" ] || die "--out $out is not a directory"
if [ -n "$keys_to" ]; then
	[ -d "$keys_to" ] || die "--keys-to $keys_to is not a directory"
else
	echo "backup.sh: the keys go into the same archive as the dump; keep it where only key custodians can read it, or use --keys-to" >&2
fi

umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stamp=$(date -u +%Y%m%dT%H%M%SZ)

# 1. The log's state, before the dump: the log only grows, so the dump
# (pg_dump reads one snapshot, taken after this) contains this checkpoint.
if [ -n "$history" ]; then
	keys=(--key-history "$history")
else
	vkey=$("$sanzhi" audit key --audit-key-file "$audit_key") || die "cannot read the audit key $audit_key"
	keys=(--verifier-key "$vkey")
fi
if [ "$verify" = yes ]; then
	report=$("$sanzhi" --no-progress audit verify --database "$audit_database" "${keys[@]}") ||
		die "the audit log does not verify (above); a backup of it would not restore to a verified log. Investigate first; pg_dump keeps a copy for that."
	line=$(grep '^latest checkpoint: ' <<<"$report") || die "unexpected output of sanzhi audit verify: $report"
	size=$(sed -E 's/^latest checkpoint: size ([0-9]+), root ([0-9a-f]+)$/\1/' <<<"$line")
	root=$(sed -E 's/^latest checkpoint: size ([0-9]+), root ([0-9a-f]+)$/\2/' <<<"$line")
else
	row=$(psql -X -A -t -v ON_ERROR_STOP=1 --dbname "$audit_database" \
		-c "SELECT size || ' ' || encode(root, 'hex') FROM audit_checkpoints ORDER BY size DESC LIMIT 1") ||
		die "cannot read the latest checkpoint"
	size=${row%% *} root=${row#* }
fi
[[ "$size" =~ ^[0-9]+$ && "$root" =~ ^[0-9a-f]{64}$ ]] || die "no signed checkpoint found: start sanzhid once (it signs one at start) before backing up"
# $(…) drops the trailing newlines; a signed note ends with exactly one.
note=$(psql -X -A -t -v ON_ERROR_STOP=1 --dbname "$audit_database" -c "SELECT note FROM audit_checkpoints WHERE size = $size") ||
	die "cannot read the checkpoint of size $size"
[ -n "$note" ] || die "the checkpoint of size $size is not stored"
printf '%s\n' "$note" >"$work/checkpoint.txt"

# 2. The database.
pg_dump --format=custom --file="$work/db.dump" --dbname="$database" || die "pg_dump failed"

# 3. The keys.
mkdir "$work/keys"
cp "$data_key" "$work/keys/data.key"
cp "$audit_key" "$work/keys/audit.key"
[ -z "$history" ] || cp "$history" "$work/keys/key-history"
chmod 600 "$work"/keys/*

# 4. The manifest.
parts=(db.dump checkpoint.txt keys/data.key keys/audit.key)
[ -z "$history" ] || parts+=(keys/key-history)
{
	echo "# sanzhi backup: deploy/restore.sh checks every line"
	echo "format 1"
	echo "created $stamp"
	echo "sanzhi_version $("$sanzhi" --version)"
	echo "pg_dump_version $(pg_dump --version)"
	echo "server_version $(psql -X -A -t --dbname "$database" -c 'SHOW server_version')"
	echo "audit_size $size"
	echo "audit_root $root"
	echo "audit_verified $verify"
	if [ -n "$keys_to" ]; then echo "keys_apart yes"; else echo "keys_apart no"; fi
	for p in "${parts[@]}"; do
		echo "part $p $(sha256sum "$work/$p" | cut -d' ' -f1)"
	done
} >"$work/MANIFEST"

# 5. The archives, written under a temporary name and renamed when complete.
pack() { # pack DEST FILE...
	local dest=$1
	shift
	tar -C "$work" -cf "$dest.partial" "$@"
	chmod 600 "$dest.partial"
	mv "$dest.partial" "$dest"
}
archive="$out/sanzhi-backup-$stamp.tar"
if [ -n "$keys_to" ]; then
	keys_archive="$keys_to/sanzhi-keys-$stamp.tar"
	pack "$keys_archive" MANIFEST keys
	pack "$archive" MANIFEST db.dump checkpoint.txt
	echo "backed up: audit log of size $size, root $root" >&2
	echo "$archive"
	echo "$keys_archive"
else
	pack "$archive" MANIFEST db.dump checkpoint.txt keys
	echo "backed up: audit log of size $size, root $root" >&2
	echo "$archive"
fi
