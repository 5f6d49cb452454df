/*
 * edge_realloc - realloc answers as glibc 2.36 does:
 * realloc(p, 0) frees p and returns NULL with errno untouched;
 * realloc(NULL, n) is malloc(n); growing and shrinking keep the contents,
 * across the small/large boundary both ways; a new size that fits in the
 * usable size keeps the same pointer.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../check.h"

static void fill(unsigned char *p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed + i * 7);
}

/* Index of the first byte that differs from the pattern, or n. */
static size_t verify(const unsigned char *p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(seed + i * 7))
            return i;
    return n;
}

int main(void) {
    volatile size_t zero = 0;

    /* realloc(p, 0): frees, returns NULL, errno untouched; small and large. */
    const size_t sizes0[] = {1, 16, 100, 512, 513, 4096, 1 << 20};
    for (size_t i = 0; i < sizeof sizes0 / sizeof *sizes0; i++) {
        void *p = malloc(sizes0[i]);
        CHECK(p != NULL, "malloc(%zu) failed", sizes0[i]);
        errno = 4321;
        void *q = realloc(p, zero);
        CHECK(q == NULL, "realloc(malloc(%zu), 0) returned %p, glibc returns NULL", sizes0[i], q);
        CHECK(errno == 4321, "realloc(malloc(%zu), 0) changed errno to %d", sizes0[i], errno);
    }

    /* realloc(p, 0) really frees: 200000 rounds must not accumulate memory. */
    struct mallinfo2 before = mallinfo2();
    for (int i = 0; i < 200000; i++) {
        void *p = malloc(100 + (i & 255));
        void *q = realloc(p, zero);
        if (q) {
            CHECK(q == NULL, "realloc(p, 0) returned %p", q);
            free(q);
            break;
        }
    }
    struct mallinfo2 after = mallinfo2();
    size_t grown = (after.uordblks + after.hblkhd) - (before.uordblks + before.hblkhd);
    CHECK((ssize_t)grown < (1 << 20),
          "200000 x realloc(malloc(~230), 0) left %zd bytes in use (mallinfo2): "
          "realloc(p, 0) does not free",
          (ssize_t)grown);

    /* realloc(NULL, n) is malloc(n). */
    const size_t sizes1[] = {0, 1, 15, 16, 17, 511, 512, 513, 4096, 100000, 3 << 20};
    for (size_t i = 0; i < sizeof sizes1 / sizeof *sizes1; i++) {
        size_t n = sizes1[i];
        errno = 99;
        unsigned char *p = realloc(NULL, n);
        CHECK(p != NULL, "realloc(NULL, %zu) returned NULL", n);
        if (!p)
            continue;
        CHECK(errno == 99, "realloc(NULL, %zu) changed errno to %d", n, errno);
        CHECK(((uintptr_t)p & 15) == 0, "realloc(NULL, %zu) = %p is not 16-aligned", n, (void *)p);
        CHECK(malloc_usable_size(p) >= n, "realloc(NULL, %zu): usable size %zu", n,
              malloc_usable_size(p));
        fill(p, n, 3);
        CHECK(verify(p, n, 3) == n, "realloc(NULL, %zu) block not writable", n);
        free(p);
    }

    /* Grow step by step across every class and into the large path, then
     * shrink back: the common prefix survives every move. */
    size_t n = 1;
    unsigned char *p = malloc(n);
    fill(p, n, 11);
    while (n < (4 << 20)) {
        size_t m = n < 1024 ? n + 1 + n / 8 : n * 2;
        unsigned char *q = realloc(p, m);
        CHECK(q != NULL, "realloc(%zu -> %zu) failed", n, m);
        if (!q)
            break;
        size_t bad = verify(q, n, 11);
        CHECK(bad == n, "realloc grow %zu -> %zu: byte %zu lost", n, m, bad);
        fill(q, m, 11);
        p = q;
        n = m;
    }
    while (n > 1) {
        size_t m = n > 2048 ? n / 2 : n - 1 - n / 8;
        if (m == 0)
            m = 1;
        unsigned char *q = realloc(p, m);
        CHECK(q != NULL, "realloc(%zu -> %zu) failed", n, m);
        if (!q)
            break;
        size_t bad = verify(q, m, 11);
        CHECK(bad == m, "realloc shrink %zu -> %zu: byte %zu lost", n, m, bad);
        p = q;
        n = m;
    }
    free(p);

    /* A new size within the usable size keeps the block where it is
     * (glibc does, and programs rely on cheap in-place resizes). */
    const size_t sizes2[] = {1, 24, 100, 300, 500, 1000, 5000, 70000, 1 << 20};
    for (size_t i = 0; i < sizeof sizes2 / sizeof *sizes2; i++) {
        unsigned char *a = malloc(sizes2[i]);
        size_t u = malloc_usable_size(a);
        fill(a, sizes2[i], 5);
        unsigned char *b = realloc(a, u);
        CHECK(b == a, "realloc(malloc(%zu) = %p, usable size %zu) moved to %p", sizes2[i],
              (void *)a, u, (void *)b);
        if (!b)
            b = a;
        CHECK(verify(b, sizes2[i], 5) == sizes2[i], "realloc to usable size lost data");
        unsigned char *c = realloc(b, sizes2[i] > 1 ? sizes2[i] - 1 : 1);
        CHECK(c == b, "realloc shrink by one byte of %zu moved %p to %p", sizes2[i], (void *)b,
              (void *)c);
        free(c ? c : b);
    }

    return check_done();
}
