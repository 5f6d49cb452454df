/*
 * large - the large path (lib/large.c), jemalloc behind pgc__large_*:
 * - a block reports its usable size, all of it writable; success keeps
 *   errno, an impossible size fails with ENOMEM and leaves the block alone;
 * - realloc within the usable size keeps the block; growing keeps the
 *   contents; a big shrink of a large extent gives its tail back;
 * - alignment and zeroing are honoured (zeroing of a reused block too);
 * - pgc__large_bytes_allocated counts live blocks; pgc__large_trim says 1
 *   when freed pages went back to the OS, 0 when there were none;
 * - embedded build: a pointer from glibc's own allocator is foreign: its
 *   usable size comes from glibc's header, realloc and free go to glibc.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "../check.h"

extern void *__libc_malloc(size_t);

#define MIB ((size_t)1 << 20)

int main(void) {
    errno = EDOM;
    unsigned char *p = pgc__large_malloc(1000, 0, 0);
    size_t usable = p ? pgc__large_usable_size(p) : 0;
    CHECK(p && !pgc_in_region(p) && usable >= 1000 && errno == EDOM, "usable %zu, errno %d", usable,
          errno);
    memset(p, 0xab, usable);
    CHECK(pgc__large_realloc(p, usable) == p && pgc__large_realloc(p, 600) == p,
          "realloc within the usable size moved the block");
    errno = EDOM;
    CHECK(pgc__large_realloc(p, SIZE_MAX) == NULL && errno == ENOMEM, "SIZE_MAX realloc");
    CHECK(pgc__large_malloc((size_t)PTRDIFF_MAX + 1, 0, 0) == NULL && errno == ENOMEM,
          "PTRDIFF_MAX + 1 malloc");
    unsigned char *q = pgc__large_realloc(p, 100000);
    CHECK(q && check_all_bytes(q, 0xab, usable), "growing lost the contents");
    pgc__large_free(q);

    unsigned char *big = pgc__large_malloc(MIB, 0, 0);
    unsigned char *shrunk = pgc__large_realloc(big, 100 << 10);
    CHECK(shrunk && pgc__large_usable_size(shrunk) < MIB, "1 MiB -> 100 KiB kept %zu bytes",
          shrunk ? pgc__large_usable_size(shrunk) : 0);
    pgc__large_free(shrunk);

    unsigned char *dirty = pgc__large_malloc(5000, 0, 0);
    memset(dirty, 0xff, 5000);
    pgc__large_free(dirty);
    unsigned char *zeroed = pgc__large_malloc(5000, 0, 1);
    unsigned char *aligned = pgc__large_malloc(100, 4096, 1);
    CHECK(zeroed && check_all_bytes(zeroed, 0, pgc__large_usable_size(zeroed)),
          "zero flag ignored");
    CHECK(aligned && (uintptr_t)aligned % 4096 == 0 && check_all_bytes(aligned, 0, 100),
          "aligned %p", (void *)aligned);
    pgc__large_free(zeroed);
    pgc__large_free(aligned);

    /* Live bytes, then trim: 16 MiB touched and freed go back once (in
     * blocks of 512 KiB: blocks of a size never freed before, from 1 MiB,
     * go back when they are freed, lib/large.c). */
    pgc__large_trim();
    size_t before = pgc__large_bytes_allocated();
    unsigned char *m[32];
    for (int i = 0; i < 32; i++)
        memset(m[i] = pgc__large_malloc(MIB / 2, 0, 0), 1, MIB / 2);
    CHECK(pgc__large_bytes_allocated() >= before + 16 * MIB, "allocated %zu -> %zu", before,
          pgc__large_bytes_allocated());
    for (int i = 0; i < 32; i++)
        pgc__large_free(m[i]);
    CHECK(pgc__large_trim() == 1, "trim found no freed pages");
    CHECK(pgc__large_trim() == 0, "a second trim found more");

#ifdef POOLGC_JEMALLOC_EMBEDDED
    unsigned char *g = __libc_malloc(100);
    size_t g_usable = pgc__large_usable_size(g);
    CHECK(g_usable >= 100 && g_usable < 100 + 4 * sizeof(size_t), "glibc block: %zu", g_usable);
    memset(g, 0x5a, 100);
    g = pgc__large_realloc(g, 300);
    CHECK(g && check_all_bytes(g, 0x5a, 100) && pgc__large_usable_size(g) >= 300, "glibc realloc");
    pgc__large_free(g);
#endif
    return check_done();
}
