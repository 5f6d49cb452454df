#!/usr/bin/env python3
"""run.py - poolgc's benchmark runner.

Runs every workload of bench/ under glibc, jemalloc, mimalloc, tcmalloc and
poolgc (each but glibc by LD_PRELOAD), interleaved (A B C D E A B C D E ...)
for several repetitions, and reports the median wall time, CPU time (user +
sys) and peak RSS of each, with poolgc's ratio to every peer. The GC
workloads compare poolgc's collector with CPython's gc module and Boehm GC
on the same object shapes. A thread sweep charts throughput against the
thread count.

Output: a Markdown report on stdout and in <out>/latest.md (<out> is
bench/results unless --out says otherwise), PNG charts drawn by gnuplot
next to it, every sample in <out>/raw/latest.json. Progress goes to stderr.

    python3 bench/run.py                      # everything (what `make bench` runs)
    python3 bench/run.py --quick              # short parameters (`make bench-quick`)
    python3 bench/run.py --only churn,larson --reps 3
    python3 bench/run.py --sweep-only --max-threads 16 --reps 3
    python3 bench/run.py --replot other/raw/scaling-16c.json   # redraw, run nothing
    python3 bench/run.py --list               # the workloads and what they model

Only the Python standard library is used. The workload programs are built by
`make bench-programs` (the runner asks make for them when they are missing).
"""

import argparse
import copy
import glob
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.path.dirname(BENCH_DIR)
# scripts/build.sh builds in build/; an in-place build (./configure in the
# source tree) is used when there is none.
DEFAULT_BUILDDIR = (os.path.join(TOP_SRCDIR, "build")
                    if os.path.exists(os.path.join(TOP_SRCDIR, "build", "Makefile"))
                    else TOP_SRCDIR)

# Debian packages the suite uses; installed with apt-get when missing.
PACKAGES = ["libjemalloc-dev", "libmimalloc-dev", "libgoogle-perftools-dev", "libgc-dev",
            "gnuplot-nox", "time"]

# (name, the shared object preloaded, the Debian package that has it)
PEERS = [
    ("glibc", None, "libc6"),
    ("jemalloc", "libjemalloc.so.2", "libjemalloc2"),
    ("mimalloc", "libmimalloc.so.2", "libmimalloc2.0"),
    ("tcmalloc", "libtcmalloc_minimal.so.4", "libtcmalloc-minimal4"),
]
POOLGC = "poolgc"
# chart colours, one per column, the same in every chart
COLOURS = {"glibc": "#7f7f7f", "jemalloc": "#1f77b4", "mimalloc": "#2ca02c",
           "tcmalloc": "#ff7f0e", "poolgc": "#d62728", "CPython": "#9467bd",
           "Boehm": "#8c564b"}

SKIP_STATUS = 77  # a workload that cannot run here (automake's convention)


# ---- the workloads -------------------------------------------------------

class Workload:
    """One program and its parameters. `argv(ctx)` builds the command line;
    work that grows with --scale is scaled there. `threads_param` names the
    parameter a thread sweep varies (None: not swept)."""

    def __init__(self, name, group, about, argv, env=None, stdin=None,
                 threads_param=None, binary=None):
        self.name, self.group, self.about = name, group, about
        self.argv, self.env, self.stdin = argv, env or {}, stdin
        self.threads_param, self.binary = threads_param, binary


def scaled(ctx, n):
    return max(1, int(n * ctx.scale))


def pairs_for(threads):
    return max(1, threads // 2)


ALLOC_WORKLOADS = [
    Workload("churn", "alloc",
             "one thread replaces small objects of a 100k live set; 2 temporaries per step",
             lambda c: [c.bin("churn"), "iters=%d" % scaled(c, 2000000)], binary="churn"),
    Workload("threads", "alloc",
             "N threads each churn their own small objects (nothing shared)",
             lambda c: [c.bin("threads"), "threads=%d" % c.threads,
                        "iters=%d" % scaled(c, 3000000)],
             threads_param="threads", binary="threads"),
    Workload("prodcons", "alloc",
             "N/2 producer/consumer pairs; every message freed by the other thread",
             lambda c: [c.bin("prodcons"), "pairs=%d" % pairs_for(c.threads),
                        "items=%d" % scaled(c, 8000000)],
             threads_param="pairs", binary="prodcons"),
    Workload("larson", "alloc",
             "server simulation: N thread chains, 8..1000 B, tables handed to successor threads",
             lambda c: [c.bin("larson"), "threads=%d" % c.threads,
                        "iters=%d" % scaled(c, 300000)],
             threads_param="threads", binary="larson"),
    Workload("realloc", "alloc",
             "64 strings and vectors growing by appends, up to 64 KiB",
             lambda c: [c.bin("realloc"), "appends=%d" % scaled(c, 15000000)],
             binary="realloc"),
    Workload("mixed", "alloc",
             "small requests mixed with 8% up to 64 KiB and 0.4% up to 1 MiB",
             lambda c: [c.bin("mixed"), "iters=%d" % scaled(c, 4000000)], binary="mixed"),
    Workload("frag", "alloc",
             "allocate 16..128 B, free a random 90%, allocate 129 B..8 KiB",
             lambda c: [c.bin("frag"), "count=%d" % scaled(c, 1500000)], binary="frag"),
    Workload("medium", "alloc",
             "one thread replaces 513 B..8 KiB buffers (log-uniform) of a 10k live set",
             lambda c: [c.bin("medium"), "iters=%d" % scaled(c, 2000000)], binary="medium"),
    Workload("huge", "alloc",
             "4 blocks of 5..25 MiB, one replaced per step, every page written",
             lambda c: [c.bin("huge"), "iters=%d" % scaled(c, 2000)], binary="huge"),
    Workload("grow", "alloc",
             "a buffer grown to 512 MiB by malloc, copy and free (8 steps per doubling)",
             lambda c: [c.bin("huge"), "shape=1", "steps=8", "idle=0"], binary="huge"),
    Workload("spawn", "alloc",
             "rounds of N new threads, 1% of requests 8 KiB..1 MiB, blocks outlive their thread",
             lambda c: [c.bin("spawn"), "threads=%d" % c.threads,
                        "rounds=%d" % scaled(c, 200)],
             threads_param="threads", binary="spawn"),
    Workload("python", "real",
             "PYTHONMALLOC=malloc python3 bench/py_alloc.py (dicts, tuples, JSON, cycles)",
             lambda c: [c.python, os.path.join(BENCH_DIR, "py_alloc.py"),
                        "scale=%g" % c.scale],
             env={"PYTHONMALLOC": "malloc", "PYTHONHASHSEED": "0"}),
    Workload("gcc", "real",
             "gcc -O2 -c on a generated C file (driver, cc1 and as all preloaded)",
             lambda c: [c.gcc, "-O2", "-c", c.gcc_input(), "-o",
                        os.path.join(c.workdir, "gcc_input.o")]),
    Workload("sqlite", "real",
             "sqlite3 :memory: bench/sqlite_index.sql: bulk insert, 2 indexes, join, update",
             lambda c: [c.sqlite3, "-cmd", ".parameter set @rows %d" % scaled(c, 200000),
                        ":memory:"],
             stdin=os.path.join(BENCH_DIR, "sqlite_index.sql")),
]

# GC shapes: each is run by three implementations of the same program.
GC_SHAPES = [
    ("gc-rings", "rings", "collect_ns",
     "n objects in 4-node rings, external references dropped, one full collection"),
    ("gc-live", "live", "collect_ns",
     "the same rings kept reachable: one full collection that finds nothing"),
    ("gc-auto", "auto", "total_ns",
     "allocate n objects as dropped rings with a live set; collections left to the thresholds"),
    ("gc-chain", "chain", "free_ns",
     "n objects in one list, freed by reference counting when the head is dropped "
     "(Boehm: GC_gcollect after dropping it)"),
]
GC_IMPLS = [
    ("poolgc", lambda c, shape: [c.bin("gc_shapes"), shape, "n=%d" % scaled(c, 1000000)]),
    ("CPython", lambda c, shape: [c.python, os.path.join(BENCH_DIR, "gc_shapes.py"), shape,
                                  "n=%d" % scaled(c, 1000000)]),
    ("Boehm", lambda c, shape: [c.bin("gc_shapes_boehm"), shape,
                                "n=%d" % scaled(c, 1000000)]),
]
GC_BINARIES = {"poolgc": "gc_shapes", "Boehm": "gc_shapes_boehm"}

QUICK_SCALE = 0.3
QUICK_REPS = 3
DEFAULT_REPS = 5  # `make bench`, the figure of record


# ---- the machine and its tools -------------------------------------------

def log(msg):
    print(msg, file=sys.stderr, flush=True)


def core_count():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def dpkg_version(package):
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Status}|${Version}", package],
                             capture_output=True, text=True)
    except OSError:
        return None
    status, _, version = out.stdout.partition("|")
    return version if out.returncode == 0 and "ok installed" in status else None


def ensure_packages(install):
    """Install the peers and gnuplot from Debian when missing (as root)."""
    if not shutil.which("dpkg-query"):
        log("note: not a Debian system; install %s by hand if missing" % " ".join(PACKAGES))
        return
    missing = [p for p in PACKAGES if dpkg_version(p) is None]
    if not missing:
        return
    if not install or os.geteuid() != 0 or not shutil.which("apt-get"):
        log("warning: missing packages %s (apt-get install -y %s); "
            "the allocators or charts they provide are skipped"
            % (" ".join(missing), " ".join(missing)))
        return
    log("installing %s ..." % " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing
    if subprocess.call(cmd, env=env, stdout=sys.stderr) != 0:
        subprocess.call(["apt-get", "update", "-qq"], env=env, stdout=sys.stderr)
        if subprocess.call(cmd, env=env, stdout=sys.stderr) != 0:
            log("warning: apt-get could not install %s" % " ".join(missing))


def find_shared_object(soname, first_dir=None):
    """The path of a shared object by its soname: `first_dir`, ldconfig's
    cache (an entry of this machine's word size), the usual directories."""
    if first_dir and os.path.exists(os.path.join(first_dir, soname)):
        return os.path.abspath(os.path.join(first_dir, soname))
    try:
        cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    except OSError:
        cache = ""
    # "\tlibmimalloc.so.2 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libmimalloc.so.2"
    for line in cache.splitlines():
        m = re.match(r"\s*(\S+) \((.*)\) => (\S+)$", line)
        if m and m.group(1) == soname and ("64" in m.group(2)) == (sys.maxsize > 2 ** 32):
            return m.group(3)
    for d in glob.glob("/usr/lib/*-linux-gnu") + ["/usr/lib64", "/usr/lib", "/usr/local/lib"]:
        path = os.path.join(d, soname)
        if os.path.exists(path):
            return path
    return None


def clean_env(extra=None):
    """The environment of every run: no allocator settings inherited from the
    caller's shell, the C locale."""
    env = {k: v for k, v in os.environ.items()
           if k != "LD_PRELOAD" and not k.startswith(("POOLGC_", "MALLOC_", "MIMALLOC_",
                                                      "TCMALLOC_", "JE_MALLOC", "PYTHONMALLOC",
                                                      "GC_"))}
    env["LC_ALL"] = "C"
    env.update(extra or {})
    return env


# ---- running one program -------------------------------------------------

# Peak RSS comes from GNU time (%M), not from our own wait4: Linux carries a
# parent's peak RSS into a forked child through exec (signal->maxrss), so
# every program forked by this ~20 MiB Python would report at least that.
# time is small, and the program it forks reports its own peak.
TIME = "/usr/bin/time"


def run_once(argv, env, stdin_path, timeout, cwd, preload=None):
    """Run a program to completion, with `preload` as its LD_PRELOAD (set by
    env(1) so that time(1) itself runs on glibc): its wall time, CPU time
    (user + sys, from wait4), peak RSS and its parsed "bench:" line."""
    if preload:
        argv = ["env", "LD_PRELOAD=" + preload] + argv
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(mode="r") as peak:
        if os.access(TIME, os.X_OK):
            argv = [TIME, "-f", "%M", "-o", peak.name] + argv
        stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
        t0 = time.perf_counter()
        try:
            proc = subprocess.Popen(argv, env=env, stdin=stdin, stdout=out, stderr=err, cwd=cwd,
                                    start_new_session=True)
        except OSError as e:
            return {"status": "fail", "why": str(e)}
        finally:
            if stdin_path:
                stdin.close()
        # on timeout, kill the whole session: time, the program, its children
        timer = threading.Timer(timeout, os.killpg, (proc.pid, 9))
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
        # time writes "Command exited with non-zero status N" before the value
        lines = peak.read().split()
        rss_kb = int(lines[-1]) if lines and lines[-1].isdigit() else usage.ru_maxrss

    sample = {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_kb": rss_kb,
              "rc": proc.returncode, "status": "ok"}
    for line in stdout.splitlines():
        if line.startswith("bench: "):
            for word in line[len("bench: "):].split():
                key, _, value = word.partition("=")
                try:
                    sample[key] = float(value)
                except ValueError:
                    sample[key] = value
    if "cannot be preloaded" in stderr:
        sample.update(status="fail", why=stderr.strip().splitlines()[0])
    elif proc.returncode == SKIP_STATUS or "skip" in sample:
        sample.update(status="skip", why=str(sample.get("reason", stdout.strip())))
    elif proc.returncode != 0:
        tail = (stderr.strip() or stdout.strip()).splitlines()[-3:]
        sample.update(status="fail",
                      why="exit %d%s" % (proc.returncode, ": " + " | ".join(tail) if tail else ""))
    return sample


class Context:
    """What a workload's command line is built from."""

    def __init__(self, args, bindir, workdir, threads):
        self.scale, self.threads = args.scale, threads
        self.bindir, self.workdir = bindir, workdir
        self.python, self.gcc, self.sqlite3 = args.python, args.gcc, args.sqlite3

    def with_threads(self, threads):
        c = copy.copy(self)
        c.threads = threads
        return c

    def bin(self, name):
        return os.path.join(self.bindir, name)

    def gcc_input(self):
        path = os.path.join(self.workdir, "gcc_input.c")
        if not os.path.exists(path):
            with open(path, "w") as f:
                f.write(generate_c_source(scaled(self, 50)))
        return path


def generate_c_source(functions):
    """A C file for the gcc workload: structs, constant tables, inline helpers
    and functions with loops and switches; about 36 ms of `gcc -O2` each."""
    out = ["/* generated by bench/run.py: the gcc workload's input */",
           "#include <stddef.h>", "#include <string.h>", ""]
    for i in range(functions):
        cases = 5 + i % 7
        fields = 4 + i % 13
        table = 16 + i % 32
        out += [
            "struct rec%d { int a, b[%d]; double d; const char *s; struct rec%d *next; };"
            % (i, fields, i),
            "static const int tab%d[] = { %s };"
            % (i, ", ".join(str((i * 31 + k * 7) % 97) for k in range(table))),
            "static inline int helper%d(int x) { return x * %d + tab%d[x %% %d]; }"
            % (i, i % 11 + 1, i, table),
            "int func%d(struct rec%d *r, int n, char *buf) {" % (i, i),
            "  int acc = %d;" % i,
            "  for (int k = 0; k < n; k++, r = r->next) {",
            "    switch ((r->a + k) %% %d) {" % cases,
        ]
        out += ["    case %d: acc += helper%d(r->b[%d]) ^ (int)(r->d * %d.5); break;"
                % (c, i, c % fields, c) for c in range(cases)]
        out += [
            "    default: acc -= (int)strlen(r->s);",
            "    }",
            "    if (acc > %d) { memcpy(buf, r->s, (size_t)(acc & 15)); acc /= 3; }" % (1000 + i),
            "  }",
            "  return acc;",
            "}",
            "",
        ]
    return "\n".join(out) + "\n"


# ---- the plan: which program under which allocator ----------------------

class Job:
    def __init__(self, table, row, column, argv, env, stdin, preload=None):
        self.table, self.row, self.column = table, row, column
        self.argv, self.env, self.stdin, self.preload = argv, env, stdin, preload


def plan_jobs(args, ctx, allocators, workloads, gc_shapes, sweep):
    """Jobs in run order: per workload, the allocators interleaved
    (A B C D E A B C D E ...), so a disturbance of the machine spreads
    over all of them instead of falling on one."""
    jobs = []
    for w in workloads:
        for _ in range(args.reps):
            for name, lib in allocators:
                jobs.append(Job("main", w.name, name, w.argv(ctx), clean_env(w.env), w.stdin,
                                lib))
    for row, shape, _, _ in gc_shapes:
        for _ in range(args.reps):
            for name, make_argv in GC_IMPLS:
                jobs.append(Job("gc", row, name, make_argv(ctx, shape), clean_env(), None))
    for w in sweep["workloads"]:
        for t in sweep["threads"]:
            if w.threads_param == "pairs" and t < 2:
                continue  # a pair is two threads
            tctx = ctx.with_threads(t)
            for _ in range(args.reps):
                for name, lib in allocators:
                    jobs.append(Job("sweep", (w.name, t), name, w.argv(tctx),
                                    clean_env(w.env), w.stdin, lib))
    return jobs


def run_jobs(jobs, args, workdir):
    samples = {}
    started = time.time()
    width = max([len(str(j.row)) for j in jobs] + [8])
    for i, job in enumerate(jobs, 1):
        s = run_once(job.argv, job.env, job.stdin, args.timeout, workdir, job.preload)
        samples.setdefault(job.table, {}).setdefault(str_key(job.row), {}) \
            .setdefault(job.column, []).append(s)
        elapsed = time.time() - started
        eta = elapsed / i * (len(jobs) - i)
        row = job.row if isinstance(job.row, str) else "%s@%d" % job.row
        if s["status"] == "ok":
            what = "%7.3f s %8.1f MiB" % (s["wall"], s["rss_kb"] / 1024)
        else:
            what = "%s: %s" % (s["status"], s.get("why", ""))[:70]
        log("[%*d/%d] %-*s %-9s %s   eta %s" % (len(str(len(jobs))), i, len(jobs), width, row,
                                               job.column, what, duration(eta)))
    return samples


def str_key(row):
    return row if isinstance(row, str) else "%s@%d" % row


def duration(seconds):
    seconds = int(seconds + 0.5)
    return "%dm%02ds" % (seconds // 60, seconds % 60) if seconds >= 60 else "%ds" % seconds


# ---- statistics and the report ------------------------------------------

def summary(cell):
    """Medians of a cell's successful samples; None when none succeeded."""
    ok = [s for s in cell if s["status"] == "ok"]
    if not ok:
        return None
    med = {}
    for key in ok[0]:
        values = [s[key] for s in ok if isinstance(s.get(key), float) or
                  isinstance(s.get(key), int) and not isinstance(s.get(key), bool)]
        if len(values) == len(ok):
            med[key] = statistics.median(values)
    walls = sorted(s["wall"] for s in ok)
    q1, _, q3 = statistics.quantiles(walls, n=4) if len(walls) > 1 else (walls[0],) * 3
    med["spread"] = (q3 - q1) / med["wall"] if med["wall"] else 0.0  # interquartile
    med["n"] = len(ok)
    return med


def cell_status(cell):
    """Why a cell has no value: 'skip' or 'fail' with the first reason."""
    for s in cell:
        if s["status"] != "ok":
            return s["status"], s.get("why", "")
    return "ok", ""


def fmt(value, digits=3):
    if value is None:
        return "–"
    if value == 0:
        return "0"
    magnitude = len(str(int(abs(value)))) if abs(value) >= 1 else 0
    return "%.*f" % (max(0, digits - magnitude), value)


def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


def fmt_ratio(r):
    return "–" if r is None else "%.2f" % r


def md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(["---"] + ["--:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def metric_table(main, rows, columns, metric, scale, digits, peers):
    """Rows of workloads, a column per allocator (the best in bold, a
    dagger where the middle half of the wall times spans more than 20% of
    the median), then poolgc's ratio to each peer."""
    has_poolgc = POOLGC in columns
    header = ["workload"] + columns + (["poolgc/" + p for p in peers] if has_poolgc else [])
    out, notes = [], []
    for row in rows:
        cells = main.get(row, {})
        values = {c: summary(cells.get(c, [])) for c in columns}
        nums = {c: (v[metric] * scale if v and metric in v else None) for c, v in values.items()}
        present = [n for n in nums.values() if n is not None]
        best = min(present) if present else None
        line = [row]
        for c in columns:
            if nums[c] is None:
                status, why = cell_status(cells.get(c, []))
                line.append(status if status != "ok" else "–")
                if status != "ok":
                    notes.append("%s under %s: %s" % (row, c, why))
                continue
            text = fmt(nums[c], digits)
            if nums[c] == best and len(present) > 1:
                text = "**%s**" % text
            if metric == "wall" and values[c]["spread"] > 0.2:
                text += "†"
            line.append(text)
        if has_poolgc:
            line += [fmt_ratio(ratio(nums[POOLGC], nums[p])) for p in peers]
        out.append(line)
    return md_table(header, out), notes


def build_report(data, out_dir):
    meta, samples = data["meta"], data["samples"]
    columns = meta["allocators"]
    peers = [c for c in columns if c != POOLGC]
    main = samples.get("main", {})
    rows = [w for w in meta["workloads"] if w in main]
    md = ["# poolgc benchmark results", ""]
    md += machine_lines(meta)
    notes = []
    if rows:
        md += ["Each cell is the median of %d runs; the allocators ran interleaved. "
               "**Bold**: the best of the row. †: a noisy cell, whose middle half of wall "
               "times (interquartile range) spans more than 20%% of the median. "
               "poolgc/peer < 1.00 means poolgc is better (faster, or smaller)."
               % meta["reps"], ""]
        for title, metric, scale, digits in [
                ("Wall time (seconds)", "wall", 1.0, 3),
                ("CPU time, user + sys (seconds)", "cpu", 1.0, 3),
                ("Peak RSS (MiB)", "rss_kb", 1 / 1024, 3)]:
            table, table_notes = metric_table(main, rows, columns, metric, scale, digits, peers)
            md += ["## " + title, "", table, ""]
            notes += table_notes
        md += frag_section(main, columns)
        md += ["Workloads:", ""]
        md += ["- **%s**: %s" % (w, meta["about"].get(w, "")) for w in rows]
        md += [""]
    gc = samples.get("gc", {})
    if gc:
        md += gc_section(gc, meta)
    sweep = samples.get("sweep", {})
    if sweep:
        md += sweep_section(sweep, meta, columns)
    if rows or gc:
        md += targets_section(main, gc, rows, columns, peers)
    charts = [c for c in ("time.png", "rss.png", "gc.png", meta.get("scaling_chart") or "")
              if c and os.path.exists(os.path.join(out_dir, c))]
    if charts:
        md += ["## Charts", ""] + ["![%s](%s)" % (c[:-4], c) for c in charts] + [""]
    others = sorted(os.path.basename(p) for p in glob.glob(os.path.join(out_dir, "scaling-*.md")))
    if others and meta.get("kind") != "sweep":
        md += ["Thread sweeps recorded on other machines: " +
               ", ".join("[%s](%s)" % (o[:-3], o) for o in others), ""]
    if notes:
        md += ["Cells without a value:", ""] + ["- " + n for n in sorted(set(notes))] + [""]
    return "\n".join(md).rstrip() + "\n"


def machine_lines(meta):
    m = meta["machine"]
    lines = [
        "- Machine: %d cores (`nproc`), %s, Linux %s, glibc %s" % (
            m["cores"], m["cpu"], m["kernel"], m["glibc"]),
        "- Allocators: " + ", ".join("%s %s" % (k, v) for k, v in m["versions"].items()),
        "- Date: %s; poolgc commit %s" % (meta["date"], m["commit"]),
        "- Command: `%s`" % meta["command"],
        "- Repetitions: %s" % reps_line(meta),
        "",
    ]
    return lines


def reps_line(meta):
    """How this run compares with the figure of record: `make bench`, 5
    repetitions (the default) at scale 1."""
    reps, scale = meta.get("reps", 0), meta.get("scale", 1.0)
    text = "%d per allocator, scale %g. " % (reps, scale)
    if reps >= DEFAULT_REPS and scale == 1.0:
        return text + ("The figure of record: `make bench`, at %d or more repetitions "
                       "(%d is the default) and full scale." % (DEFAULT_REPS, DEFAULT_REPS))
    return text + ("Indicative only: the figure of record is `make bench`, at %d or more "
                   "repetitions (%d is the default) and full scale." % (DEFAULT_REPS, DEFAULT_REPS))


def frag_section(main, columns):
    cells = main.get("frag")
    if not cells:
        return []
    keys = [("live_kb", "live"), ("rss_load", "after load"), ("rss_freed", "after free 90%"),
            ("rss_final", "final"), ("rss_empty", "all freed"), ("rss_peak", "peak")]
    rows = []
    for c in columns:
        v = summary(cells.get(c, []))
        if not v or "rss_final" not in v:
            continue
        rows.append([c] + [fmt(v[k] / 1024) for k, _ in keys] +
                     ["%.2f" % (v["rss_final"] / v["live_kb"]) if v.get("live_kb") else "–"])
    if not rows:
        return []
    return ["## Fragmentation (frag, RSS in MiB at each phase)", "",
            md_table(["allocator"] + [label for _, label in keys] + ["final/live"], rows),
            "", "final/live: resident memory per byte the program holds after the size mix "
            "changed (1.00 would be no overhead).", ""]


GC_COLUMNS = [name for name, _ in GC_IMPLS]


def gc_section(gc, meta):
    rows, rss_rows, notes = [], [], []
    for row, _, metric, about in GC_SHAPES:
        cells = gc.get(row)
        if not cells:
            continue
        vals = {}
        line, rss_line = [row], [row]
        for c in GC_COLUMNS:
            v = summary(cells.get(c, []))
            vals[c] = v.get(metric) if v else None
            if vals[c] is None:
                status, why = cell_status(cells.get(c, []))
                line.append(status)
                rss_line.append(status)
                notes.append("%s under %s: %s" % (row, c, why))
            else:
                line.append(fmt(vals[c]))
                rss_line.append(fmt(v["rss_kb"] / 1024))
        line += [fmt_ratio(ratio(vals["poolgc"], vals["CPython"])),
                 fmt_ratio(ratio(vals["poolgc"], vals["Boehm"]))]
        rows.append(line)
        rss_rows.append(rss_line)
    md = ["## GC: cost per object (nanoseconds)", "",
          "The same shapes built with poolgc's objects (`-lpoolgc`), CPython's gc module "
          "(%s) and Boehm GC (`GC_gcollect`); n = %d objects, in 4-node rings except "
          "gc-chain. gc-rings and gc-live: time of one full collection per object; gc-auto: "
          "time per object allocated, collections included; gc-chain: time per object freed "
          "by dropping the head of a list. Boehm sweeps lazily, during later allocations, so "
          "its garbage shapes (gc-rings, gc-chain) measure little more than marking the "
          "roots." % (meta.get("python_version", "python3"), meta.get("gc_objects", 0)), "",
          md_table(["shape"] + GC_COLUMNS + ["poolgc/CPython", "poolgc/Boehm"], rows), "",
          "Peak RSS of the same runs (MiB):", "",
          md_table(["shape"] + GC_COLUMNS, rss_rows), ""]
    md += ["- **%s**: %s" % (row, about) for row, _, _, about in GC_SHAPES if row in gc]
    md += [""]
    if notes:
        md += ["Cells without a value:", ""] + ["- " + n for n in sorted(set(notes))] + [""]
    return md


def sweep_rows(sweep, workload):
    return sorted((int(k.split("@")[1]), k) for k in sweep if k.split("@")[0] == workload)


def sweep_section(sweep, meta, columns):
    md = ["## Thread scaling (throughput, million operations per second)", "",
          "Work per thread is fixed, so a scalable allocator keeps its throughput growing "
          "with the thread count up to the core count (%d here). prodcons runs threads/2 "
          "pairs." % meta["machine"]["cores"], ""]
    rows = []
    for w in meta["sweep_workloads"]:
        for t, key in sweep_rows(sweep, w):
            line = [w, str(t)]
            for c in columns:
                v = summary(sweep[key].get(c, []))
                line.append(fmt(v["ops"] / v["wall"] / 1e6) if v and "ops" in v else
                            cell_status(sweep[key].get(c, []))[0])
            rows.append(line)
    md += [md_table(["workload", "threads"] + columns, rows), ""]
    return md


def targets_section(main, gc, rows, columns, peers):
    """The project's aims, checked: where poolgc falls short, by how much."""
    if POOLGC not in columns:
        return []
    short, met, info = [], [], []

    def med(row, col, metric):
        v = summary(main.get(row, {}).get(col, []))
        return v.get(metric) if v else None

    for row in rows:
        mine = med(row, POOLGC, "wall")
        if mine is None:
            short.append("%s: poolgc has no result" % row)
            continue
        cand = [(med(row, p, "wall"), p) for p in peers if med(row, p, "wall") is not None]
        ref, ref_name = min(cand) if cand else (None, None)
        if ref:
            r = mine / ref
            (met if r <= 1.0 else short).append(
                "%s time: %.2f× %s, the fastest peer%s" % (row, r, ref_name, "" if r <= 1.0 else
                                         " (%.0f%% slower)" % ((r - 1) * 100)))
        rss = med(row, POOLGC, "rss_kb")
        cand = [(med(row, p, "rss_kb"), p) for p in peers if med(row, p, "rss_kb") is not None]
        if rss and cand:
            lean, lean_name = min(cand)
            r = rss / lean
            (met if r <= 1.10 else short).append(
                "%s peak RSS: %.2f× %s, the leanest peer%s" % (
                    row, r, lean_name, "" if r <= 1.10 else " (%.0f%% above, %+.1f MiB)"
                    % ((r - 1) * 100, (rss - lean) / 1024)))
    for row, _, metric, _ in GC_SHAPES:
        cells = gc.get(row, {})
        mine = summary(cells.get("poolgc", []))
        py = summary(cells.get("CPython", []))
        if mine and py and metric in mine and metric in py and mine[metric] > 0:
            speedup = py[metric] / mine[metric]
            if metric != "collect_ns":  # no aim: not a collection
                info.append("%s: %.1f× CPython's speed per object" % (row, speedup))
                continue
            (met if speedup >= 3 else short).append(
                "%s: collection %.1f× faster per object than CPython's" % (row, speedup))
    md = ["## Aims", "",
          "poolgc aims to be at or below the best peer's wall time on every workload, to "
          "keep peak RSS within 10% of the leanest peer's, and to collect garbage several "
          "(counted here as 3 or more) times faster per object than CPython's gc module.", ""]
    md += ["Short of an aim:", ""] + (["- " + s for s in short] or ["- nothing"]) + [""]
    md += ["Met:", ""] + (["- " + s for s in met] or ["- nothing"]) + [""]
    if info:
        md += ["Without an aim (not a collection):", ""] + ["- " + s for s in info] + [""]
    return md


# ---- charts (gnuplot) ----------------------------------------------------

def gp_quote(s):
    """A gnuplot double-quoted string; a newline in s becomes a line break."""
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def bar_chart(path, panels, rows, columns, logscale=None, ref_line=None, width=1280):
    """Clustered bars, one panel per (data file, title, y label) stacked
    vertically: one cluster per data row, one bar per column in the column's
    colour from COLOURS; '?' in the data is a missing bar. The data file's
    header line is a comment: each bar's legend entry is its column's name,
    given explicitly with its colour, in the order of the bars, the colour
    swatch before the name. logscale: the smallest value, for a log y axis
    that starts below it."""
    lines = [
        "set terminal pngcairo size %d,%d font 'DejaVu Sans,11' noenhanced"
        % (width, 480 * len(panels) + 40),
        "set output %s" % gp_quote(path),
        "set datafile missing '?'",
        "set style data histograms",
        "set style histogram clustered gap 1",
        "set style fill solid 0.9 border rgb '#333333'",
        "set boxwidth 0.9",
        "set key top left horizontal reverse Left samplen 2 width 1",
        "set grid ytics",
        "set xtics nomirror",
        "set xrange [-0.6:%g]" % (rows - 0.4),
    ]
    if logscale:
        lines += ["set logscale y", "set yrange [%g:*]" % (10 ** math.floor(math.log10(logscale)))]
    else:
        lines += ["set yrange [0:*]", "set offsets 0, 0, graph 0.12, 0"]
    if ref_line is not None:
        lines += ["set arrow from graph 0, first %g to graph 1, first %g nohead dt 2 "
                  "lc rgb '#000000'" % (ref_line, ref_line)]
    lines += ["set multiplot layout %d,1" % len(panels)]
    for dat, title, ylabel in panels:
        plots = ["%s using %d%s title %s linecolor rgb %s"
                 % (gp_quote(dat) if i == 0 else "''", i + 2, ":xtic(1)" if i == 0 else "",
                    gp_quote(c), gp_quote(COLOURS.get(c, "#000000")))
                 for i, c in enumerate(columns)]
        lines += ["set title %s" % gp_quote(title), "set ylabel %s" % gp_quote(ylabel),
                  "plot " + ", ".join(plots)]
    lines += ["unset multiplot", "unset arrow", "unset logscale y", "set offsets 0, 0, 0, 0",
              ""]
    return "\n".join(lines)


def line_chart_multi(path, panels, columns, cores, threads):
    """One panel per (title, data file): throughput against threads, a line
    per column, on a log2 axis ticked at the thread counts."""
    n = len(panels)
    lines = [
        "set terminal pngcairo size %d,500 font 'DejaVu Sans,11' noenhanced" % (420 * n + 40),
        "set output %s" % gp_quote(path),
        "set datafile missing '?'",
        "set multiplot layout 1,%d title %s" % (
            n, gp_quote("Throughput (million operations per second) against the number of "
                        "threads, %d cores; higher is better" % cores)),
        "set logscale x 2",
        "set xrange [%g:%g]" % (min(threads) / 1.3, max(threads) * 1.3),
        "set xtics (%s)" % ", ".join(str(t) for t in threads),
        "set grid",
        "set key below horizontal reverse Left samplen 2 width 1 font ',10'",
        "set ylabel 'million ops / s'",
        "set yrange [0:*]",
        "set offsets 0, 0, graph 0.1, 0",
    ]
    for title, dat in panels:
        lines.append("set title %s" % gp_quote(title))
        lines.append("plot " + ", ".join(
            "%s using 1:%d with linespoints lw 2 pt 7 linecolor rgb %s title %s"
            % (gp_quote(dat), i + 2, gp_quote(COLOURS.get(c, "#000000")), gp_quote(c))
            for i, c in enumerate(columns)))
    lines += ["unset multiplot", "unset logscale x", "set xtics autofreq", "set offsets 0, 0, 0, 0",
              ""]
    return "\n".join(lines)


def draw_charts(data, out_dir, raw_dir):
    """Write the data files and one gnuplot script; run gnuplot. Returns the
    charts drawn."""
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        log("note: gnuplot not found (apt-get install gnuplot-nox); no charts")
        return []
    meta, samples = data["meta"], data["samples"]
    columns = meta["allocators"]
    main = samples.get("main", {})
    rows = [w for w in meta["workloads"] if w in main]
    script, charts = [], []

    def norm_table(metric, name):
        path = os.path.join(raw_dir, name)
        with open(path, "w") as f:
            f.write("# workload " + " ".join(columns) + "\n")
            for row in rows:
                vals = {c: summary(main[row].get(c, [])) for c in columns}
                base = vals.get("glibc")
                out = []
                for c in columns:
                    v = vals[c]
                    out.append("%.4f" % (v[metric] / base[metric])
                               if v and base and base.get(metric) else "?")
                f.write(row + " " + " ".join(out) + "\n")
        return path

    if rows and "glibc" in columns:
        time_panels = [
            (norm_table("wall", "time-wall.dat"),
             "Wall time relative to glibc (median; lower is better)", "wall time / glibc's"),
            (norm_table("cpu", "time-cpu.dat"),
             "CPU time (user + sys) relative to glibc (median; lower is better)",
             "CPU time / glibc's")]
        script.append(bar_chart(os.path.join(out_dir, "time.png"), time_panels, len(rows),
                                columns, ref_line=1.0))
        rss_panels = [(norm_table("rss_kb", "rss.dat"),
                       "Peak RSS relative to glibc (median; lower is better)",
                       "peak RSS / glibc's")]
        script.append(bar_chart(os.path.join(out_dir, "rss.png"), rss_panels, len(rows),
                                columns, ref_line=1.0))
        charts += ["time.png", "rss.png"]

    gc = samples.get("gc", {})
    if gc:
        dat = os.path.join(raw_dir, "gc.dat")
        shapes = [s for s in GC_SHAPES if s[0] in gc]
        smallest = 1.0
        with open(dat, "w") as f:
            f.write("# shape " + " ".join(GC_COLUMNS) + "\n")
            for row, _, metric, _ in shapes:
                vals = [summary(gc[row].get(c, [])) for c in GC_COLUMNS]
                vals = [v[metric] if v and v.get(metric) else None for v in vals]
                smallest = min([smallest] + [v for v in vals if v])
                f.write(row + " " + " ".join("%.3f" % v if v else "?" for v in vals) + "\n")
        script.append(bar_chart(os.path.join(out_dir, "gc.png"),
                                [(dat, "GC: nanoseconds per object (log scale; lower is better)\n"
                                  "Boehm sweeps lazily, during later allocations: its gc-rings "
                                  "and gc-chain bars leave the sweep out",
                                  "ns / object")], len(shapes), GC_COLUMNS,
                                logscale=smallest / 1.5, width=900))
        charts.append("gc.png")

    sweep = samples.get("sweep", {})
    if sweep:
        panels = []
        for w in meta["sweep_workloads"]:
            dat = os.path.join(raw_dir, "scaling-%s.dat" % w)
            with open(dat, "w") as f:
                f.write("# threads " + " ".join(columns) + "\n")
                for t, key in sweep_rows(sweep, w):
                    vals = [summary(sweep[key].get(c, [])) for c in columns]
                    f.write("%d " % t + " ".join(
                        "%.4f" % (v["ops"] / v["wall"] / 1e6) if v and v.get("ops") else "?"
                        for v in vals) + "\n")
            panels.append((w, dat))
        png = meta["scaling_chart"]
        script.append(line_chart_multi(os.path.join(out_dir, png), panels, columns,
                                       meta["machine"]["cores"], meta["sweep_threads"]))
        charts.append(png)

    if not script:
        return []
    gp = os.path.join(raw_dir, "charts.gp")
    with open(gp, "w") as f:
        f.write("\n".join(script))
    r = subprocess.run([gnuplot, gp], capture_output=True, text=True)
    if r.returncode != 0:
        log("warning: gnuplot failed:\n" + r.stderr[-2000:])
        return []
    return charts


# ---- main ----------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Run poolgc's benchmark suite under glibc, jemalloc, mimalloc, tcmalloc "
                    "and poolgc; print a Markdown report and draw charts.",
        epilog="Workload names for --only/--skip: %s; groups: alloc, real, gc, all."
               % ", ".join([w.name for w in ALLOC_WORKLOADS] + [r for r, _, _, _ in GC_SHAPES]))
    p.add_argument("--only", metavar="LIST", help="comma-separated workloads or groups to run")
    p.add_argument("--skip", metavar="LIST", help="comma-separated workloads or groups to leave out")
    p.add_argument("--reps", type=int, help="repetitions per allocator (default %d; quick: %d)"
                   % (DEFAULT_REPS, QUICK_REPS))
    p.add_argument("--scale", type=float, help="multiply every workload's amount of work "
                   "(default 1; quick: %g)" % QUICK_SCALE)
    p.add_argument("--threads", type=int, metavar="N",
                   help="threads of the threaded workloads in the main tables (default: cores)")
    p.add_argument("--sweep", dest="sweep", action="store_true", default=None,
                   help="run the thread sweep (default, except with --quick)")
    p.add_argument("--no-sweep", dest="sweep", action="store_false", help="no thread sweep")
    p.add_argument("--sweep-only", action="store_true",
                   help="only the thread sweep; writes scaling-<cores>c.md and .png")
    p.add_argument("--sweep-threads", metavar="LIST",
                   help="thread counts of the sweep (default 1,2,4,... up to --max-threads)")
    p.add_argument("--max-threads", type=int, metavar="N",
                   help="largest thread count of the default sweep (default: cores)")
    p.add_argument("--sweep-workloads", metavar="LIST", default="threads,prodcons,larson",
                   help="workloads the sweep runs (default threads,prodcons,larson)")
    p.add_argument("--allocators", metavar="LIST",
                   help="comma-separated subset of glibc,jemalloc,mimalloc,tcmalloc,poolgc")
    p.add_argument("--poolgc-lib", metavar="PATH",
                   help="libpoolgc.so to preload (default: <builddir>/lib/.libs/libpoolgc.so)")
    p.add_argument("--builddir", metavar="DIR", default=DEFAULT_BUILDDIR,
                   help="top build directory: bench/bin and lib/.libs are under it "
                        "(default build/, else the source tree)")
    p.add_argument("--out", metavar="DIR",
                   help="where the report and charts go (default bench/results; quick: "
                        "bench/results/raw/quick)")
    p.add_argument("--quick", action="store_true",
                   help="short parameters: --scale %g --reps %d, no sweep"
                        % (QUICK_SCALE, QUICK_REPS))
    p.add_argument("--timeout", type=float, default=300, help="seconds before a run is killed")
    p.add_argument("--python", default="/usr/bin/python3" if os.path.exists("/usr/bin/python3")
                   else sys.executable, help="python3 of the python and GC workloads")
    p.add_argument("--gcc", default=shutil.which("gcc") or "gcc", help="gcc of the gcc workload")
    p.add_argument("--sqlite3", default=shutil.which("sqlite3") or "sqlite3",
                   help="sqlite3 of the sqlite workload")
    p.add_argument("--no-install", action="store_true",
                   help="do not apt-get install missing peers")
    p.add_argument("--setup", action="store_true",
                   help="only install the missing Debian packages, then exit")
    p.add_argument("--replot", nargs="?", const="", metavar="JSON",
                   help="run nothing: redraw the report and charts from a run's samples "
                        "(default <out>/raw/latest.json, or scaling-<cores>c.json with "
                        "--sweep-only), e.g. a sweep brought back from another machine")
    p.add_argument("--peer-dir", metavar="DIR",
                   help="look for the peers' shared objects (libjemalloc.so.2, ...) here first")
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    # for the report: how make invoked us; the commit when not run from a git checkout
    p.add_argument("--command", help=argparse.SUPPRESS)
    p.add_argument("--commit", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.reps = args.reps or QUICK_REPS
        args.scale = args.scale or QUICK_SCALE
        if args.sweep is None:
            args.sweep = False
    args.reps = args.reps or DEFAULT_REPS
    args.scale = args.scale or 1.0
    if args.sweep is None:
        args.sweep = True
    if args.sweep_only:
        args.sweep = True
    if not args.out:
        args.out = os.path.join(BENCH_DIR, "results", "raw", "quick") if args.quick else \
            os.path.join(BENCH_DIR, "results")
    return args


def select(args):
    """The workloads, GC shapes and sweep workloads the options ask for."""
    groups = {"alloc": [w.name for w in ALLOC_WORKLOADS if w.group == "alloc"],
              "real": [w.name for w in ALLOC_WORKLOADS if w.group == "real"],
              "gc": [r for r, _, _, _ in GC_SHAPES]}
    groups["all"] = groups["alloc"] + groups["real"] + groups["gc"]

    def expand(text):
        names = []
        for word in filter(None, (text or "").split(",")):
            if word in groups:
                names += groups[word]
            elif word in groups["all"]:
                names.append(word)
            else:
                sys.exit("run.py: unknown workload %r (see --list)" % word)
        return names

    chosen = expand(args.only) if args.only else groups["all"]
    skipped = set(expand(args.skip))
    chosen = [n for n in chosen if n not in skipped]
    if args.sweep_only:
        chosen = []
    workloads = [w for w in ALLOC_WORKLOADS if w.name in chosen]
    shapes = [s for s in GC_SHAPES if s[0] in chosen]
    sweep_workloads = []
    if args.sweep:
        names = args.sweep_workloads.split(",")
        for n in names:
            if n not in [w.name for w in ALLOC_WORKLOADS if w.threads_param]:
                sys.exit("run.py: %r has no thread count to sweep" % n)
        sweep_workloads = [w for w in ALLOC_WORKLOADS if w.name in names]
    return workloads, shapes, sweep_workloads


def sweep_threads(args):
    if args.sweep_threads:
        return sorted({int(t) for t in args.sweep_threads.split(",")})
    top = args.max_threads or core_count()
    counts, t = [], 1
    while t < top:
        counts.append(t)
        t *= 2
    return counts + [top]


def ensure_programs(args, bindir, needed):
    """Build missing workload programs with make (bench-programs)."""
    missing = [b for b in needed if not os.access(os.path.join(bindir, b), os.X_OK)]
    if not missing:
        return
    makefile = os.path.join(args.builddir, "Makefile")
    if os.path.exists(makefile):
        log("building %s (make bench-programs) ..." % " ".join(missing))
        subprocess.call(["make", "-k", "-s", "-C", args.builddir, "bench-programs"],
                        stdout=sys.stderr)
    still = [b for b in missing if not os.access(os.path.join(bindir, b), os.X_OK)]
    if still:
        log("warning: not built: %s (configure, then `make bench-programs`); "
            "their workloads are skipped" % " ".join(still))


def command_line(args, argv):
    """The command that reproduces this run, for the report: `make bench`
    (with the BENCH_FLAGS given) when make ran us, else the runner's."""
    hidden = ("--builddir", "--command", "--commit", "--out")
    words, skip = [], False
    for word in argv:
        if skip:
            skip = False
        elif word in hidden:
            skip = True
        elif not word.startswith(tuple(h + "=" for h in hidden)):
            words.append(word)
    if not args.command:
        return " ".join(["python3 bench/run.py"] + words)
    flags = [w for w in words if w != "--quick"]
    return args.command + (" BENCH_FLAGS='%s'" % " ".join(flags) if flags else "")


def machine(args, allocators):
    """This machine and the versions of what ran on it; `allocators` maps
    name to the preloaded path."""
    versions = {}
    for name, _, package in PEERS:
        if name not in allocators:
            continue
        path = allocators[name] or ""
        if args.peer_dir and path.startswith(os.path.abspath(args.peer_dir)):
            versions[name] = "(%s from --peer-dir)" % os.path.basename(path)
        else:
            versions[name] = dpkg_version(package) or "?"
    versions["Boehm GC"] = dpkg_version("libgc1") or "?"
    commit = args.commit
    try:
        commit = commit or subprocess.run(
            ["git", "-C", TOP_SRCDIR, "describe", "--always", "--dirty"],
            capture_output=True, text=True).stdout.strip() or "?"
    except OSError:
        commit = "?"
    return {"cores": core_count(), "cpu": cpu_model(), "kernel": os.uname().release,
            "glibc": os.confstr("CS_GNU_LIBC_VERSION").split()[-1]
            if hasattr(os, "confstr") else "?", "versions": versions, "commit": commit}


def main(argv):
    args = parse_args(argv)
    if args.list:
        for w in ALLOC_WORKLOADS:
            print("%-10s %-6s %s" % (w.name, w.group, w.about))
        for row, _, _, about in GC_SHAPES:
            print("%-10s %-6s %s (poolgc, CPython, Boehm)" % (row, "gc", about))
        return 0
    raw_dir = os.path.join(args.out, "raw")
    os.makedirs(raw_dir, exist_ok=True)
    if args.replot is not None:
        name = "scaling-%dc.json" % core_count() if args.sweep_only else "latest.json"
        with open(args.replot or os.path.join(raw_dir, name)) as f:
            data = json.load(f)
        return report(data, args)

    ensure_packages(not args.no_install)
    if args.setup:
        return 0

    # the allocators, each found or reported missing
    wanted = args.allocators.split(",") if args.allocators else \
        [name for name, _, _ in PEERS] + [POOLGC]
    allocators = []
    for name, soname, _ in PEERS:
        if name not in wanted:
            continue
        path = find_shared_object(soname, args.peer_dir) if soname else None
        if soname and not path:
            log("warning: %s (%s) not found; left out" % (name, soname))
            continue
        allocators.append((name, path))
    if POOLGC in wanted:
        lib = args.poolgc_lib or os.path.join(args.builddir, "lib", ".libs", "libpoolgc.so")
        if os.path.exists(lib):
            allocators.append((POOLGC, os.path.abspath(lib)))
        else:
            log("warning: %s not found (build it: sh scripts/build.sh); running the peers only"
                % lib)
    unknown = set(wanted) - {n for n, _, _ in PEERS} - {POOLGC}
    if unknown:
        sys.exit("run.py: unknown allocator(s) %s" % ", ".join(sorted(unknown)))
    if not allocators:
        sys.exit("run.py: no allocator to run")

    workloads, shapes, sweep_workloads = select(args)
    bindir = os.path.join(args.builddir, "bench", "bin")
    needed = {w.binary for w in workloads + sweep_workloads if w.binary}
    if shapes:
        needed |= set(GC_BINARIES.values())
    ensure_programs(args, bindir, sorted(needed))
    runnable = lambda w: not w.binary or os.access(os.path.join(bindir, w.binary), os.X_OK)
    workloads = [w for w in workloads if runnable(w)]
    sweep_workloads = [w for w in sweep_workloads if runnable(w)]
    tools = {"gcc": args.gcc, "sqlite": args.sqlite3, "python": args.python}
    for w in [w for w in workloads if w.name in tools and not shutil.which(tools[w.name])]:
        log("warning: %s not found; workload %s left out" % (tools[w.name], w.name))
        workloads.remove(w)

    workdir = tempfile.mkdtemp(prefix="poolgc-bench-")
    threads = args.threads or core_count()
    ctx = Context(args, bindir, workdir, threads)
    sweep = {"workloads": sweep_workloads, "threads": sweep_threads(args)}
    jobs = plan_jobs(args, ctx, allocators, workloads, shapes, sweep)
    log("poolgc bench: %d runs (%d workloads, %d GC shapes, %d sweep workloads x %s threads) "
        "under %s, %d repetitions, scale %g, %d threads"
        % (len(jobs), len(workloads), len(shapes), len(sweep_workloads),
           ",".join(map(str, sweep["threads"])) if sweep_workloads else "-",
           ", ".join(n for n, _ in allocators), args.reps, args.scale, threads))
    started = time.time()
    try:
        samples = run_jobs(jobs, args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    log("done in %s" % duration(time.time() - started))

    python_version = subprocess.run([args.python, "--version"], capture_output=True,
                                    text=True).stdout.strip()
    cores = core_count()
    data = {
        "meta": {
            "kind": "sweep" if args.sweep_only else "full",
            "date": time.strftime("%Y-%m-%d %H:%M %Z"),
            "command": command_line(args, argv),
            "reps": args.reps, "scale": args.scale, "threads": threads,
            "allocators": [n for n, _ in allocators],
            "paths": {n: p for n, p in allocators},
            "workloads": [w.name for w in workloads],
            "about": {w.name: w.about for w in workloads},
            "sweep_workloads": [w.name for w in sweep_workloads],
            "sweep_threads": sweep["threads"],
            "scaling_chart": "scaling-%dc.png" % cores if sweep_workloads else None,
            "gc_objects": scaled(ctx, 1000000),
            "python_version": python_version,
            "machine": machine(args, dict(allocators)),
            "elapsed_s": time.time() - started,
        },
        "samples": samples,
    }
    name = "scaling-%dc.json" % cores if args.sweep_only else "latest.json"
    with open(os.path.join(raw_dir, name), "w") as f:
        json.dump(data, f, indent=1)
    return report(data, args)


def report(data, args):
    raw_dir = os.path.join(args.out, "raw")
    draw_charts(data, args.out, raw_dir)
    text = build_report(data, args.out)
    sys.stdout.write(text)
    if data["meta"]["kind"] == "sweep":
        name = "scaling-%dc.md" % data["meta"]["machine"]["cores"]
    else:
        name = "latest.md"
    with open(os.path.join(args.out, name), "w") as f:
        f.write(text)
    log("report: %s" % os.path.join(args.out, name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
