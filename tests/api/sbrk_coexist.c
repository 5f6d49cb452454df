/*
 * sbrk_coexist - a program that moves the break itself (gcc's cc1 calls
 * sbrk, emacs too) and allocates in between keeps both working: memory
 * from sbrk and from malloc never overlap and keep their
 * contents.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"

#define ROUNDS 200

int main(void) {
    static unsigned char *brk_mem[ROUNDS], *heap_mem[ROUNDS];
    for (int i = 0; i < ROUNDS; i++) {
        void *b = sbrk(4096);
        if (b == (void *)-1) {
            fprintf(stderr, "note: sbrk unavailable; nothing to test\n");
            return 77;
        }
        brk_mem[i] = b;
        memset(b, i & 0xff, 4096);
        heap_mem[i] = malloc(100 + (size_t)i * 50);
        if (!heap_mem[i]) {
            fprintf(stderr, "%s:%d: malloc failed after sbrk\n", __FILE__, __LINE__);
            return 1;
        }
        memset(heap_mem[i], ~i & 0xff, 100 + (size_t)i * 50);
        if (i % 3 == 0) {
            free(heap_mem[i]);
            heap_mem[i] = NULL;
        }
    }
    for (int i = 0; i < ROUNDS; i++) {
        for (int k = 0; k < 4096; k++)
            if (brk_mem[i][k] != (unsigned char)(i & 0xff)) {
                fprintf(stderr, "%s:%d: sbrk page %d changed at byte %d\n", __FILE__, __LINE__, i,
                        k);
                failures++;
                break;
            }
        if (heap_mem[i]) {
            for (size_t k = 0; k < 100 + (size_t)i * 50; k++)
                if (heap_mem[i][k] != (unsigned char)(~i & 0xff)) {
                    fprintf(stderr, "%s:%d: malloc block %d changed at byte %zu\n", __FILE__,
                            __LINE__, i, k);
                    failures++;
                    break;
                }
            free(heap_mem[i]);
        }
    }
    return check_done();
}
