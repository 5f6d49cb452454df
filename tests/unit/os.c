/*
 * os - the memory system calls (lib/os.c), each one the call with its
 * answer: pgc__os_map gives private, anonymous, zeroed pages, or MAP_FAILED
 * with errno (a success keeps errno); pgc__os_protect and pgc__os_advise
 * return 0 or -1 with errno (protection changes keep the contents;
 * MADV_DONTNEED reads back zeros); pgc__os_unmap returns 0. Without fault
 * injection nothing is counted. The address-space limit and the far zone:
 * - pgc__os_as_limit is RLIMIT_AS (SIZE_MAX for none), read again after a
 *   mapping is refused for want of address space;
 * - pgc__os_far_base is the zone's base, aligned to 1 GiB, the same at
 *   every call;
 * - under a limit, pgc__os_map_far maps a mapping of an eighth of the limit
 *   or more at the first free slot from the base, slots a limit apart, the
 *   pages after it free up to the next slot; for a smaller one, or with
 *   no limit, it says NULL;
 * - pgc__os_far_range hands out unmapped ranges from the base up, aligned,
 *   in order, never twice; pgc__os_far_ranged_end is where they end, and
 *   pgc__os_far_ranged says which addresses are in one.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "internal.h"
#include "../check.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define PAGE PGC_PAGE_SIZE
#define MIB ((size_t)1 << 20)
#define GIB ((size_t)1 << 30)

/* The bytes of address space the process holds (VmSize). */
static size_t vm_size(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t kib = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %zu kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib << 10;
}

static void calls(void) {
    unsigned char *p = pgc__os_map(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_NORESERVE);
    CHECK(p != MAP_FAILED && (uintptr_t)p % PAGE == 0 && check_all_bytes(p, 0, 4 * PAGE),
          "map: %p not zeroed pages", (void *)p);
    errno = EDOM;
    unsigned char *q = pgc__os_map(NULL, PAGE, PROT_READ, 0);
    CHECK(q != MAP_FAILED && errno == EDOM, "a map that succeeds changed errno to %d", errno);
    pgc__os_unmap(q, PAGE);
    errno = 0;
    CHECK(pgc__os_map(NULL, 0, PROT_READ, 0) == MAP_FAILED && errno == EINVAL,
          "map of 0 bytes: errno %d", errno);

    memset(p, 0x77, 4 * PAGE);
    CHECK(pgc__os_protect(p, PAGE, PROT_NONE) == 0 && pgc__os_protect(p, PAGE, PROT_READ) == 0 &&
              check_all_bytes(p, 0x77, PAGE),
          "protect lost the contents");
    errno = 0;
    CHECK(pgc__os_protect(p + 1, PAGE, PROT_READ) == -1 && errno == EINVAL,
          "protect of an unaligned address");
    CHECK(pgc__os_advise(p + PAGE, PAGE, MADV_DONTNEED) == 0 &&
              check_all_bytes(p + PAGE, 0, PAGE) && check_all_bytes(p + 2 * PAGE, 0x77, 2 * PAGE),
          "MADV_DONTNEED: not zeroed, or beyond its range");
    CHECK(pgc__os_unmap(p, 4 * PAGE) == 0, "unmap");
}

/* The zone's base and its ranges; returns the base (0: no zone). */
static uintptr_t ranges(void) {
    uintptr_t base = pgc__os_far_base();
    CHECK(base % GIB == 0 && pgc__os_far_base() == base, "zone base %#lx", (unsigned long)base);
    if (!base)
        return 0; /* (a small address space) */
    uintptr_t end = pgc__os_far_ranged_end();
    char *r1 = pgc__os_far_range(5 * PAGE, PAGE);
    char *r2 = pgc__os_far_range(MIB, 2 * MIB);
    CHECK(r1 && (uintptr_t)r1 == end && r2 > r1 && (uintptr_t)r2 % (2 * MIB) == 0 &&
              pgc__os_far_ranged_end() == (uintptr_t)r2 + MIB,
          "ranges: %p then %p after %#lx", (void *)r1, (void *)r2, (unsigned long)end);
    CHECK(pgc__os_far_ranged(r1) && pgc__os_far_ranged(r1 + 5 * PAGE - 1) &&
              pgc__os_far_ranged(r2 + MIB - 1) && !pgc__os_far_ranged(r2 + MIB) &&
              !pgc__os_far_ranged(NULL),
          "far_ranged is wrong about the ranges handed out");
    /* Nothing is mapped there: the range is free for whoever asked for it. */
    void *m = pgc__os_map(r2, MIB, PROT_READ | PROT_WRITE, MAP_FIXED_NOREPLACE);
    CHECK(m == r2, "the range at %p was not free (%p)", (void *)r2, m);
    if (m != MAP_FAILED)
        pgc__os_unmap(m, MIB);
    return base;
}

/* Slots under a limit: lowered to what the process holds plus 32 GiB. */
static void slots(uintptr_t base) {
    struct rlimit saved, lim;
    getrlimit(RLIMIT_AS, &saved);
    size_t want = (vm_size() + 32 * GIB) & ~(MIB - 1);
    if (saved.rlim_cur != RLIM_INFINITY && saved.rlim_cur < want)
        return; /* already under a tighter limit: leave it */
    lim = saved;
    lim.rlim_cur = want;
    if (setrlimit(RLIMIT_AS, &lim) != 0)
        return;
    /* Seen at the next refused mapping: one larger than the limit. */
    errno = 0;
    CHECK(pgc__os_map(NULL, 2 * want, PROT_NONE, MAP_NORESERVE) == MAP_FAILED && errno == ENOMEM,
          "a mapping larger than the limit: errno %d", errno);
    CHECK(pgc__os_as_limit() == want, "limit %zu, set %zu", pgc__os_as_limit(), want);

    size_t stride = (want + 2 * MIB - 1) & ~(2 * MIB - 1), len = (want / 8 + MIB) & ~(PAGE - 1);
    /* The slots are taken in order: the first free one (the ranges above
     * cover the start of slot 0, unmapped: a slot is free if unmapped). */
    size_t slot0 = 0;
    char *s0 = pgc__os_map_far(len, PROT_NONE, MAP_NORESERVE);
    char *s1 = pgc__os_map_far(len, PROT_NONE, MAP_NORESERVE);
    CHECK((uintptr_t)s0 == base + slot0 && (uintptr_t)s1 == (uintptr_t)s0 + stride,
          "slots at %p and %p, not %#lx and a limit (%zu) after it", (void *)s0, (void *)s1,
          (unsigned long)(base + slot0), stride);
    /* The pages after a slot's mapping are free up to the next slot. */
    for (size_t at = len; at < stride; at += ((stride - len) / 4 + PAGE) & ~(PAGE - 1)) {
        void *grow = pgc__os_map(s0 + at, MIB, PROT_NONE, MAP_NORESERVE | MAP_FIXED_NOREPLACE);
        CHECK(grow == s0 + at, "slot 0's room, %zu bytes in, was taken (%p)", at, grow);
        if (grow != MAP_FAILED)
            pgc__os_unmap(grow, MIB);
    }
    pgc__os_unmap(s0, len);
    char *again = pgc__os_map_far(len, PROT_NONE, MAP_NORESERVE);
    CHECK(again == s0, "slot 0 freed, then %p", (void *)again);
    CHECK(pgc__os_map_far(2 * MIB, PROT_NONE, MAP_NORESERVE) == NULL,
          "a small mapping under a limit took a slot");
    pgc__os_unmap(again, len);
    pgc__os_unmap(s1, len);
    setrlimit(RLIMIT_AS, &saved);
}

int main(void) {
    struct rlimit lim;
    getrlimit(RLIMIT_AS, &lim);
    size_t limit = lim.rlim_cur == RLIM_INFINITY ? SIZE_MAX : (size_t)lim.rlim_cur;
    CHECK(pgc__os_as_limit() == limit, "limit %zu, RLIMIT_AS %zu", pgc__os_as_limit(), limit);
    calls();
    uintptr_t base = ranges();
    if (base && limit == SIZE_MAX)
        slots(base);

#ifndef PGC_FAULT_INJECTION
    pgc__os_fault_hold(1); /* a no-op here */
    pgc__os_fault_hold(-1);
    CHECK(pgc__os_calls() == 0 && pgc__os_faults() == 0, "calls counted without fault injection");
#endif
    return check_done();
}
