/* gc_stats - pgc_get_stats counts collections and objects per generation;
 * PGC_DEBUG_STATS prints one line per collection (generation, objects
 * scanned, collected, time) and PGC_DEBUG_COLLECTABLE one per object found. */
#include <string.h>
#include <unistd.h>

#include "gc_test.h"

static void make_cycle(void) {
    node *a = node_new(1), *b = node_new(2);
    node_set(a, 0, b);
    node_set(b, 0, a);
    pgc_decref(a);
    pgc_decref(b);
}

int main(void) {
    FILE *err = tmpfile();
    int saved = dup(2);
    node *live = node_new(0);

    dup2(fileno(err), 2);
    pgc_set_debug(PGC_DEBUG_STATS | PGC_DEBUG_COLLECTABLE);
    make_cycle();
    pgc_collect(0);
    pgc_collect(1);
    make_cycle();
    pgc_collect(2);
    pgc_set_debug(0);
    fflush(stderr);
    dup2(saved, 2);

    pgc_gen_stats st[3];
    pgc_get_stats(st);
    CHECK(st[0].collections == 1 && st[0].collected == 2, "gen 0: %zu %zu", st[0].collections,
          st[0].collected);
    CHECK(st[1].collections == 1 && st[1].collected == 0, "gen 1: %zu %zu", st[1].collections,
          st[1].collected);
    CHECK(st[2].collections == 1 && st[2].collected == 2, "gen 2: %zu %zu", st[2].collections,
          st[2].collected);

    char line[256];
    int stats = 0, collectable = 0;
    rewind(err);
    while (fgets(line, sizeof line, err)) {
        fputs(line, stdout);
        if (strstr(line, "poolgc: gc: generation") && strstr(line, "objects scanned") &&
            strstr(line, "collected") && strstr(line, " s\n"))
            stats++;
        if (strstr(line, "collectable <node 0x"))
            collectable++;
    }
    CHECK(stats == 3, "%d statistics lines, want 3", stats);
    CHECK(collectable == 4, "%d collectable lines, want 4", collectable);
    CHECK(strstr(line, "generation 2: 3 objects scanned, 2 unreachable, 2 collected"),
          "last line: %s", line);
    pgc_decref(live);
    return check_done();
}
