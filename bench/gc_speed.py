"""gc_speed.py - CPython's gc.collect() on the shapes of bench/gc_speed.c.

  garbage: N containers built as rings of R, all dropped, then collected
  live:    N containers in rings of R, all still referenced (no garbage)
  chain:   N containers in one chain, freed by reference counting when the
           head is dropped (Py_DECREF + dealloc, with CPython's trashcan)

The containers are instances of a class with __slots__ = ('next', 'value')
(one allocation each, like the C version's items); --list uses one-element
lists instead. Automatic collection is off while building.

  python3 bench/gc_speed.py [N=1000000] [R=4] [reps=5] [--list]
"""
import gc
import statistics
import sys
import time


class Item:
    __slots__ = ('next', 'value')

    def __init__(self):
        self.next = None
        self.value = 0


def build_slots(n, r):
    roots = []
    for _ in range(n // r):
        first = last = Item()
        for _ in range(r - 1):
            it = Item()
            last.next = it
            last = it
        last.next = first
        roots.append(first)
    return roots


def build_lists(n, r):
    roots = []
    for _ in range(n // r):
        first = last = [None]
        for _ in range(r - 1):
            it = [None]
            last[0] = it
            last = it
        last[0] = first
        roots.append(first)
    return roots


def build_chain(n):
    head = None
    for _ in range(n):
        it = Item()
        it.next = head
        head = it
    return head


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    n = int(args[0]) if len(args) > 0 else 1000000
    r = int(args[1]) if len(args) > 1 else 4
    reps = int(args[2]) if len(args) > 2 else 5
    kind = 'list' if '--list' in sys.argv else 'slots'
    build = build_lists if kind == 'list' else build_slots
    gc.disable()
    gc.collect()
    garbage, live, chain, found = [], [], [], 0
    for _ in range(reps):
        roots = build(n, r)
        del roots
        t = time.perf_counter()
        found = gc.collect()
        garbage.append(time.perf_counter() - t)

        roots = build(n, r)
        t = time.perf_counter()
        gc.collect()
        live.append(time.perf_counter() - t)
        del roots
        gc.collect()

        head = build_chain(n)
        t = time.perf_counter()
        del head
        chain.append(time.perf_counter() - t)
    g, l, c = statistics.median(garbage), statistics.median(live), statistics.median(chain)
    name = 'cpython%d.%d' % sys.version_info[:2]
    print('%s garbage %d objects (rings of %d, %s): %8.2f ms  %6.1f ns/object  (found %d)'
          % (name, n, r, kind, g * 1e3, g * 1e9 / n, found))
    print('%s live    %d objects (rings of %d, %s): %8.2f ms  %6.1f ns/object'
          % (name, n, r, kind, l * 1e3, l * 1e9 / n))
    print('%s chain   %d objects freed by one decref:  %8.2f ms  %6.1f ns/object'
          % (name, n, c * 1e3, c * 1e9 / n))


if __name__ == '__main__':
    main()
