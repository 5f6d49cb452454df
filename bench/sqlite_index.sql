-- sqlite_index.sql - sqlite3 inserting and indexing, for the benchmark runner:
--   sqlite3 -cmd '.parameter set @rows 300000' :memory: < bench/sqlite_index.sql
-- (@rows: rows inserted; the runner sets it from its --scale).
-- Models a program's embedded database: bulk inserts in one transaction, an
-- index built afterwards, then lookups, a join and an aggregate. In an
-- in-memory database every page is a malloc'd page-cache entry, and the
-- parser, the planner and the row values make many small allocations, so
-- the malloc under test carries the whole run.
PRAGMA cache_size = -65536;
CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT, tag TEXT, value REAL);
CREATE TABLE tag (tag TEXT PRIMARY KEY, weight INTEGER);
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @rows)
INSERT INTO item (name, tag, value)
  SELECT hex(randomblob(4 + abs(random()) % 24)), 't' || (abs(random()) % 1000), random() / 1e12
  FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999)
INSERT INTO tag SELECT 't' || i, i % 17 FROM n;
COMMIT;
CREATE INDEX item_name ON item (name);
CREATE INDEX item_tag_value ON item (tag, value);
SELECT count(*) FROM item WHERE name BETWEEN 'A' AND 'B';
SELECT t.weight, count(*), round(avg(i.value), 3)
  FROM item i JOIN tag t ON t.tag = i.tag GROUP BY t.weight ORDER BY 1 LIMIT 3;
SELECT count(DISTINCT substr(name, 1, 3)) FROM item;
UPDATE item SET name = name || '-x' WHERE id % 7 = 0;
DELETE FROM item WHERE id % 5 = 0;
SELECT count(*), sum(length(name)) FROM item;
