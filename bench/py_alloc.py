"""py_alloc.py - an allocation-heavy Python program, run by the benchmark
runner as `PYTHONMALLOC=malloc python3 bench/py_alloc.py` so that every
object CPython makes goes through the malloc under test (poolgc's pools
then do what pymalloc would).

Models everyday Python: parsing records into dicts, building and sorting
lists of tuples, string formatting and joining, a JSON round trip, class
instances in a graph with reference cycles that the gc module collects.

Usage: python3 py_alloc.py [scale=1.0]   (work grows linearly with scale)
Prints one line "bench: ops=<records> ..." as the C workloads do.
"""
import gc
import json
import random
import sys


class Item:
    def __init__(self, key, parent):
        self.key = key
        self.parent = parent
        self.children = []
        if parent is not None:
            parent.children.append(self)  # child <-> parent: a cycle


def records(n, rng):
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    for i in range(n):
        yield "%d,%s,%s,%.3f" % (i, rng.choice(words), rng.choice(words) * rng.randint(1, 4),
                                 rng.random() * 1000)


def main(argv):
    scale = 1.0
    for word in argv[1:]:
        key, _, value = word.partition("=")
        if key != "scale":
            sys.exit("unknown parameter %r; known: scale" % key)
        scale = float(value)
    n = int(200000 * scale)
    rng = random.Random(1)

    # parse CSV-like lines into dicts, index them
    rows = []
    for line in records(n, rng):
        ident, a, b, value = line.split(",")
        rows.append({"id": int(ident), "a": a, "b": b, "value": float(value)})
    by_word = {}
    for row in rows:
        by_word.setdefault(row["a"], []).append(row)

    # tuples, sorting, aggregation
    pairs = sorted(((r["b"], r["value"], r["id"]) for r in rows), reverse=True)
    totals = {}
    for b, value, _ in pairs:
        totals[b] = totals.get(b, 0.0) + value

    # strings: formatting and joining
    text = "\n".join("%s=%s" % (k, ",".join(str(r["id"]) for r in v[:50]))
                     for k, v in by_word.items())
    words = text.replace("=", " ").replace(",", " ").split()

    # a JSON round trip of part of the data
    blob = json.dumps(rows[: n // 4])
    back = json.loads(blob)

    # a tree of instances with parent links: cycles for the gc module
    root = Item("root", None)
    nodes = [root]
    for i in range(n // 2):
        nodes.append(Item(i, nodes[rng.randrange(len(nodes))]))
    del nodes, root
    collected = gc.collect()

    print("bench: ops=%d words=%d json=%d collected=%d groups=%d"
          % (n, len(words), len(back), collected, len(totals)))


if __name__ == "__main__":
    main(sys.argv)
