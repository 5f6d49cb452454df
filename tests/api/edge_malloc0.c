/*
 * edge_malloc0 - malloc(0) returns a unique, non-NULL, freeable block, as
 * glibc 2.36 does, and so do calloc(0, n), calloc(n, 0) and
 * realloc(NULL, 0).
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../check.h"

#define N 1000

int main(void) {
    static void *blocks[N];
    volatile size_t zero = 0;

    for (int i = 0; i < N; i++) {
        switch (i % 4) {
        case 0:
            blocks[i] = malloc(zero);
            break;
        case 1:
            blocks[i] = calloc(zero, 8);
            break;
        case 2:
            blocks[i] = calloc(8, zero);
            break;
        default:
            blocks[i] = realloc(NULL, zero);
            break;
        }
        CHECK(blocks[i] != NULL, "zero-size request #%d (kind %d) returned NULL", i, i % 4);
        CHECK(((uintptr_t)blocks[i] & 15) == 0, "zero-size block %p is not 16-aligned", blocks[i]);
    }
    /* Unique: no two live zero-size blocks share an address. */
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            if (blocks[i] && blocks[i] == blocks[j]) {
                CHECK(blocks[i] != blocks[j], "blocks #%d and #%d are both %p", i, j, blocks[i]);
                i = j = N; /* one report is enough */
            }
    /* Whatever usable size is reported must be writable without harming a
     * neighbour: write it all, then check every block still holds its tag. */
    for (int i = 0; i < N; i++) {
        if (!blocks[i])
            continue;
        size_t u = malloc_usable_size(blocks[i]);
        memset(blocks[i], i & 0xff, u);
    }
    for (int i = 0; i < N; i++) {
        if (!blocks[i])
            continue;
        size_t u = malloc_usable_size(blocks[i]);
        for (size_t k = 0; k < u; k++)
            if (((unsigned char *)blocks[i])[k] != (i & 0xff)) {
                CHECK(0, "block #%d byte %zu overwritten by a neighbour", i, k);
                break;
            }
    }
    for (int i = 0; i < N; i++)
        free(blocks[i]);

    return check_done();
}
