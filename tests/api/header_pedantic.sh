# The public header include/poolgc.h compiles without a warning as C99
# (-std=c99 -pedantic -Wall -Wextra -Werror) and as C++11 (-std=c++11
# -pedantic -Werror), with and without PGC_NO_INLINE. C89 is not supported:
# the header says so, and so does poolgc(3). Exit 77 when no compiler is found.
set -u
: "${top_srcdir:=.}"
me=${0##*/}

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/use.c" <<'SRC'
#include <poolgc.h>

static void pair_traverse(void *obj, pgc_visit_fn visit, void *arg) {
    void **pair = (void **)obj;
    visit(pair[0], arg);
    visit(pair[1], arg);
}

static const pgc_type pair_type = {"pair", pair_traverse, NULL, NULL};

static void on_collect(int phase, const pgc_collect_info *info, void *arg) {
    (void)phase;
    (void)info;
    (void)arg;
}

int main(void) {
    long counts[PGC_GENERATIONS];
    pgc_gen_stats stats[PGC_GENERATIONS];
    void *objects[4];
    void *block = pgc_malloc(16);
    void **pair;
    size_t n;
    pgc_free(block);
    pgc_lock();
    pair = (void **)pgc_new(&pair_type, 2 * sizeof(void *));
    pair[0] = pgc_incref(pair);
    if (pgc_callback_add(on_collect, NULL) != 0)
        return 1;
    pgc_get_count(counts);
    pgc_get_stats(stats);
    n = pgc_get_objects(-1, objects, 4) + pgc_refcount(pair);
    pgc_set_debug(PGC_DEBUG_STATS);
    pgc_decref(pair);
    n += pgc_collect(PGC_GENERATIONS - 1) + (size_t)counts[0] + stats[0].collections;
    (pgc_decref)(NULL);
    pgc_unlock();
    return n == 0;
}
SRC

ran=0
cc_cmd=${CC:-cc}
if command -v ${cc_cmd%% *} >/dev/null 2>&1; then
    for def in "" -DPGC_NO_INLINE; do
        ${cc_cmd} -std=c99 -pedantic -Werror -Wall -Wextra -fsyntax-only $def \
            -I"$top_srcdir/include" "$tmp/use.c" ||
            { echo "FAIL: $me: poolgc.h is not clean C99 ($cc_cmd $def)" >&2; exit 1; }
    done
    ran=1
fi
cxx_cmd=${CXX:-c++}
if command -v ${cxx_cmd%% *} >/dev/null 2>&1; then
    for def in "" -DPGC_NO_INLINE; do
        ${cxx_cmd} -std=c++11 -pedantic -Werror -Wall -Wextra -fsyntax-only $def -x c++ \
            -I"$top_srcdir/include" "$tmp/use.c" ||
            { echo "FAIL: $me: poolgc.h is not clean C++11 ($cxx_cmd $def)" >&2; exit 1; }
    done
    ran=1
fi
[ "$ran" = 1 ] || { echo "SKIP: $me: no C or C++ compiler found" >&2; exit 77; }
exit 0
