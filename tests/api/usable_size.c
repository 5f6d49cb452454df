/*
 * usable_size - malloc_usable_size is truthful: at least the
 * request, every reported byte writable without touching a neighbour, stable
 * for the block's life, 0 for NULL; calloc zeroes the whole usable size even
 * when it reuses a dirty block.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../check.h"

#define NB 8

static size_t first_not(const unsigned char *p, size_t n, unsigned char v) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return i;
    return n;
}

int main(void) {
    CHECK(malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL) = %zu",
          malloc_usable_size(NULL));

    /* Sizes 1..1100 exhaustively, then sampled up to 1 MiB. */
    for (size_t n = 1; n <= (1u << 20); n = n < 1100 ? n + 1 : n * 9 / 8) {
        unsigned char *b[NB];
        size_t u[NB];
        for (int i = 0; i < NB; i++) {
            b[i] = malloc(n);
            CHECK(b[i] != NULL, "malloc(%zu) failed", n);
            if (!b[i])
                return 1;
            u[i] = malloc_usable_size(b[i]);
            CHECK(u[i] >= n, "malloc_usable_size(malloc(%zu)) = %zu", n, u[i]);
        }
        /* Fill every usable byte of every block with its own tag... */
        for (int i = 0; i < NB; i++)
            memset(b[i], 0x10 + i, u[i]);
        /* ...and each block must still hold only its tag, and report the
         * same usable size as before. */
        for (int i = 0; i < NB; i++) {
            size_t bad = first_not(b[i], u[i], (unsigned char)(0x10 + i));
            CHECK(bad == u[i],
                  "malloc(%zu) block %d: byte %zu of %zu usable was "
                  "overwritten by a neighbour",
                  n, i, bad, u[i]);
            size_t again = malloc_usable_size(b[i]);
            CHECK(again == u[i], "malloc_usable_size(%p) changed from %zu to %zu", (void *)b[i],
                  u[i], again);
        }
        for (int i = 0; i < NB; i++)
            free(b[i]);
    }

    /* calloc zeroes the whole usable size, also for a reused dirty block. */
    for (size_t n = 1; n <= (1u << 20); n = n < 1100 ? n + 7 : n * 3 / 2) {
        for (int round = 0; round < 4; round++) {
            unsigned char *p = malloc(n);
            size_t u = malloc_usable_size(p);
            memset(p, 0xff, u);
            free(p);
            unsigned char *c = calloc(1, n);
            CHECK(c != NULL, "calloc(1, %zu) failed", n);
            if (!c)
                return 1;
            size_t cu = malloc_usable_size(c);
            size_t bad = first_not(c, cu, 0);
            CHECK(bad == cu, "calloc(1, %zu): byte %zu of %zu usable is not zero", n, bad, cu);
            free(c);
            if (bad != cu)
                break;
        }
    }

    return check_done();
}
