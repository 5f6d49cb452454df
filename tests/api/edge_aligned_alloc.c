/*
 * edge_aligned_alloc - aligned_alloc, memalign, valloc and pvalloc answer as
 * glibc 2.36 does: a size that is not a multiple of the
 * alignment is fine, an alignment that is not a power of two is rounded up,
 * alignment 0 is fine; an alignment above SIZE_MAX/2+1 is EINVAL. Every
 * power-of-two alignment from 1 to 2 MiB is honoured for sizes 1, a-1, a, 3a.
 * valloc/pvalloc are page-aligned; pvalloc rounds the size up to pages.
 */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../check.h"

/* poolgc promises one page for pvalloc(0); glibc 2.36 gives less. */
static int on_poolgc(void) {
    return dlsym(RTLD_DEFAULT, "pgc_malloc") != NULL;
}

typedef void *(*align_fn)(size_t, size_t);

struct lenient {
    size_t align, size, expect_align;
};

static void check_fn(const char *name, align_fn fn) {
    /* glibc 2.36 accepts all of these; the alignment actually given is the
     * next power of two (and at least 16, malloc's own alignment). */
    static const struct lenient table[] = {
        {64, 100, 64}, {24, 48, 32}, {24, 10, 32},    {0, 48, 16},     {1, 1, 16},
        {3, 7, 16},    {48, 1, 64},  {100, 200, 128}, {4096, 1, 4096}, {12288, 5, 16384},
    };
    for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
        const struct lenient *t = &table[i];
        errno = 777;
        unsigned char *p = fn(t->align, t->size);
        CHECK(p != NULL, "%s(%zu, %zu) returned NULL (errno %d); glibc succeeds", name, t->align,
              t->size, errno);
        if (!p)
            continue;
        CHECK(errno == 777, "%s(%zu, %zu) changed errno to %d", name, t->align, t->size, errno);
        CHECK(((uintptr_t)p & (t->expect_align - 1)) == 0, "%s(%zu, %zu) = %p is not %zu-aligned",
              name, t->align, t->size, (void *)p, t->expect_align);
        CHECK(malloc_usable_size(p) >= t->size, "%s(%zu, %zu): usable size %zu", name, t->align,
              t->size, malloc_usable_size(p));
        memset(p, 0xab, t->size);
        free(p);
    }

    /* Alignment above SIZE_MAX/2 + 1: EINVAL (glibc checks this first). */
    errno = 0;
    void *p = fn(SIZE_MAX / 2 + 2, 16);
    CHECK(p == NULL && errno == EINVAL, "%s(SIZE_MAX/2+2, 16) = %p errno %d, want NULL EINVAL",
          name, p, errno);
    free(p);

    /* Every power of two 1 .. 2 MiB, sizes 1, a-1, a, 3a. */
    for (size_t a = 1; a <= (2u << 20); a *= 2) {
        size_t sizes[] = {1, a > 1 ? a - 1 : 1, a, 3 * a};
        void *keep[4];
        for (int k = 0; k < 4; k++) {
            unsigned char *q = fn(a, sizes[k]);
            keep[k] = q;
            CHECK(q != NULL, "%s(%zu, %zu) failed", name, a, sizes[k]);
            if (!q)
                continue;
            size_t want = a < 16 ? 16 : a;
            CHECK(((uintptr_t)q & (want - 1)) == 0, "%s(%zu, %zu) = %p misaligned", name, a,
                  sizes[k], (void *)q);
            size_t u = malloc_usable_size(q);
            CHECK(u >= sizes[k], "%s(%zu, %zu): usable size %zu", name, a, sizes[k], u);
            memset(q, k, u);
        }
        for (int k = 0; k < 4; k++)
            free(keep[k]);
    }
}

static void *aligned_alloc_fn(size_t a, size_t n) {
    return aligned_alloc(a, n);
}
static void *memalign_fn(size_t a, size_t n) {
    return memalign(a, n);
}

int main(void) {
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);

    check_fn("aligned_alloc", aligned_alloc_fn);
    check_fn("memalign", memalign_fn);

    /* valloc: page-aligned, any size. */
    const size_t vsizes[] = {0, 1, 100, 4095, 4096, 4097, 100000};
    for (size_t i = 0; i < sizeof vsizes / sizeof *vsizes; i++) {
        size_t n = vsizes[i];
        unsigned char *p = valloc(n);
        CHECK(p != NULL, "valloc(%zu) returned NULL", n);
        if (!p)
            continue;
        CHECK(((uintptr_t)p & (page - 1)) == 0, "valloc(%zu) = %p is not page-aligned", n,
              (void *)p);
        CHECK(malloc_usable_size(p) >= n, "valloc(%zu): usable size %zu", n, malloc_usable_size(p));
        memset(p, 1, n);
        free(p);
    }

    /* pvalloc: page-aligned, the size rounded up to whole pages. */
    for (size_t i = 0; i < sizeof vsizes / sizeof *vsizes; i++) {
        size_t n = vsizes[i];
        unsigned char *p = pvalloc(n);
        CHECK(p != NULL, "pvalloc(%zu) returned NULL", n);
        if (!p)
            continue;
        CHECK(((uintptr_t)p & (page - 1)) == 0, "pvalloc(%zu) = %p is not page-aligned", n,
              (void *)p);
        size_t want = (n + page - 1) / page * page;
        if (n == 0 && on_poolgc())
            want = page; /* poolgc: pvalloc(0) is one page */
        size_t u = malloc_usable_size(p);
        CHECK(u >= want, "pvalloc(%zu): usable size %zu, want >= %zu", n, u, want);
        memset(p, 2, want);
        free(p);
    }

    return check_done();
}
