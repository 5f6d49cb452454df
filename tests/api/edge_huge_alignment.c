/*
 * edge_huge_alignment - a request whose size plus alignment no memory could
 * hold fails as under glibc 2.36: aligned_alloc and memalign return NULL
 * with errno ENOMEM, posix_memalign returns ENOMEM and leaves *memptr alone.
 * glibc asks for size + alignment bytes: past PTRDIFF_MAX (alignments of
 * 2^62 and 2^63, a size that overflows with its alignment) it refuses at
 * once, and past RAM + swap (under the default overcommit heuristic)
 * the kernel refuses, so aligned_alloc(1 << 40, 16) fails on any machine
 * with less than a terabyte. The same calls to glibc's own __libc_memalign,
 * in this process, give the answer to match: where glibc fails, poolgc must
 * fail with ENOMEM, whatever the alignment's share of the request.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "../check.h"

extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

#define SENTINEL ((void *)0x5a5a5a5a)

/* Would glibc's allocator give size bytes aligned to alignment? */
static int glibc_gives(size_t alignment, size_t size) {
    errno = 0;
    void *p = __libc_memalign(alignment, size);
    if (p)
        __libc_free(p);
    return p != NULL;
}

static void check_one(size_t alignment, size_t size, int must_fail) {
    int glibc_ok = glibc_gives(alignment, size);
    CHECK(!(must_fail && glibc_ok),
          "glibc gave (align %#zx, size %zu): the test's premise is wrong", alignment, size);
    if (glibc_ok)
        return; /* a machine with that much memory: nothing to compare */

    errno = 0;
    void *p = aligned_alloc(alignment, size);
    CHECK(p == NULL && errno == ENOMEM, "aligned_alloc(%#zx, %zu) = %p, errno %d; glibc: ENOMEM",
          alignment, size, p, errno);
    free(p);

    errno = 0;
    p = memalign(alignment, size);
    CHECK(p == NULL && errno == ENOMEM, "memalign(%#zx, %zu) = %p, errno %d; glibc: ENOMEM",
          alignment, size, p, errno);
    free(p);

    void *q = SENTINEL;
    int rc = posix_memalign(&q, alignment, size);
    CHECK(rc == ENOMEM && q == SENTINEL,
          "posix_memalign(&p, %#zx, %zu) = %d, p %p; glibc: ENOMEM, p untouched", alignment, size,
          rc, q);
    if (rc == 0)
        free(q);
}

int main(void) {
    /* Alignments from a terabyte up, with small sizes: the alignment alone
     * is the request. 2^62 and 2^63 (with any size) pass PTRDIFF_MAX. */
    const size_t sizes[] = {1, 16, 100, 4096};
    for (unsigned shift = 40; shift <= 63; shift++) {
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
            check_one((size_t)1 << shift, sizes[i], shift >= 62);
    }
    /* A size that fits alone but overflows PTRDIFF_MAX or SIZE_MAX with its
     * alignment. */
    check_one(4096, (size_t)PTRDIFF_MAX - 100, 1);
    check_one((size_t)1 << 20, (size_t)PTRDIFF_MAX - 4096, 1);
    check_one((size_t)1 << 20, SIZE_MAX - ((size_t)1 << 19), 1);
    check_one((size_t)1 << 40, SIZE_MAX - 100, 1);

    /* Still fine: a large alignment that memory can hold. */
    void *p = aligned_alloc((size_t)1 << 21, 100);
    CHECK(p != NULL && ((uintptr_t)p & (((size_t)1 << 21) - 1)) == 0,
          "aligned_alloc(2 MiB, 100) = %p", p);
    free(p);
    return check_done();
}
