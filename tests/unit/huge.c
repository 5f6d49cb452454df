/*
 * huge - blocks that are mappings of their own (lib/huge.c):
 * - pgc__huge_wanted says yes from PGC_HUGE_MIN bytes up, and only while an
 *   address-space limit is set (read again by pgc__huge_limit_changed);
 * - a huge block is 16-aligned, owned (pgc__huge_owns) until freed, and its
 *   usable size is at least the request, short of it by less than a page;
 * - realloc grows and shrinks it keeping the contents, and the block stays
 *   owned at its new address; the same size keeps the block;
 * - other pointers (NULL, the stack, static data) are not huge blocks.
 */
#include <string.h>
#include <sys/resource.h>

#include "internal.h"
#include "../check.h"

#define MIN PGC_HUGE_MIN

static char static_data[64];

static int all_bytes(const unsigned char *p, int c, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != c)
            return 0;
    return 1;
}

int main(void) {
    struct rlimit saved, lim;
    getrlimit(RLIMIT_AS, &saved);
    lim = saved;
    lim.rlim_cur = RLIM_INFINITY;
    if (setrlimit(RLIMIT_AS, &lim) == 0) { /* allowed when the hard limit is infinite */
        pgc__huge_limit_changed();
        CHECK(!pgc__huge_wanted(MIN), "wanted without a limit");
    }
    lim.rlim_cur = saved.rlim_max == RLIM_INFINITY ? (rlim_t)1 << 45 : saved.rlim_max;
    CHECK(setrlimit(RLIMIT_AS, &lim) == 0, "setrlimit");
    pgc__huge_limit_changed();
    CHECK(pgc__huge_wanted(MIN) && !pgc__huge_wanted(MIN - 1), "not wanted under a limit");
    setrlimit(RLIMIT_AS, &saved);
    pgc__huge_limit_changed();

    unsigned char *p = pgc__huge_malloc(MIN + 1);
    size_t usable = p ? pgc__huge_usable_size(p) : 0;
    CHECK(p && (uintptr_t)p % PGC_ALIGNMENT == 0 && pgc__huge_owns(p), "huge malloc %p", (void *)p);
    CHECK(usable >= MIN + 1 && usable < MIN + 1 + PGC_PAGE_SIZE, "usable %zu", usable);
    memset(p, 0x3c, usable);
    CHECK(pgc__huge_realloc(p, usable) == p, "the same size moved the block");
    unsigned char *q = pgc__huge_realloc(p, 16 * MIN);
    CHECK(q && pgc__huge_owns(q) && pgc__huge_usable_size(q) >= 16 * MIN &&
              all_bytes(q, 0x3c, usable),
          "growing lost the block or its contents");
    memset(q, 0x4d, 16 * MIN);
    unsigned char *r = pgc__huge_realloc(q, MIN);
    CHECK(r && pgc__huge_owns(r) && pgc__huge_usable_size(r) < MIN + PGC_PAGE_SIZE &&
              all_bytes(r, 0x4d, MIN),
          "shrinking lost the block or its contents");
    pgc__huge_free(r);

    char local[64] = {0};
    CHECK(!pgc__huge_owns(NULL) && !pgc__huge_owns(local + 32) && !pgc__huge_owns(static_data + 32),
          "a pointer that is not a huge block is owned");
    return check_done();
}
