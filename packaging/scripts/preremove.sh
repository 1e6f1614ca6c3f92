#!/bin/sh
# sanzhi package: before the files go (deb prerm, rpm %preun).
#   deb: $1 = remove, upgrade, deconfigure or failed-upgrade
#   rpm: $1 = 0 when the package is erased, 1 or more on an upgrade
# On removal, stops and disables the service; on an upgrade it keeps
# running (the operator restarts it after migrating). Data, keys and the
# user are kept either way.
set -eu

case "${1:-}" in
  remove | 0) ;;
  *) exit 0 ;;
esac
if [ -d /run/systemd/system ]; then
  systemctl stop sanzhid.service || true
  systemctl disable sanzhid.service >/dev/null 2>&1 || true
fi
exit 0
