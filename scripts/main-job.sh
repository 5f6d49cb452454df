#!/bin/sh
# The main job: build poolgc, then run a real program - python3 on an
# allocation-heavy script, with PYTHONMALLOC=malloc so every object goes
# through malloc - under the preloaded library, compare its output with a
# run under glibc, and print poolgc's statistics for it.
set -eu
cd "$(dirname "$0")/.."
# The build's progress lines ("CC lib/alloc.lo") go nowhere; its warnings and
# errors are on stderr, and the output of a step that fails is shown.
echo "== building poolgc in build/ (sh scripts/build.sh)"
sh scripts/build.sh >/dev/null
lib=$PWD/build/lib/.libs/libpoolgc.so
python=/usr/bin/python3
script=$(mktemp /tmp/poolgc-main-job.XXXXXX.py)
trap 'rm -f "$script" "$script.glibc" "$script.poolgc"' EXIT
cat > "$script" <<'PY'
# Builds and drops dictionaries, lists, tuples and strings, like an
# interpreter-heavy program; prints a checksum of what it built.
import hashlib
h = hashlib.sha256()
for round_ in range(6):
    table = {}
    for i in range(60000):
        key = "k%d-%d" % (round_, i)
        table[key] = [i, str(i * 7), (i, key), {"n": i}]
    words = sorted(table, key=lambda k: (len(k), k))[::97]
    h.update(" ".join(words).encode())
    del table
print("checksum", h.hexdigest()[:16])
PY
echo "== python3 under glibc"
/usr/bin/time -f "   %e s, peak RSS %M KB" env PYTHONMALLOC=malloc "$python" "$script" | tee "$script.glibc"
echo "== python3 under poolgc (LD_PRELOAD=$lib POOLGC_STATS=1)"
/usr/bin/time -f "   %e s, peak RSS %M KB" env PYTHONMALLOC=malloc POOLGC_STATS=1 LD_PRELOAD="$lib" "$python" "$script" | tee "$script.poolgc"
if cmp -s "$script.glibc" "$script.poolgc"; then
    echo "== same output under both"
else
    echo "== OUTPUT DIFFERS" >&2
    exit 1
fi
if grep -q '^bench-quick:' build/Makefile 2>/dev/null; then
    echo "== quick benchmark against the peers (make bench-quick)"
    make -C build --no-print-directory bench-quick
fi
