/*
 * edge_alignment - every block is 16-byte aligned, whatever its size and
 * whichever call made it (glibc 2.36 gives 16 even for malloc(1); jemalloc
 * and mimalloc give 8).
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "../check.h"

#define MISALIGNED(p) (((uintptr_t)(p)&15) != 0)

int main(void) {
    /* Every size 0..4096 from malloc, calloc and reallocarray; keep a few
     * of each alive so that neighbours in the same pool are checked too. */
    for (size_t n = 0; n <= 4096; n++) {
        void *a = malloc(n), *b = malloc(n), *c = calloc(1, n), *d = reallocarray(NULL, n, 1);
        CHECK(a && b && c && d, "allocation of %zu bytes failed", n);
        CHECK(!MISALIGNED(a) && !MISALIGNED(b), "malloc(%zu) gave %p, %p", n, a, b);
        CHECK(!MISALIGNED(c), "calloc(1, %zu) gave %p", n, c);
        CHECK(!MISALIGNED(d), "reallocarray(NULL, %zu, 1) gave %p", n, d);
        free(a);
        free(b);
        free(c);
        free(d);
    }

    /* realloc growing one byte at a time, and shrinking back. */
    void *p = NULL;
    for (size_t n = 1; n <= 4096; n++) {
        void *q = realloc(p, n);
        CHECK(q != NULL, "realloc(%p, %zu) failed", p, n);
        if (!q)
            break;
        CHECK(!MISALIGNED(q), "realloc(.., %zu) gave %p", n, q);
        p = q;
    }
    for (size_t n = 4096; n >= 1 && p; n--) {
        void *q = realloc(p, n);
        CHECK(q != NULL, "realloc(%p, %zu) failed", p, n);
        if (!q)
            break;
        CHECK(!MISALIGNED(q), "realloc(.., %zu) gave %p", n, q);
        p = q;
    }
    free(p);

    /* Many live blocks of the small sizes at once (fills whole pools). */
    static void *live[20000];
    for (int i = 0; i < 20000; i++) {
        size_t n = 1 + (size_t)(i * 37) % 600;
        live[i] = malloc(n);
        CHECK(live[i] && !MISALIGNED(live[i]), "malloc(%zu) #%d gave %p", n, i, live[i]);
    }
    for (int i = 0; i < 20000; i++)
        free(live[i]);

    /* Larger sizes, sampled up to 8 MiB. */
    for (size_t n = 4097; n <= (8u << 20); n = n * 5 / 4 + 1) {
        void *a = malloc(n), *c = calloc(n, 1);
        CHECK(a && c, "allocation of %zu bytes failed", n);
        CHECK(!MISALIGNED(a) && !MISALIGNED(c), "size %zu gave %p, %p", n, a, c);
        free(a);
        free(c);
    }

    return check_done();
}
