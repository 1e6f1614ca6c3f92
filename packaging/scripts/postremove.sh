#!/bin/sh
# sanzhi package: after the files are gone (deb postrm, rpm %postun).
#   deb: $1 = remove, purge, upgrade, ...
#   rpm: $1 = 0 when the package is erased, 1 or more on an upgrade
# Deletes nothing of its own accord. Purging a .deb removes the package's
# files and /etc/sanzhi/sanzhid.env (dpkg does that for a conffile); the
# database, the keys and the user stay, because a deleted data key makes
# every backup of the database unreadable.
set -eu

if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
fi
case "${1:-}" in
  purge | 0)
    echo "sanzhi: kept /var/lib/sanzhi (the database), /etc/sanzhi/data.key and /etc/sanzhi/audit.key"
    echo "        and the user sanzhi. Delete them yourself once the data and its backups are gone for good."
    ;;
esac
exit 0
