/*
 * errno_kept_on_success - a call that succeeds leaves errno as it was
 * (glibc never touches errno on success, and no function may set it to 0):
 * malloc, calloc, realloc, reallocarray, posix_memalign, aligned_alloc,
 * memalign, valloc, pvalloc, malloc_usable_size, malloc_trim, mallinfo2 and
 * free, for small and large sizes. The first large request of the process
 * (which may start the large-object allocator) comes first.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include "../check.h"

/* Evaluate `expr` (which must succeed) with errno = 777; errno must stay. */
#define KEEPS_ERRNO(expr)                                                                          \
    do {                                                                                           \
        errno = 777;                                                                               \
        (expr);                                                                                    \
        int e_ = errno;                                                                            \
        CHECK(e_ == 777, "%s changed errno from 777 to %d", #expr, e_);                            \
    } while (0)

int main(void) {
    void *p = NULL, *q = NULL;

    /* First of all: the first large requests of the process. */
    KEEPS_ERRNO(p = malloc(100000));
    KEEPS_ERRNO(free(p));
    KEEPS_ERRNO(p = aligned_alloc(64, 100));
    KEEPS_ERRNO(free(p));

    static const size_t sizes[] = {0, 1, 100, 512, 513, 5000, 100000, 4 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        size_t n = sizes[i];
        KEEPS_ERRNO(p = malloc(n));
        CHECK(p != NULL, "malloc(%zu) failed", n);
        KEEPS_ERRNO(malloc_usable_size(p));
        KEEPS_ERRNO(q = realloc(p, 2 * n + 1));
        if (q)
            p = q;
        KEEPS_ERRNO(q = realloc(p, n / 2 + 1));
        if (q)
            p = q;
        KEEPS_ERRNO(free(p));
        KEEPS_ERRNO(p = calloc(n, 1));
        KEEPS_ERRNO(free(p));
        KEEPS_ERRNO(p = reallocarray(NULL, n, 2));
        KEEPS_ERRNO(free(p));
        KEEPS_ERRNO(p = realloc(NULL, n));
        KEEPS_ERRNO(free(p));
        int rc = -1;
        KEEPS_ERRNO(rc = posix_memalign(&p, 256, n));
        CHECK(rc == 0, "posix_memalign(256, %zu) = %d", n, rc);
        if (rc == 0)
            KEEPS_ERRNO(free(p));
        KEEPS_ERRNO(p = aligned_alloc(32, n));
        KEEPS_ERRNO(free(p));
        KEEPS_ERRNO(p = memalign(4096, n));
        KEEPS_ERRNO(free(p));
        KEEPS_ERRNO(p = valloc(n));
        KEEPS_ERRNO(free(p));
        KEEPS_ERRNO(p = pvalloc(n));
        KEEPS_ERRNO(free(p));
    }
    KEEPS_ERRNO(malloc_trim(0));
    KEEPS_ERRNO(mallinfo2());

    return check_done();
}
