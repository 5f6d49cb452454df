"""gc_shapes.py - the shapes of gc_shapes.c in CPython, whose gc module
poolgc's collector follows (same algorithm, same generations and thresholds).

A node is an instance of a class with __slots__ ("next", "value"): a small
container tracked by the cycle detector, as close as Python gets to
gc_shapes.c's two-field node.

  rings  gc.disable(); build n objects as rings of `ring` nodes, drop the
         external references, then one gc.collect(). collect_ns per object.
  live   the same rings kept reachable from a list; gc.collect() finds
         nothing. collect_ns per object.
  auto   gc enabled, default thresholds; `live` objects stay reachable while
         a loop makes n objects as rings and drops them. total_ns per object.
  chain  gc.disable(); n objects in one linked list, freed by reference
         counting (Py_DECREF, with its trashcan) when the head is dropped.
         free_ns per object.

Usage: python3 gc_shapes.py rings|live|auto|chain [n=1000000] [ring=4] [live=100000]
Prints one line "bench: ops=... key=value ..." as the C workloads do.
"""
import gc
import sys
import time


class Node:
    __slots__ = ("next", "value")

    def __init__(self, value):
        self.next = None
        self.value = value


def make_ring(length, value):
    first = last = Node(value)
    for i in range(1, length):
        node = Node(value + i)
        last.next = node
        last = node
    last.next = first
    return first


def main(argv):
    params = {"n": 1000000, "ring": 4, "live": 100000}
    if len(argv) < 2 or argv[1] not in ("rings", "live", "auto", "chain"):
        sys.exit("usage: gc_shapes.py rings|live|auto|chain [key=value ...]")
    shape = argv[1]
    for word in argv[2:]:
        key, _, value = word.partition("=")
        if key not in params:
            sys.exit("unknown parameter %r; known: %s" % (key, ", ".join(params)))
        params[key] = int(value, 0)
    n, ring, live = params["n"], params["ring"], params["live"]

    if shape == "chain":
        gc.disable()
        t0 = time.perf_counter()
        head = None
        for i in range(n):
            node = Node(i)
            node.next = head
            head = node
        del node
        t_build = time.perf_counter() - t0
        t0 = time.perf_counter()
        head = None  # the whole list goes, one Py_DECREF after another
        t = time.perf_counter() - t0
        print("bench: ops=%d free_ns=%.1f build_ns=%.1f" % (n, t * 1e9 / n, t_build * 1e9 / n))
        return

    rings = (n if shape != "auto" else live) // ring
    if shape != "auto":
        gc.disable()
    t0 = time.perf_counter()
    root = [make_ring(ring, r) for r in range(rings)]
    t_build = time.perf_counter() - t0

    if shape == "auto":
        before = sum(s["collections"] for s in gc.get_stats())
        t0 = time.perf_counter()
        for made in range(0, n, ring):
            make_ring(ring, made)
        t = time.perf_counter() - t0
        after = sum(s["collections"] for s in gc.get_stats())
        print("bench: ops=%d total_ns=%.1f collections=%d" % (n, t * 1e9 / n, after - before))
    else:
        if shape == "rings":
            root.clear()
        t0 = time.perf_counter()
        found = gc.collect()
        t = time.perf_counter() - t0
        objects = rings * ring
        print("bench: ops=%d collect_ns=%.1f build_ns=%.1f collected=%d"
              % (objects, t * 1e9 / objects, t_build * 1e9 / objects, found))
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv)
