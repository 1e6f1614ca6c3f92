#!/usr/bin/env python3
"""What a load test's run wrote to PostgreSQL's WAL, per call and by table.

    python3 bench/ghz/wal.py DSN FROM TO CALLS

FROM and TO are WAL positions in bytes (pg_wal_lsn_diff(pg_current_wal_lsn(),
'0/0')) taken either side of the run; CALLS is how many calls it made.
pg_waldump reads the cluster's own WAL files, so the cluster must be local and
its data directory readable by this user (bench/ghz/evidence.sh and credit.sh
call this with WAL_STATS=1).

Each record is counted against the relation of its first block: a table, an
index (named with its table), or, for records without a block (commits), its
kind. WAL bytes are the durable work of a call, which no other load on the
machine changes; a checkpoint during the run adds full-page images, shown
apart.
"""
import collections
import re
import subprocess
import sys


def psql(dsn, sql):
    return subprocess.run(["psql", dsn, "-Atc", sql], check=True, capture_output=True, text=True).stdout


def lsn(pos):
    return f"{pos >> 32:X}/{pos & 0xFFFFFFFF:X}"


def main():
    dsn, start, end, calls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    names = {}
    for row in psql(dsn, """SELECT c.relfilenode, c.relname || coalesce(' (' || t.relname || ')', '')
        FROM pg_class c LEFT JOIN pg_index i ON i.indexrelid = c.oid LEFT JOIN pg_class t ON t.oid = i.indrelid
        WHERE c.relfilenode <> 0""").splitlines():
        node, name = row.split("|", 1)
        names[node] = name
    waldir = psql(dsn, "SHOW data_directory").strip() + "/pg_wal"
    bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip() or "/usr/lib/postgresql/15/bin"
    dump = subprocess.run([bindir + "/pg_waldump", "-p", waldir, "-s", lsn(start), "-e", lsn(end)],
                          capture_output=True, text=True)
    record = re.compile(r"^rmgr: (\S+)\s+len \(rec/tot\):\s*\d+/\s*(\d+),.*?desc: (\S+)(.*)$")
    block = re.compile(r"blkref #0: rel \d+/\d+/(\d+)")
    image = re.compile(r"FPW")
    # Records and bytes by (relation, kind of record); by relation, their sums.
    kinds, kindsize, fpi = collections.Counter(), collections.Counter(), 0
    for line in dump.stdout.splitlines():
        m = record.match(line)
        if not m:
            continue
        rmgr, total, kind, rest = m.group(1), int(m.group(2)), m.group(3), m.group(4)
        b = block.search(rest)
        where = names.get(b.group(1), "relation " + b.group(1)) if b else f"({rmgr} {kind})"
        kinds[where, rmgr + "/" + kind] += 1
        kindsize[where, rmgr + "/" + kind] += total
        if image.search(rest):
            fpi += total
    if not kinds:
        print(f"no WAL records read ({dump.stderr.strip()[:200]})")
        return
    count, size = collections.Counter(), collections.Counter()
    for (where, kind), n in kinds.items():
        count[where] += n
        size[where] += kindsize[where, kind]
    print(f"{'relation':<58} {'records/call':>12} {'bytes/call':>10}")
    for where, b in size.most_common():
        if b / calls >= 1:
            print(f"{where:<58} {count[where] / calls:>12.2f} {b / calls:>10.0f}")
    print(f"{'all':<58} {sum(count.values()) / calls:>12.2f} {sum(size.values()) / calls:>10.0f}"
          f"   (records with full-page images: {fpi / calls:.0f} bytes/call)")
    print(f"\n{'relation, kind of record':<58} {'records/call':>12} {'bytes/call':>10} {'bytes/record':>12}")
    for (where, kind), b in kindsize.most_common(15):
        n = kinds[where, kind]
        print(f"{where + ', ' + kind:<58} {n / calls:>12.2f} {b / calls:>10.0f} {b / n:>12.0f}")


if __name__ == "__main__":
    main()
