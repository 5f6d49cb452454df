#!/bin/sh
# sqlite3.sh - the sqlite3 shell creates a table, inserts 30000 rows, builds
# indexes and runs grouping, joining and string queries; output identical to
# a glibc run; its small requests are served by the pools.
. "$top_srcdir/tests/preload/common.sh"
[ -n "${SQLITE3:-}" ] || skip "sqlite3 not found by configure"

cat >"$tmp/work.sql" <<'SQLEOF'
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, grp INTEGER, val REAL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000)
INSERT INTO t(name, grp, val) SELECT 'name-' || i || '-' || substr('abcdefghij', 1 + i % 10), i % 97, i * 0.5 FROM n;
CREATE INDEX t_grp ON t(grp);
CREATE INDEX t_name ON t(name);
CREATE TABLE g(grp INTEGER PRIMARY KEY, label TEXT);
INSERT INTO g SELECT DISTINCT grp, 'group ' || grp FROM t;
SELECT count(*), sum(val), min(name), max(name) FROM t;
SELECT g.label, count(*), round(avg(t.val), 2) FROM t JOIN g USING(grp) GROUP BY grp ORDER BY grp LIMIT 10;
SELECT name FROM t WHERE name LIKE 'name-29%' ORDER BY name DESC LIMIT 5;
SELECT grp, group_concat(id, ',') FROM (SELECT grp, id FROM t WHERE id % 1000 = 0 ORDER BY id) GROUP BY grp ORDER BY grp LIMIT 5;
UPDATE t SET name = upper(name) WHERE grp < 10;
DELETE FROM t WHERE id % 3 = 0;
SELECT count(*), count(DISTINCT grp), sum(length(name)) FROM t;
SELECT replace(name, '-', '_') FROM t ORDER BY id LIMIT 3;
SQLEOF

compare_run sqlite "$SQLITE3" :memory: ".read $tmp/work.sql"
[ -s "$tmp/sqlite.poolgc.out" ] || fail "sqlite3 printed nothing under poolgc"
stats_run sqlite "$SQLITE3" :memory: ".read $tmp/work.sql" || fail "sqlite3 failed with POOLGC_STATS=json (rc $rc)"
cmp -s "$tmp/sqlite.glibc.out" "$tmp/sqlite.stats.out" || fail "sqlite3's output changed with POOLGC_STATS=json"
check_pools sqlite
exit 0
