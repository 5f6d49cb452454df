/*
 * edge_posix_memalign - posix_memalign answers as glibc 2.36 does:
 * EINVAL unless the alignment is a power of two and a multiple of
 * sizeof(void *); *memptr untouched on any error; ENOMEM is returned (not
 * only stored in errno) when the size cannot be had; size 0 succeeds.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../check.h"

#define SENTINEL ((void *)0x5a5a5a5a)

int main(void) {
    /* Invalid alignments: EINVAL, *p untouched. */
    const size_t bad[] = {0, 1, 2, 3, 4, 12, 24, 48, 4095, 4097, SIZE_MAX, ((size_t)1 << 63) + 8};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        void *p = SENTINEL;
        int rc = posix_memalign(&p, bad[i], 64);
        CHECK(rc == EINVAL, "posix_memalign(align %zu) = %d, want EINVAL", bad[i], rc);
        CHECK(p == SENTINEL, "posix_memalign(align %zu) wrote %p to *memptr on error", bad[i], p);
        if (rc == 0)
            free(p);
    }

    /* Valid alignments 8 .. 2 MiB, with sizes 0, 1, a-1, a, 3a. */
    for (size_t a = sizeof(void *); a <= (2u << 20); a *= 2) {
        size_t sizes[] = {0, 1, a - 1, a, 3 * a};
        for (int k = 0; k < 5; k++) {
            void *p = SENTINEL;
            int rc = posix_memalign(&p, a, sizes[k]);
            CHECK(rc == 0, "posix_memalign(align %zu, size %zu) = %d", a, sizes[k], rc);
            if (rc != 0)
                continue;
            CHECK(p != NULL && p != SENTINEL, "posix_memalign(align %zu, size %zu) gave %p", a,
                  sizes[k], p);
            size_t want = a < 16 ? 16 : a;
            CHECK(((uintptr_t)p & (want - 1)) == 0,
                  "posix_memalign(align %zu, size %zu) = %p not %zu-aligned", a, sizes[k], p, want);
            size_t u = malloc_usable_size(p);
            CHECK(u >= sizes[k], "posix_memalign(align %zu, size %zu): usable size %zu", a,
                  sizes[k], u);
            memset(p, 0x3c, u);
            free(p);
        }
    }

    /* Sizes that cannot be had: the return value is ENOMEM, *p untouched. */
    const size_t huge[] = {SIZE_MAX, SIZE_MAX - 4096, SIZE_MAX / 2, (size_t)PTRDIFF_MAX + 1};
    for (size_t i = 0; i < sizeof huge / sizeof *huge; i++) {
        for (size_t a = 16; a <= 4096; a *= 16) {
            void *p = SENTINEL;
            int rc = posix_memalign(&p, a, huge[i]);
            CHECK(rc == ENOMEM, "posix_memalign(align %zu, size %zu) = %d, want ENOMEM", a, huge[i],
                  rc);
            CHECK(p == SENTINEL, "posix_memalign(align %zu, size %zu) wrote %p on error", a,
                  huge[i], p);
            if (rc == 0)
                free(p);
        }
    }

    return check_done();
}
