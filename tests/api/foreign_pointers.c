/*
 * foreign_pointers - blocks from another allocator (glibc's own, reached
 * through __libc_malloc & co, as code bound with RTLD_DEEPBIND or loaded
 * before the preload would hand over) can be passed to free, realloc and
 * malloc_usable_size without crashing:
 * realloc keeps their contents, usable size is 0 (unknown) or truthful.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../check.h"

/* glibc's own allocator, exported by libc.so.6 under these names. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

int main(void) {
    static const size_t sizes[] = {1, 24, 100, 512, 600, 5000, 200000, 2 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        size_t n = sizes[i];

        /* glibc block -> free */
        unsigned char *p = __libc_malloc(n);
        CHECK(p != NULL, "__libc_malloc(%zu) failed", n);
        memset(p, 0x61, n);
        size_t u = malloc_usable_size(p);
        CHECK(u == 0 || u >= n, "malloc_usable_size(glibc block of %zu) = %zu", n, u);
        free(p);

        /* glibc block -> realloc (grow, then shrink) -> free */
        p = __libc_calloc(1, n);
        CHECK(p != NULL, "__libc_calloc(%zu) failed", n);
        memset(p, 0x62, n);
        unsigned char *q = realloc(p, 2 * n);
        CHECK(q != NULL, "realloc(glibc block of %zu, %zu) failed", n, 2 * n);
        if (q) {
            size_t k;
            for (k = 0; k < n && q[k] == 0x62; k++)
                ;
            CHECK(k == n, "realloc(glibc block of %zu) lost byte %zu", n, k);
            unsigned char *r = realloc(q, n / 2 + 1);
            CHECK(r != NULL && r[0] == 0x62 && r[n / 2] == 0x62,
                  "realloc shrink of a (former) glibc block of %zu lost data", n);
            free(r ? r : q);
        }

        /* glibc aligned block -> free; glibc block -> realloc(p, 0) */
        p = __libc_memalign(64, n);
        CHECK(p != NULL, "__libc_memalign(64, %zu) failed", n);
        free(p);
        p = __libc_malloc(n);
        volatile size_t zero = 0;
        q = realloc(p, zero);
        CHECK(q == NULL, "realloc(glibc block, 0) = %p, want NULL", (void *)q);
        free(q);
    }

    /* The heap works afterwards. */
    for (int i = 0; i < 100000; i++)
        free(malloc((size_t)i % 1000));

    return check_done();
}
