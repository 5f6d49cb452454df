/*
 * size_classes - poolgc's size classes as seen through usable_size
 * (poolgc(3), "Where a request goes"; lib/internal.h):
 * - small: requests 1..512 round up to the next multiple of 16 (32 classes,
 *   16..512), malloc(0) gets a 16-byte block;
 * - medium: requests 513..65536 round up to one of 36 classes, 576 to 65536
 *   bytes, multiples of 16, each the smallest that holds the request (a
 *   class size asked for is served exactly) and none leaving more than
 *   33.4% of a pool (64 KiB up to 32 KiB, 256 KiB above) of its worst
 *   request unused; 4368 (sqlite3's page with its header) is one;
 * - past 65536, the large path, which gets at least the request.
 * The same through calloc, realloc and the pgc_* names.
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

    /* The medium classes: every size up to 65536 lands on the smallest class
     * that holds it, whichever entry point asks. */
    size_t classes = 0, last = 512;
    for (size_t n = 513; n <= 65536; n++) {
        void *a = malloc(n), *b = calloc(n, 1), *c = pgc_malloc(n);
        size_t u = malloc_usable_size(a);
        CHECK(u >= n && u % 16 == 0 && u <= 65536 && u >= last,
              "malloc_usable_size(malloc(%zu)) = %zu (the class below %zu)", n, u, last);
        CHECK(malloc_usable_size(b) == u && pgc_usable_size(c) == u,
              "%zu bytes: calloc's block %zu, pgc_malloc's %zu, malloc's %zu", n,
              malloc_usable_size(b), pgc_usable_size(c), u);
        if (u != last) { /* n is one byte above the class below: the worst case */
            CHECK(n == last + 1, "%zu bytes: a class of %zu, yet %zu is a class", n, u, n - 1);
            size_t pool = u <= 32768 ? 65536 : 262144;
            CHECK((pool / u) * n * 1000 >= (1000 - 334) * pool,
                  "class %zu: a pool of %zu-byte blocks %zu%% used", u, n,
                  100 * (pool / u) * n / pool);
            classes++;
            last = u;
        }
        free(a);
        free(b);
        pgc_free(c);
        if (failures)
            break;
    }
    CHECK(classes == 36 && last == 65536, "%zu medium classes, the largest %zu", classes, last);

    /* sqlite3's page of 4096 bytes with its header: a class of its own. */
    void *page = malloc(4368);
    CHECK(malloc_usable_size(page) == 4368, "a 4368-byte request got %zu bytes",
          malloc_usable_size(page));
    free(page);

    /* Past the last class: the large path, still truthful. */
    for (size_t n = 65537; n <= 140000; n += 61) {
        void *a = malloc(n);
        CHECK(malloc_usable_size(a) >= n, "malloc_usable_size(malloc(%zu)) = %zu", n,
              malloc_usable_size(a));
        free(a);
    }

    return check_done();
}
