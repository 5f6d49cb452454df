/*
 * size_classes - poolgc's small size classes as seen through usable_size:
 * requests 1..512 round up to the next multiple of 16 (32 classes, 16..512;
 * lib/internal.h), malloc(0) gets a 16-byte block; 513 and more go to the
 * large path and get at least the request. The same through the pgc_* names.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

#include "poolgc.h"
#include "../check.h"

static size_t class_of(size_t n) {
    return n == 0 ? 16 : (n + 15) & ~(size_t)15;
}

int main(void) {
    volatile size_t zero = 0;
    void *p = malloc(zero);
    CHECK(malloc_usable_size(p) == 16, "malloc_usable_size(malloc(0)) = %zu, want 16",
          malloc_usable_size(p));
    free(p);

    for (size_t n = 1; n <= 512; n++) {
        void *a = malloc(n), *b = calloc(1, n), *c = pgc_malloc(n);
        CHECK(malloc_usable_size(a) == class_of(n),
              "malloc_usable_size(malloc(%zu)) = %zu, want %zu", n, malloc_usable_size(a),
              class_of(n));
        CHECK(malloc_usable_size(b) == class_of(n),
              "malloc_usable_size(calloc(1, %zu)) = %zu, want %zu", n, malloc_usable_size(b),
              class_of(n));
        CHECK(pgc_usable_size(c) == class_of(n), "pgc_usable_size(pgc_malloc(%zu)) = %zu, want %zu",
              n, pgc_usable_size(c), class_of(n));
        free(a);
        free(b);
        pgc_free(c);
    }

    /* Reallocs inside the small range land on the same classes. */
    void *r = NULL;
    for (size_t n = 1; n <= 512; n++) {
        r = realloc(r, n);
        CHECK(malloc_usable_size(r) == class_of(n), "usable size after realloc to %zu = %zu", n,
              malloc_usable_size(r));
    }
    free(r);

    /* Past the last class: the large path, still truthful. */
    for (size_t n = 513; n <= 4096; n += 61) {
        void *a = malloc(n);
        CHECK(malloc_usable_size(a) >= n, "malloc_usable_size(malloc(%zu)) = %zu", n,
              malloc_usable_size(a));
        free(a);
    }

    return check_done();
}
