#!/bin/sh
# sanzhi package: after the files are in place (deb postinst, rpm %post).
#   deb: $1 = configure, $2 = the version configured before ("" on a first install)
#   rpm: $1 = 1 on a first install, 2 or more on an upgrade
# Creates the system user, the data directory and, on a first install only
# and only where none exists, the data key and the audit key. Nothing that
# exists is ever overwritten: a replaced key would make the data unreadable
# and the audit log unverifiable.
set -eu

case "${1:-}" in
  configure) if [ -z "${2:-}" ]; then first=yes; else first=no; fi ;;
  1) first=yes ;;
  [0-9]*) first=no ;;
  *) exit 0 ;; # abort-upgrade and the like: nothing to redo
esac

nologin=/usr/sbin/nologin
[ -x "$nologin" ] || nologin=/sbin/nologin
getent group sanzhi >/dev/null || groupadd --system sanzhi
getent passwd sanzhi >/dev/null ||
  useradd --system --gid sanzhi --home-dir /var/lib/sanzhi --no-create-home \
    --shell "$nologin" --comment "sanzhi credit service" sanzhi

# The service's only writable place (ReadWritePaths in sanzhid.service).
if [ ! -d /var/lib/sanzhi ]; then
  install -d -o sanzhi -g sanzhi -m 0750 /var/lib/sanzhi
fi

# The group reads the settings (a PostgreSQL URL may hold a password) and
# enters the directory to reach its keys; only root writes.
chown root:sanzhi /etc/sanzhi /etc/sanzhi/sanzhid.env
chmod 0750 /etc/sanzhi
chmod 0640 /etc/sanzhi/sanzhid.env

if [ "$first" = yes ]; then
  # The same commands an operator runs; both write mode 0600 and refuse
  # to overwrite a file.
  if [ ! -e /etc/sanzhi/data.key ] && [ ! -L /etc/sanzhi/data.key ]; then
    /usr/bin/sanzhi keygen /etc/sanzhi/data.key >/dev/null
    chown sanzhi:sanzhi /etc/sanzhi/data.key
    echo "sanzhi: made the data key /etc/sanzhi/data.key; back it up: without it no 身份证号 can be read"
  fi
  if [ ! -e /etc/sanzhi/audit.key ] && [ ! -L /etc/sanzhi/audit.key ]; then
    origin="$(uname -n)/sanzhi/audit"
    vkey=$(/usr/bin/sanzhi audit keygen --origin "$origin" /etc/sanzhi/audit.key | tail -n 1)
    chown sanzhi:sanzhi /etc/sanzhi/audit.key
    echo "sanzhi: made the audit signing key /etc/sanzhi/audit.key (log origin $origin);"
    echo "        give regulators its verifier key: $vkey"
  fi
fi

if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
fi
if [ "$first" = yes ]; then
  echo "sanzhi: installed, not started. Review /etc/sanzhi/sanzhid.env, then: systemctl enable --now sanzhid"
else
  echo "sanzhi: upgraded; sanzhid keeps running the old binary until: sanzhi migrate (as the migrating role, if SANZHI_NO_MIGRATE=true), then systemctl restart sanzhid"
fi
exit 0
