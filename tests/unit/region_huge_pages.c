/*
 * region_huge_pages - the pool region with transparent huge pages on
 * (POOLGC_THP, lib/region.c).
 *
 * Once the arenas in use reach the option's size, the region carries
 * MADV_HUGEPAGE (VmFlags "hg" in /proc/self/smaps). An arena made
 * accessible then brings the other half of its aligned 2 MiB with it, so
 * that one huge page can back the pair from its first fault. An empty arena
 * goes back to the OS only when the other half of its 2 MiB has no pool in
 * use (khugepaged would otherwise fill it back in), both halves together
 * when both are empty; pgc__region_trim keeps that rule too.
 *
 * Started with POOLGC_THP=1M POOLGC_VERBOSE=1, a program says so on stderr
 * once it has a second arena, whose mapping then carries "hg"; without the
 * option (off by default), it never does.
 *
 * Like tests/unit/region.c, the test takes pools straight from the region
 * and makes no allocation of its own while it works (it reads /proc with
 * read(2) into a static buffer; stderr is unbuffered).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "../check.h"
#include "run_self.h"

#define PER_ARENA ((int)PGC_POOLS_PER_ARENA)
#define PAIR ((uintptr_t)2 * PGC_ARENA_SIZE)

static char smaps[1 << 20];

/* The smaps entry of the mapping that holds address p: its start and end
 * (*end), and whether its VmFlags have "hg" (MADV_HUGEPAGE). 0: not found. */
static int mapping_of(uintptr_t p, uintptr_t *end, int *huge) {
    int fd = open("/proc/self/smaps", O_RDONLY);
    size_t n = 0;
    ssize_t r;
    while (fd >= 0 && n < sizeof smaps - 1 && (r = read(fd, smaps + n, sizeof smaps - 1 - n)) > 0)
        n += (size_t)r;
    if (fd >= 0)
        close(fd);
    smaps[n] = 0;
    for (char *line = smaps; *line;) {
        char *next = strchr(line, '\n');
        next = next ? next + 1 : line + strlen(line);
        unsigned long lo, hi;
        char dash;
        if (sscanf(line, "%lx%c%lx", &lo, &dash, &hi) == 3 && dash == '-' && lo <= p && p < hi) {
            char *flags = strstr(next, "VmFlags:");
            char *eol = flags ? strchr(flags, '\n') : NULL;
            if (eol)
                *eol = 0;
            *end = hi;
            *huge = flags && strstr(flags, " hg") != NULL;
            return 1;
        }
        line = next;
    }
    return 0;
}

static size_t released(void) {
    pgc_region_stats s;
    pgc__region_stats(&s);
    return s.arenas_released;
}

/* Take pools until one starts a fresh arena at the start of an aligned
 * 2 MiB (the first pool of an arena has slot 1); pools taken on the way
 * stay taken. */
static pgc_pool *take_until_fresh_pair(void) {
    for (;;) {
        pgc_pool *pool = pgc__region_take_pool(1, NULL);
        if (!pool || ((uintptr_t)pool & (PAIR - 1)) == PGC_POOL_HEADER_SIZE)
            return pool;
    }
}

static void give_all(pgc_pool **pools) {
    for (int i = 0; i < PER_ARENA; i++)
        pgc__region_give_pool(pools[i]);
}

/* The child: takes pools into two fresh arenas; exits 0 when the mapping
 * holding them carries MADV_HUGEPAGE exactly when `want` is "huge". */
static int child(const char *want) {
    pgc__init_ensure(); /* start-up reads the options */
    pgc_pool *first = take_until_fresh_pair(), *pool = first;
    for (int i = 0; pool && i < 2 * PER_ARENA; i++)
        pool = pgc__region_take_pool(1, NULL);
    uintptr_t end;
    int huge = 0;
    return !(first && pool && mapping_of((uintptr_t)pool, &end, &huge) &&
             huge == !strcmp(want, "huge"));
}

/* The option at start-up, through the child. */
static void from_the_environment(void) {
    static char err[4096];
    int status =
        run_self("huge", (char *[]){"POOLGC_THP=1M", "POOLGC_VERBOSE=1", NULL}, err, sizeof err);
    CHECK(status == 0, "POOLGC_THP=1M: no MADV_HUGEPAGE on the pools (exit %d)", status);
    CHECK(strstr(err, "transparent huge pages from now on") != NULL,
          "POOLGC_THP=1M: not reported under POOLGC_VERBOSE: [%s]", err);
    status = run_self("none", (char *[]){"POOLGC_VERBOSE=1", NULL}, err, sizeof err);
    CHECK(status == 0, "default: MADV_HUGEPAGE on the pools (exit %d)", status);
    CHECK(strstr(err, "from now on") == NULL, "default: [%s]", err);
}

int main(int argc, char **argv) {
    if (argc == 2)
        return child(argv[1]);
    pgc__init_ensure();
    if (!pgc__region.base || access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) != 0) {
        fprintf(stderr, "note: no pool region or no transparent huge pages; nothing to check\n");
        return 77;
    }
    from_the_environment();
    pgc__options.thp = PGC_ARENA_SIZE; /* from the next arena made */

    /* X and Y: the two halves of one aligned 2 MiB, all their pools taken. */
    pgc_pool *x[PER_ARENA], *y[PER_ARENA];
    x[0] = take_until_fresh_pair();
    CHECK(x[0] != NULL, "region exhausted");
    if (!x[0])
        return check_done();
    uintptr_t xbase = (uintptr_t)x[0] & ~(PGC_ARENA_SIZE - 1), ybase = xbase + PGC_ARENA_SIZE;
    uintptr_t end = 0;
    int huge = 0;
    CHECK(mapping_of(xbase, &end, &huge) && huge, "the region has no MADV_HUGEPAGE");
    CHECK(end >= ybase + PGC_ARENA_SIZE, "X's pair is not accessible with X (mapping ends at %#lx)",
          (unsigned long)end);
    for (int i = 1; i < PER_ARENA; i++)
        x[i] = pgc__region_take_pool(1, NULL);
    for (int i = 0; i < PER_ARENA; i++)
        y[i] = pgc__region_take_pool(1, NULL);
    for (int i = 0; i < PER_ARENA; i++)
        CHECK(x[i] && y[i] && ((uintptr_t)x[i] & ~(PGC_ARENA_SIZE - 1)) == xbase &&
                  ((uintptr_t)y[i] & ~(PGC_ARENA_SIZE - 1)) == ybase,
              "pool %d: not in X and Y", i);
    memset(pgc_pool_data(x[1]), 0xAB, PGC_POOL_SIZE);

    /* W: the next arena, empty and kept as the last usable one, so that X
     * and Y are not. */
    pgc_pool *w = pgc__region_take_pool(1, NULL);
    CHECK(w && ((uintptr_t)w & ~(PGC_ARENA_SIZE - 1)) != ybase, "no third arena");
    pgc__region_give_pool(w);
    size_t before = released();

    /* X empties while Y is in use: X stays, and a trim keeps it too (it
     * releases W only). */
    give_all(x);
    CHECK(released() == before, "X went back while the other half of its 2 MiB is in use");
    pgc__region_check();
    CHECK(pgc__region_trim() == 1, "trim released nothing (W is empty)");
    CHECK(released() == before + 1, "trim released %zu arenas, expected W only",
          released() - before);
    unsigned char *kept = (unsigned char *)pgc_pool_data(x[1]);
    CHECK(kept[0] == 0xAB, "X lost its pages while kept");

    /* Y empties too: X is now the last usable arena, so both stay; a trim
     * then releases the pair, whose pages come back zeroed. */
    give_all(y);
    CHECK(released() == before + 1, "the pair went back though X is the last usable arena");
    CHECK(pgc__region_trim() == 1, "trim released nothing (X and Y are empty)");
    CHECK(released() == before + 3, "trim released %zu arenas, expected X and Y",
          released() - before - 1);
    pgc__region_check();

    /* Both halves taken again, then emptied with a third arena kept last:
     * the second to empty takes the first with it. */
    x[0] = take_until_fresh_pair();
    CHECK(x[0] && ((uintptr_t)x[0] & ~(PGC_ARENA_SIZE - 1)) == xbase,
          "the released pair's range was not reused first");
    if (!x[0] || ((uintptr_t)x[0] & ~(PGC_ARENA_SIZE - 1)) != xbase)
        return check_done();
    CHECK(kept[0] == 0, "a released arena kept its contents");
    for (int i = 1; i < PER_ARENA; i++)
        x[i] = pgc__region_take_pool(1, NULL);
    for (int i = 0; i < PER_ARENA; i++)
        y[i] = pgc__region_take_pool(1, NULL);
    w = pgc__region_take_pool(1, NULL);
    pgc__region_give_pool(w);
    before = released();
    give_all(x);
    CHECK(released() == before, "X went back while Y is in use");
    give_all(y);
    CHECK(released() == before + 2, "%zu arenas released when the pair emptied, expected 2",
          released() - before);
    pgc__region_check();
    return check_done();
}
