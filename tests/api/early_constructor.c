/*
 * early_constructor - allocation from a constructor with priority 101, before
 * most start-up code has run, works: malloc, calloc, realloc,
 * posix_memalign and free from the constructor; the blocks it keeps are
 * intact when main runs, and main can realloc and free them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../check.h"

#define KEEP 64
static unsigned char *kept[KEEP];
static size_t kept_size[KEEP];
static int early_ok = -1;

__attribute__((constructor(101))) static void early(void) {
    early_ok = 1;
    /* Churn first, so that both fresh and reused blocks are kept. */
    for (int i = 0; i < 1000; i++) {
        void *p = malloc((size_t)(i % 700));
        void *q = calloc(3, (size_t)(i % 50));
        if (!p || !q)
            early_ok = 0;
        free(p);
        free(q);
    }
    for (int i = 0; i < KEEP; i++) {
        size_t n = 1 + (size_t)i * 97;
        unsigned char *p = malloc(n / 2 + 1);
        if (!p) {
            early_ok = 0;
            continue;
        }
        p = realloc(p, n);
        if (!p) {
            early_ok = 0;
            continue;
        }
        memset(p, i + 1, n);
        kept[i] = p;
        kept_size[i] = n;
    }
    void *a = NULL;
    if (posix_memalign(&a, 256, 100) != 0 || ((uintptr_t)a & 255))
        early_ok = 0;
    free(a);
}

int main(void) {
    CHECK(early_ok == 1, "allocation in constructor(101) failed (early_ok = %d)", early_ok);
    for (int i = 0; i < KEEP; i++) {
        if (!kept[i])
            continue;
        for (size_t k = 0; k < kept_size[i]; k++)
            if (kept[i][k] != (unsigned char)(i + 1)) {
                CHECK(0, "block %d from the constructor changed at byte %zu", i, k);
                break;
            }
        unsigned char *q = realloc(kept[i], kept_size[i] * 3);
        CHECK(q != NULL, "realloc of constructor block %d failed", i);
        if (q) {
            CHECK(q[0] == (unsigned char)(i + 1) && q[kept_size[i] - 1] == (unsigned char)(i + 1),
                  "realloc of constructor block %d lost its contents", i);
            free(q);
        } else {
            free(kept[i]);
        }
    }
    return check_done();
}
