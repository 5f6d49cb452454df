/*
 * edge_overflow - every request that cannot be satisfied returns NULL with
 * errno = ENOMEM, as glibc 2.36 does: calloc and
 * reallocarray overflow, sizes above PTRDIFF_MAX, huge aligned requests, and
 * a request of 4x the machine's memory (glibc refuses it under the default
 * heuristic overcommit; jemalloc alone would hand out MAP_NORESERVE space).
 * A failed realloc/reallocarray leaves the old block valid and intact.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include "../check.h"

/* The old block is meant to be used after a realloc that failed. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wuse-after-free"
#endif

/* Expect NULL and ENOMEM from `expr`; free whatever came back otherwise. */
#define EXPECT_ENOMEM(expr)                                                                        \
    do {                                                                                           \
        errno = 0;                                                                                 \
        void *r_ = (expr);                                                                         \
        int e_ = errno;                                                                            \
        CHECK(r_ == NULL && e_ == ENOMEM, "%s = %p, errno %d; want NULL, ENOMEM (%d)", #expr, r_,  \
              e_, ENOMEM);                                                                         \
        free(r_);                                                                                  \
    } while (0)

static int overcommit_mode(void) {
    FILE *f = fopen("/proc/sys/vm/overcommit_memory", "r");
    int mode = -1;
    if (f) {
        if (fscanf(f, "%d", &mode) != 1)
            mode = -1;
        fclose(f);
    }
    return mode;
}

int main(void) {
    volatile size_t max = SIZE_MAX, half = SIZE_MAX / 2 + 1, big32 = (size_t)1 << 32;
    volatile size_t over_ptrdiff = (size_t)PTRDIFF_MAX + 1;

    /* calloc: nmemb * size overflows. */
    EXPECT_ENOMEM(calloc(half, 2));
    EXPECT_ENOMEM(calloc(2, half));
    EXPECT_ENOMEM(calloc(big32, big32));
    EXPECT_ENOMEM(calloc(max, max));
    EXPECT_ENOMEM(calloc(max, 1));

    /* malloc and friends above PTRDIFF_MAX. */
    EXPECT_ENOMEM(malloc(max));
    EXPECT_ENOMEM(malloc(over_ptrdiff));
    EXPECT_ENOMEM(malloc(max - 15));
    EXPECT_ENOMEM(aligned_alloc(16, max));
    EXPECT_ENOMEM(aligned_alloc(4096, over_ptrdiff));
    EXPECT_ENOMEM(memalign(64, max - 100));
    EXPECT_ENOMEM(valloc(max - 100));
    EXPECT_ENOMEM(pvalloc(max - 100));
    EXPECT_ENOMEM(reallocarray(NULL, half, 2));
    EXPECT_ENOMEM(realloc(NULL, max));

    /* Failed realloc / reallocarray: NULL, ENOMEM, old block intact. */
    const size_t sizes[] = {10, 500, 5000, 1 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        size_t n = sizes[i];
        unsigned char *p = malloc(n);
        CHECK(p != NULL, "malloc(%zu) failed", n);
        if (!p)
            continue;
        memset(p, 0x77, n);
        errno = 0;
        void *q = realloc(p, max);
        CHECK(q == NULL && errno == ENOMEM, "realloc(malloc(%zu), SIZE_MAX) = %p errno %d", n, q,
              errno);
        errno = 0;
        q = realloc(p, over_ptrdiff);
        CHECK(q == NULL && errno == ENOMEM, "realloc(malloc(%zu), PTRDIFF_MAX+1) = %p errno %d", n,
              q, errno);
        errno = 0;
        q = reallocarray(p, half, 2);
        CHECK(q == NULL && errno == ENOMEM, "reallocarray(malloc(%zu), overflow) = %p errno %d", n,
              q, errno);
        errno = 0;
        q = reallocarray(p, big32, big32);
        CHECK(q == NULL && errno == ENOMEM, "reallocarray(malloc(%zu), 2^32, 2^32) = %p errno %d",
              n, q, errno);
        for (size_t k = 0; k < n; k++)
            if (p[k] != 0x77) {
                CHECK(0, "block of %zu changed at byte %zu after a failed realloc", n, k);
                break;
            }
        free(p);
    }

    /* 4x the machine's memory: glibc says NULL/ENOMEM under overcommit mode
     * 0 (heuristic) and 2 (strict); mode 1 (always) would grant it. */
    struct sysinfo si;
    int mode = overcommit_mode();
    if (sysinfo(&si) == 0 && mode != 1) {
        volatile size_t total = ((size_t)si.totalram + si.totalswap) * si.mem_unit;
        volatile size_t impossible = 4 * total;
        EXPECT_ENOMEM(malloc(impossible));
        EXPECT_ENOMEM(calloc(impossible / 16, 16));
        EXPECT_ENOMEM(aligned_alloc(64, impossible));
        EXPECT_ENOMEM(memalign(4096, impossible));
        void *p = (void *)1;
        int rc = posix_memalign(&p, 64, impossible);
        CHECK(rc == ENOMEM && p == (void *)1,
              "posix_memalign(64, 4 x RAM) = %d, *p = %p; want ENOMEM, untouched", rc, p);
        if (rc == 0)
            free(p);
        unsigned char *b = malloc(100);
        memset(b, 0x42, 100);
        errno = 0;
        void *q = realloc(b, impossible);
        CHECK(q == NULL && errno == ENOMEM, "realloc(malloc(100), 4 x RAM) = %p errno %d", q,
              errno);
        CHECK(b[0] == 0x42 && b[99] == 0x42, "block changed after a failed realloc");
        free(q ? q : b);
    } else {
        fprintf(stderr, "note: overcommit_memory=%d, 4 x RAM check skipped\n", mode);
    }

    return check_done();
}
