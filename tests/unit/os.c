/*
 * os - the memory system calls (lib/os.c), each one the call with its
 * answer: pgc__os_map gives private, anonymous, zeroed pages, or MAP_FAILED
 * with errno; pgc__os_protect and pgc__os_advise return 0 or -1 with errno
 * (protection changes keep the contents; MADV_DONTNEED reads back zeros);
 * pgc__os_remap grows or shrinks a mapping, moving it if it must, with its
 * contents; pgc__os_unmap returns 0. Without fault injection nothing is
 * counted.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"
#include "../check.h"

#define PAGE PGC_PAGE_SIZE

static int all_bytes(const unsigned char *p, int c, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != c)
            return 0;
    return 1;
}

int main(void) {
    unsigned char *p = pgc__os_map(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_NORESERVE);
    CHECK(p != MAP_FAILED && (uintptr_t)p % PAGE == 0 && all_bytes(p, 0, 4 * PAGE),
          "map: %p not zeroed pages", (void *)p);
    errno = 0;
    CHECK(pgc__os_map(NULL, 0, PROT_READ, 0) == MAP_FAILED && errno == EINVAL,
          "map of 0 bytes: errno %d", errno);

    memset(p, 0x77, 4 * PAGE);
    CHECK(pgc__os_protect(p, PAGE, PROT_NONE) == 0 && pgc__os_protect(p, PAGE, PROT_READ) == 0 &&
              all_bytes(p, 0x77, PAGE),
          "protect lost the contents");
    errno = 0;
    CHECK(pgc__os_protect(p + 1, PAGE, PROT_READ) == -1 && errno == EINVAL,
          "protect of an unaligned address");
    CHECK(pgc__os_advise(p + PAGE, PAGE, MADV_DONTNEED) == 0 && all_bytes(p + PAGE, 0, PAGE) &&
              all_bytes(p + 2 * PAGE, 0x77, 2 * PAGE),
          "MADV_DONTNEED: not zeroed, or beyond its range");
    CHECK(pgc__os_protect(p, PAGE, PROT_READ | PROT_WRITE) == 0, "protect back");

    unsigned char *q = pgc__os_remap(p, 4 * PAGE, 64 * PAGE);
    CHECK(q != MAP_FAILED && all_bytes(q, 0x77, PAGE) && all_bytes(q + 2 * PAGE, 0x77, 2 * PAGE) &&
              all_bytes(q + 4 * PAGE, 0, 60 * PAGE),
          "remap to 64 pages lost the contents");
    memset(q + 60 * PAGE, 1, 4 * PAGE); /* the new pages are writable */
    unsigned char *r = pgc__os_remap(q, 64 * PAGE, 2 * PAGE);
    CHECK(r == q && all_bytes(r, 0x77, PAGE), "shrinking moved or lost the mapping");
    CHECK(pgc__os_unmap(r, 2 * PAGE) == 0, "unmap");

#ifndef PGC_FAULT_INJECTION
    pgc__os_fault_hold(1); /* a no-op here */
    pgc__os_fault_hold(-1);
    CHECK(pgc__os_calls() == 0 && pgc__os_faults() == 0, "calls counted without fault injection");
#endif
    return check_done();
}
