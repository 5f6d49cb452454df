#!/bin/sh
# python3.sh - CPython with PYTHONMALLOC=malloc (every object through malloc)
# runs an allocation-heavy script (dicts, lists, strings, sets, json, sorting,
# a tree of objects) under LD_PRELOAD with output identical to a glibc run,
# and its small requests are served by poolgc's pools.
. "$top_srcdir/tests/preload/common.sh"

[ -n "${PYTHON3:-}" ] || skip "python3 not found by configure"
# The real interpreter, not a launcher script (pyenv shims and the like).
PY=$("$PYTHON3" -c 'import sys; print(sys.executable)') || fail "$PYTHON3 does not run"
[ -x "$PY" ] || fail "python3 executable '$PY' not found"

cat >"$tmp/work.py" <<'PYEOF'
import hashlib, json, sys

# dicts of strings and lists
d = {}
for i in range(60000):
    key = "k%05d-%s" % (i, "x" * (i % 37))
    d[key] = [i, str(i * 7), (i, i % 13), {"v": i % 101}]
print("dict", len(d), sum(len(k) for k in d))

# strings: build, split, join, replace
text = " ".join("word%d" % (i % 997) for i in range(120000))
words = text.split()
counts = {}
for w in words:
    counts[w] = counts.get(w, 0) + 1
top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
print("words", len(words), len(counts), top)
print("replace", len(text.replace("word", "w")), text[:40])

# lists: sort, slices, comprehension, deletion
lst = [(i * 7919) % 100003 for i in range(200000)]
lst.sort()
del lst[::3]
print("list", len(lst), lst[:5], lst[-5:], sum(lst[1000:2000]))

# sets and frozensets
s = set(range(0, 150000, 3)) ^ set(range(0, 150000, 5))
print("set", len(s), min(s), max(s))

# a tree of small objects, built and torn down repeatedly
class Node:
    __slots__ = ("left", "right", "val")
    def __init__(self, l, r, v):
        self.left, self.right, self.val = l, r, v

def build(depth, v):
    if depth == 0:
        return None
    return Node(build(depth - 1, 2 * v), build(depth - 1, 2 * v + 1), v)

def total(n):
    return 0 if n is None else n.val + total(n.left) + total(n.right)

for r in range(4):
    t = build(15, 1)
    print("tree", r, total(t))
    del t

# json round trip and a digest of everything
blob = json.dumps({k: d[k] for k in list(d)[:5000]}, sort_keys=True)
back = json.loads(blob)
print("json", len(blob), len(back))
print("sha256", hashlib.sha256(blob.encode() + text.encode()).hexdigest())
PYEOF

export PYTHONMALLOC=malloc PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1
compare_run python "$PY" "$tmp/work.py"
grep -q '^sha256 ' "$tmp/python.poolgc.out" || fail "the script did not finish (no sha256 line)"

stats_run python "$PY" "$tmp/work.py" || fail "python3 failed with POOLGC_STATS=json (rc $rc)"
cmp -s "$tmp/python.glibc.out" "$tmp/python.stats.out" ||
    fail "python3's output changed with POOLGC_STATS=json"
check_pools python
exit 0
