/*
 * region - the pool region and its arenas (lib/region.c).
 *
 * Ownership: pgc_in_region(p) holds exactly for [base, base + size) (not
 * for stack, static or NULL addresses), and a pool's data maps back to its
 * header (pgc_pool_of) from its first byte to its last, for a pool of one
 * slot and for wide ones of 4 and 16 (whose later slots' headers have no
 * owner).
 *
 * Arena policy, as pymalloc's: a new pool comes from the usable arena with
 * the fewest free pools (a taker with a home, from its home first: two
 * takers, two arenas); an arena whose pools are all free is kept with its
 * pages (two at most, the next new arenas, last kept first) or goes back
 * to the OS, unless it is the last usable one; pgc_trim's region trim
 * releases the kept ones and the last usable ones; a released arena's
 * range is reused first, and its pages come back zeroed (MADV_DONTNEED).
 * pgc__region_check then finds the arena lists consistent.
 *
 * A limit lowered below the reservation (RLIMIT_AS): pgc__region_shrink
 * gives back the never-carved tail and the arena table's entries past the
 * limit, and pools still come.
 *
 * The test takes pools straight from the region the process's allocator also
 * uses, so it first drains any arena the allocator's heap has started, and
 * makes no allocation of its own while it works (stderr is unbuffered).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "internal.h"
#include "../check.h"

static int global_var;

/* The bytes of address space the process holds (VmSize), read without
 * allocating. */
static size_t vm_size(void) {
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
        close(fd);
    buf[n > 0 ? n : 0] = 0;
    const char *at = strstr(buf, "VmSize:");
    return at ? strtoull(at + 7, NULL, 10) << 10 : 0;
}

/* Lower RLIMIT_AS to what the process holds but the region, plus 1 GiB. */
static void shrink_under_a_limit(void) {
    struct rlimit saved, lim;
    getrlimit(RLIMIT_AS, &saved);
    size_t size = pgc__region.size, vm = vm_size();
    if (saved.rlim_cur != RLIM_INFINITY || size < ((size_t)4 << 30))
        return; /* reserved on demand already */
    lim = saved;
    lim.rlim_cur = vm - size + ((size_t)1 << 30);
    if (setrlimit(RLIMIT_AS, &lim) != 0)
        return;
    CHECK(pgc__region_shrink() == 1, "a shrink under a limit gave nothing back");
    size_t now = pgc__region.size, vm_now = vm_size();
    CHECK(now < size && now % PGC_ARENA_SIZE == 0, "region %zu bytes, was %zu", now, size);
    /* The tail, and the table's entries past 1 GiB: all but a page of 2.5 MiB. */
    CHECK(vm - vm_now >= size - now + ((size_t)2 << 20), "gave back %zu bytes of %zu + table",
          vm - vm_now, size - now);
    pgc_pool *pool = pgc__region_take_pool(1, NULL);
    CHECK(pool != NULL && pgc_in_region(pool), "no pool after the shrink");
    if (pool)
        pgc__region_give_pool(pool);
    setrlimit(RLIMIT_AS, &saved);
}

#define PER_ARENA ((int)PGC_POOLS_PER_ARENA)
#define KEPT_MAX 2 /* lib/region.c */

static uintptr_t arena_of(const pgc_pool *pool) {
    return ((uintptr_t)pool - pgc__region.base) >> PGC_ARENA_SHIFT;
}

/* Take pools until one starts a fresh arena; returns that pool. */
static pgc_pool *take_until_fresh_arena(void) {
    for (;;) {
        pgc_pool *pool = pgc__region_take_pool(1, NULL);
        /* the first pool of an arena has slot 1 (slot 0 holds the headers) */
        if (!pool || ((uintptr_t)pool & (PGC_ARENA_SIZE - 1)) == PGC_POOL_HEADER_SIZE)
            return pool;
    }
}

/* Pools `slots` wide (4 or 16): in arenas of their own (not in
 * narrow_arena, which holds small pools), SLOTS_PER_ARENA / slots - 1 to an
 * arena, each mapping back to its header from all its slots. */
static void wide_pools(unsigned slots, uintptr_t narrow_arena) {
    enum { MAX = PGC_WIDE_POOLS_PER_ARENA };
    int n = (int)(PGC_SLOTS_PER_ARENA / slots - 1);
    size_t bytes = (size_t)slots * PGC_POOL_SIZE;
    pgc_pool *w[MAX];
    do /* until a pool starts a fresh arena: at slot `slots` */
        w[0] = pgc__region_take_pool(slots, NULL);
    while (w[0] && ((uintptr_t)w[0] & (PGC_ARENA_SIZE - 1)) != slots * PGC_POOL_HEADER_SIZE);
    CHECK(w[0] != NULL, "no pool %u slots wide", slots);
    if (!w[0])
        return;
    for (int i = 1; i < n; i++)
        w[i] = pgc__region_take_pool(slots, NULL);
    for (int i = 0; i < n; i++) {
        CHECK(
            w[i] && arena_of(w[i]) == arena_of(w[0]) && w[i]->slots == slots && w[i]->lead == w[i],
            "%u-slot pool %d: arena %zu, slots %u", slots, i, (size_t)arena_of(w[i]), w[i]->slots);
        char *data = pgc_pool_data(w[i]);
        CHECK(((uintptr_t)data & (bytes - 1)) == 0, "%u-slot pool %d at %p", slots, i,
              (void *)data);
        for (size_t off = 0; off < bytes; off += PGC_POOL_SIZE / 2)
            CHECK(pgc_pool_of(data + off) == w[i], "%u-slot pool %d: offset %zu maps elsewhere",
                  slots, i, off);
        CHECK(pgc_slot_pool(data) == w[i] && pgc_slot_pool(data + bytes - 1) != w[i] &&
                  pgc_slot_pool(data + bytes - 1)->owner == NULL,
              "%u-slot pool %d: a later slot's header is not a follower", slots, i);
    }
    CHECK(arena_of(w[0]) != narrow_arena, "%u-slot pools in an arena of small pools", slots);
    pgc_pool *more = pgc__region_take_pool(slots, NULL);
    CHECK(more && arena_of(more) != arena_of(w[0]), "more than %d %u-slot pools in an arena", n,
          slots);
    pgc__region_check();
    for (int i = 0; i < n; i++)
        pgc__region_give_pool(w[i]);
    if (more)
        pgc__region_give_pool(more);
    pgc__region_check();
}

/* Homes: two takers that each have one get their pools from two arenas,
 * each from its own home; once one leaves its home, the other takes its
 * next pools there too (the fuller arena). */
static void homes(void) {
    void *home_a = NULL, *home_b = NULL;
    pgc_pool *a[4], *b[4];
    for (int i = 0; i < 4; i++) {
        a[i] = pgc__region_take_pool(1, &home_a);
        b[i] = pgc__region_take_pool(1, &home_b);
        CHECK(a[i] && b[i], "no pool for a home taker");
        if (!a[i] || !b[i])
            return;
    }
    for (int i = 1; i < 4; i++)
        CHECK(arena_of(a[i]) == arena_of(a[0]) && arena_of(b[i]) == arena_of(b[0]),
              "a taker's pools left its home arena");
    CHECK(arena_of(a[0]) != arena_of(b[0]), "two takers share a home arena");
    pgc__region_check();
    pgc__region_leave_home(&home_a);
    CHECK(home_a == NULL, "a home left is still named");
    pgc__region_leave_home(&home_b);
    pgc_pool *c = pgc__region_take_pool(1, &home_b);
    CHECK(c && (arena_of(c) == arena_of(a[0]) || arena_of(c) == arena_of(b[0])),
          "a taker without a home went to a third arena");
    if (c)
        pgc__region_give_pool(c);
    pgc__region_leave_home(&home_b);
    for (int i = 0; i < 4; i++) {
        pgc__region_give_pool(a[i]);
        pgc__region_give_pool(b[i]);
    }
    pgc__region_check();
}

/* Four whole arenas emptied: two are kept with their pages (all but the
 * last usable one are retired), the others go back to the OS; the next
 * new arenas are the kept ones, their pages as they were, then zeroed
 * ones. */
static void kept_arenas(void) {
    pgc__region_trim(); /* none kept now */
    pgc_pool *pools[4][PER_ARENA];
    for (int k = 0; k < 4; k++) {
        pools[k][0] = take_until_fresh_arena();
        CHECK(pools[k][0] != NULL, "region exhausted");
        if (!pools[k][0])
            return;
        for (int i = 1; i < PER_ARENA; i++)
            pools[k][i] = pgc__region_take_pool(1, NULL);
        memset(pgc_pool_data(pools[k][0]), 0xC0 + k, PGC_POOL_SIZE);
    }
    pgc_region_stats before, after;
    pgc__region_stats(&before);
    CHECK(before.arenas_kept == 0, "%zu arenas kept after a trim", before.arenas_kept);
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < PER_ARENA; i++)
            pgc__region_give_pool(pools[k][i]);
    pgc__region_stats(&after);
    size_t released = after.arenas_released - before.arenas_released;
    CHECK(after.arenas_kept == KEPT_MAX, "%zu arenas kept", after.arenas_kept);
    CHECK(released >= 1 && before.arenas_mapped - after.arenas_mapped == KEPT_MAX + released,
          "mapped %zu -> %zu, %zu released", before.arenas_mapped, after.arenas_mapped, released);
    pgc__region_check();
    for (int k = 0; k <= KEPT_MAX; k++) {
        pgc_pool *fresh = take_until_fresh_arena();
        CHECK(fresh != NULL, "region exhausted");
        if (!fresh)
            return;
        unsigned char *data = (unsigned char *)pgc_pool_data(fresh);
        if (k < KEPT_MAX)
            CHECK(data[100] >= 0xC0 && data[100] < 0xC4 && data[PGC_POOL_SIZE - 1] == data[100],
                  "kept arena %d lost its pages (%#x)", k, data[100]);
        else
            CHECK(data[100] == 0, "a new arena after the kept ones holds %#x", data[100]);
        for (int i = 1; i < PER_ARENA; i++) /* the whole arena, for the next one */
            pgc__region_take_pool(1, NULL);
    }
    pgc__region_stats(&after);
    CHECK(after.arenas_kept == 0, "%zu arenas kept after two new ones", after.arenas_kept);
    pgc__region_check();
}

int main(void) {
    pgc__init_ensure();
    if (!pgc__region.base) {
        fprintf(stderr, "note: no pool region here (ulimit -v?); nothing to check\n");
        return 77;
    }
    int local = 0;
    uintptr_t base = pgc__region.base, end = base + pgc__region.size;
    CHECK(!pgc_in_region((void *)(base - 1)) && pgc_in_region((void *)base) &&
              pgc_in_region((void *)(end - 1)) && !pgc_in_region((void *)end),
          "the region's bounds");
    CHECK(!pgc_in_region(&local) && !pgc_in_region(&global_var) && !pgc_in_region(NULL),
          "stack, static or NULL address in the region");

    pgc__region_trim(); /* no arena kept from before */

    /* Two whole arenas, X and Y, taken by this test alone. */
    pgc_pool *x[PER_ARENA], *y[PER_ARENA];
    x[0] = take_until_fresh_arena();
    CHECK(x[0] != NULL, "region exhausted");
    for (int i = 1; i < PER_ARENA; i++)
        x[i] = pgc__region_take_pool(1, NULL);
    for (int i = 0; i < PER_ARENA; i++)
        y[i] = pgc__region_take_pool(1, NULL);
    for (int i = 0; i < PER_ARENA; i++) {
        CHECK(arena_of(x[i]) == arena_of(x[0]), "pool %d of X in arena %zu", i,
              (size_t)arena_of(x[i]));
        CHECK(arena_of(y[i]) == arena_of(y[0]), "pool %d of Y in arena %zu", i,
              (size_t)arena_of(y[i]));
    }
    CHECK(arena_of(x[0]) != arena_of(y[0]), "X and Y share an arena");
    char *data = pgc_pool_data(x[1]);
    CHECK(pgc_in_region(data) && pgc_pool_of(data) == x[1] &&
              pgc_pool_of(data + PGC_POOL_SIZE - 1) == x[1] &&
              pgc_pool_of(data + PGC_POOL_SIZE) != x[1],
          "pool data does not map back to its header");

    /* X gets 10 free pools, Y 20: the next pool comes from X, the fuller. */
    for (int i = 0; i < 10; i++)
        pgc__region_give_pool(x[i]);
    for (int i = 0; i < 20; i++)
        pgc__region_give_pool(y[i]);
    pgc_pool *next = pgc__region_take_pool(1, NULL);
    CHECK(arena_of(next) == arena_of(x[0]), "new pool from arena %zu, expected X (%zu)",
          (size_t)arena_of(next), (size_t)arena_of(x[0]));
    pgc__region_give_pool(next);

    /* Empty X: it is the last usable arena (most free pools), so it stays. */
    pgc_region_stats before, after;
    pgc__region_stats(&before);
    memset(pgc_pool_data(x[PER_ARENA - 1]), 0xAB, PGC_POOL_SIZE);
    for (int i = 10; i < PER_ARENA; i++)
        pgc__region_give_pool(x[i]);
    pgc__region_stats(&after);
    CHECK(after.arenas_released == before.arenas_released, "the last usable arena was released");

    /* Empty Y too: now Y is not the last one, so it is kept, pages and all
     * (none was: the test starts with a trim). */
    memset(pgc_pool_data(y[PER_ARENA - 1]), 0xCD, PGC_POOL_SIZE);
    for (int i = 20; i < PER_ARENA; i++)
        pgc__region_give_pool(y[i]);
    pgc__region_stats(&after);
    CHECK(after.arenas_released == before.arenas_released, "returned %zu -> %zu",
          before.arenas_released, after.arenas_released);
    CHECK(after.arenas_kept == before.arenas_kept + 1, "kept %zu -> %zu", before.arenas_kept,
          after.arenas_kept);
    CHECK(after.arenas_mapped == before.arenas_mapped - 1, "mapped %zu -> %zu",
          before.arenas_mapped, after.arenas_mapped);
    unsigned char *in_y = (unsigned char *)pgc_pool_data(y[PER_ARENA - 1]);
    CHECK(in_y[100] == 0xCD && in_y[PGC_POOL_SIZE - 1] == 0xCD, "a kept arena lost its pages");

    /* Trim releases Y and X; the next new arena reuses X's range, zeroed. */
    CHECK(pgc__region_trim() == 1, "trim released nothing");
    pgc__region_stats(&after);
    CHECK(after.arenas_released == before.arenas_released + 2 && after.arenas_kept == 0,
          "returned %zu, kept %zu after trim", after.arenas_released, after.arenas_kept);
    pgc_pool *again = take_until_fresh_arena();
    CHECK(again && arena_of(again) == arena_of(x[0]), "new arena %zu, expected X's range (%zu)",
          again ? (size_t)arena_of(again) : (size_t)0, (size_t)arena_of(x[0]));
    unsigned char *last = (unsigned char *)pgc_pool_data(x[PER_ARENA - 1]);
    CHECK(last[100] == 0 && last[PGC_POOL_SIZE - 1] == 0, "released pages kept their contents");
    pgc__region_check();
    wide_pools(PGC_WIDE_SLOTS, arena_of(again));
    wide_pools(PGC_WIDER_SLOTS, arena_of(again));
    homes();
    kept_arenas();
    shrink_under_a_limit();
    pgc__region_check();
    return check_done();
}
