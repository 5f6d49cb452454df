#!/usr/bin/env python3
"""Read the JSON statistics that POOLGC_STATS=json prints at exit.

Usage (from the test scripts; run it with an un-preloaded python3):
  stats.py count FILE                 number of statistics objects in FILE
  stats.py schema FILE                check every object's keys and types
  stats.py get FILE KEY               print one value of the only object
                                      (KEY: totals.NAME or classes.NAME, the
                                      latter summed over the classes)
  stats.py check FILE COND...         check conditions on the object with the
                                      most pools_taken, then jemalloc_requests
                                      (the busiest process);
                                      COND: KEY>N, KEY>=N, KEY<=N, KEY<N, KEY==N

FILE is a captured stderr: it may hold the program's own output and one object
per process (children inherit POOLGC_STATS), each on a line of its own (JSON
Lines); anything that is not a statistics object is skipped. Keys relied on
(the contract of poolgc(3)):
  pid, program: comm, argv0
  classes[]: size, pools, blocks_in_use, free_blocks, bytes
  totals:    arenas_mapped, arenas_released, arenas_peak, pool_bytes_in_use,
             jemalloc_bytes, pools_taken
"""
import json
import operator
import re
import sys

CLASS_KEYS = ("size", "pools", "blocks_in_use", "free_blocks", "bytes")
# The largest class: the medium tier's (PGC_MEDIUM_LIMIT in lib/internal.h).
MAX_CLASS = 65536
TOTAL_KEYS = ("arenas_mapped", "arenas_released", "arenas_peak", "pool_bytes_in_use",
              "jemalloc_bytes", "pools_taken")


def objects(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    dec = json.JSONDecoder()
    found, pos = [], 0
    while True:
        start = text.find("{", pos)
        if start < 0:
            return found
        try:
            obj, end = dec.raw_decode(text, start)
        except ValueError:
            pos = start + 1
            continue
        if isinstance(obj, dict) and ("totals" in obj or "classes" in obj):
            found.append(obj)
            pos = end
        else:
            pos = start + 1


def schema_errors(obj):
    errs = []
    if not isinstance(obj.get("pid"), int):
        errs.append('"pid" = %r, want an integer' % obj.get("pid"))
    program = obj.get("program")
    if not isinstance(program, dict) or not all(
            isinstance(program.get(k), str) for k in ("comm", "argv0")):
        errs.append('"program" = %r, want {"comm": string, "argv0": string}' % (program,))
    classes, totals = obj.get("classes"), obj.get("totals")
    if not isinstance(classes, list):
        errs.append('"classes" is not a list')
        classes = []
    if not isinstance(totals, dict):
        errs.append('"totals" is not an object')
        totals = {}
    for k in TOTAL_KEYS:
        v = totals.get(k)
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            errs.append("totals.%s = %r, want an integer >= 0" % (k, v))
    last = 0
    for i, c in enumerate(classes):
        if not isinstance(c, dict):
            errs.append("classes[%d] is not an object" % i)
            continue
        for k in CLASS_KEYS:
            v = c.get(k)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                errs.append("classes[%d].%s = %r, want an integer >= 0" % (i, k, v))
        size = c.get("size")
        if isinstance(size, int):
            if size % 16 or not 16 <= size <= MAX_CLASS:
                errs.append("classes[%d].size = %d, want a multiple of 16 in 16..%d"
                            % (i, size, MAX_CLASS))
            if size <= last:
                errs.append("classes[%d].size = %d does not increase" % (i, size))
            last = size
    return errs


def value(obj, key):
    group, _, name = key.partition(".")
    if group == "totals":
        return obj["totals"][name]
    if group == "classes":
        return sum(c[name] for c in obj["classes"])
    raise SystemExit("stats.py: unknown key %s" % key)


OPS = {">=": operator.ge, "<=": operator.le, "==": operator.eq, ">": operator.gt, "<": operator.lt}


def main(argv):
    if len(argv) < 3:
        raise SystemExit(__doc__)
    cmd, path = argv[1], argv[2]
    objs = objects(path)
    if cmd == "count":
        print(len(objs))
        return 0
    if not objs:
        print("stats.py: no POOLGC_STATS=json object in %s" % path, file=sys.stderr)
        return 1
    if cmd == "schema":
        bad = 0
        for n, obj in enumerate(objs):
            for e in schema_errors(obj):
                print("stats object %d: %s" % (n, e), file=sys.stderr)
                bad += 1
        return 1 if bad else 0
    if cmd == "get":
        if len(objs) != 1:
            print("stats.py: %d statistics objects in %s, want 1" % (len(objs), path),
                  file=sys.stderr)
            return 1
        print(value(objs[0], argv[3]))
        return 0
    if cmd == "check":
        busiest = max(objs, key=lambda o: (o.get("totals", {}).get("pools_taken", -1),
                                           o.get("totals", {}).get("jemalloc_requests", -1)))
        bad = 0
        for cond in argv[3:]:
            m = re.fullmatch(r"([a-z_.]+)(>=|<=|==|>|<)(-?\d+)", cond)
            if not m:
                raise SystemExit("stats.py: bad condition %r" % cond)
            got = value(busiest, m.group(1))
            if not OPS[m.group(2)](got, int(m.group(3))):
                print("stats: want %s, got %s = %d (busiest of %d processes)"
                      % (cond, m.group(1), got, len(objs)), file=sys.stderr)
                bad += 1
        return 1 if bad else 0
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
