/*
 * pgc_api - the pgc_* allocation names (man/poolgc.3, FUNCTIONS) behave like
 * their standard aliases and mix freely with them: pgc_malloc/pgc_free,
 * pgc_calloc zeroes, pgc_realloc(NULL, n) mallocs and (p, 0) frees,
 * pgc_usable_size truthful and 0 for NULL, pgc_posix_memalign and
 * pgc_aligned_alloc with glibc's rules, pgc_trim returns 0 or 1, and
 * pgc_stats_print writes a report to the FILE it is given and nowhere else.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "poolgc.h"
#include "../check.h"

int main(void) {
    volatile size_t zero = 0, half = SIZE_MAX / 2 + 1, max = SIZE_MAX;
    static const size_t sizes[] = {0, 1, 16, 200, 512, 513, 10000, 1 << 20};

    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        size_t n = sizes[i];
        unsigned char *p = pgc_malloc(n);
        CHECK(p != NULL, "pgc_malloc(%zu) returned NULL", n);
        CHECK(((uintptr_t)p & 15) == 0, "pgc_malloc(%zu) = %p not 16-aligned", n, (void *)p);
        CHECK(pgc_usable_size(p) >= n, "pgc_usable_size(pgc_malloc(%zu)) = %zu", n,
              pgc_usable_size(p));
        memset(p, 0xee, n);
        pgc_free(p);

        /* calloc zeroes, even over a dirty reused block. */
        p = pgc_malloc(n);
        memset(p, 0xee, pgc_usable_size(p));
        pgc_free(p);
        unsigned char *c = pgc_calloc(1, n);
        CHECK(c != NULL, "pgc_calloc(1, %zu) returned NULL", n);
        for (size_t k = 0; c && k < pgc_usable_size(c); k++)
            if (c[k]) {
                CHECK(c[k] == 0, "pgc_calloc(1, %zu): byte %zu is %#x", n, k, c[k]);
                break;
            }
        /* Standard and pgc_* names mix. */
        free(c);
        void *m = malloc(n);
        pgc_free(m);
    }

    /* pgc_realloc: NULL mallocs, keeps contents, 0 frees and returns NULL. */
    unsigned char *r = pgc_realloc(NULL, 10);
    CHECK(r != NULL, "pgc_realloc(NULL, 10) returned NULL");
    memcpy(r, "0123456789", 10);
    r = pgc_realloc(r, 5000);
    CHECK(r && memcmp(r, "0123456789", 10) == 0, "pgc_realloc grow lost the contents");
    r = pgc_realloc(r, 300);
    CHECK(r && memcmp(r, "0123456789", 10) == 0, "pgc_realloc shrink lost the contents");
    errno = 55;
    void *z = pgc_realloc(r, zero);
    CHECK(z == NULL, "pgc_realloc(p, 0) = %p, want NULL", z);
    CHECK(errno == 55, "pgc_realloc(p, 0) changed errno to %d", errno);
    CHECK(pgc_usable_size(NULL) == 0, "pgc_usable_size(NULL) = %zu", pgc_usable_size(NULL));

    /* Overflow: NULL + ENOMEM. */
    errno = 0;
    void *o = pgc_calloc(half, 2);
    CHECK(o == NULL && errno == ENOMEM, "pgc_calloc overflow = %p errno %d", o, errno);
    errno = 0;
    o = pgc_malloc(max);
    CHECK(o == NULL && errno == ENOMEM, "pgc_malloc(SIZE_MAX) = %p errno %d", o, errno);

    /* pgc_posix_memalign: EINVAL untouched, OK aligned. */
    void *a = (void *)1;
    int rc = pgc_posix_memalign(&a, 24, 10);
    CHECK(rc == EINVAL && a == (void *)1, "pgc_posix_memalign(24) = %d, *p = %p", rc, a);
    rc = pgc_posix_memalign(&a, 256, 10);
    CHECK(rc == 0 && ((uintptr_t)a & 255) == 0, "pgc_posix_memalign(256) = %d, %p", rc, a);
    if (rc == 0)
        pgc_free(a);

    /* pgc_aligned_alloc: lenient like glibc. */
    void *b = pgc_aligned_alloc(24, 48);
    CHECK(b && ((uintptr_t)b & 31) == 0, "pgc_aligned_alloc(24, 48) = %p", b);
    free(b);
    b = pgc_aligned_alloc(64, 100);
    CHECK(b && ((uintptr_t)b & 63) == 0, "pgc_aligned_alloc(64, 100) = %p", b);
    pgc_free(b);

    int t = pgc_trim(0);
    CHECK(t == 0 || t == 1, "pgc_trim(0) = %d", t);

    /* pgc_stats_print writes to the given FILE, not to stdout/stderr. */
    FILE *f = tmpfile(), *out = tmpfile(), *err = tmpfile();
    CHECK(f && out && err, "tmpfile failed");
    if (f && out && err) {
        void *live[100];
        for (int i = 0; i < 100; i++)
            live[i] = pgc_malloc(48);
        fflush(stdout);
        fflush(stderr);
        int save1 = dup(1), save2 = dup(2);
        dup2(fileno(out), 1);
        dup2(fileno(err), 2);
        pgc_stats_print(f);
        fflush(f);
        fflush(stdout);
        fflush(stderr);
        dup2(save1, 1);
        dup2(save2, 2);
        close(save1);
        close(save2);
        long nf = ftell(f);
        if (nf <= 0)
            nf = lseek(fileno(f), 0, SEEK_END);
        long nout = lseek(fileno(out), 0, SEEK_END), nerr = lseek(fileno(err), 0, SEEK_END);
        CHECK(nf > 0, "pgc_stats_print wrote nothing to its FILE");
        CHECK(nout == 0, "pgc_stats_print wrote %ld bytes to stdout", nout);
        CHECK(nerr == 0, "pgc_stats_print wrote %ld bytes to stderr", nerr);
        for (int i = 0; i < 100; i++)
            pgc_free(live[i]);
        fclose(f);
        fclose(out);
        fclose(err);
    }

    return check_done();
}
