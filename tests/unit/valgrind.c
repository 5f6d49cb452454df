/*
 * valgrind - stepping aside for valgrind (lib/valgrind.c). Outside valgrind,
 * pgc__valgrind_init returns 0 and leaves pgc__valgrind_aside 0, even with a
 * tool's vgpreload_<tool> in LD_PRELOAD. The functions the large path calls
 * when stepping aside (glibc's allocator underneath) keep every block's size
 * in a side table: usable size is the size asked for, 0 for a block freed or
 * never handed out; calloc-like and aligned requests are zeroed and
 * aligned; realloc keeps the contents and the new size; the table grows past
 * its first 4096 slots and stays right after deletions.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "../check.h"

#define N 5000 /* blocks live at once: more than half of 8192 slots */

static void *blocks[N];

int main(void) {
    CHECK(pgc__valgrind_init() == 0 && pgc__valgrind_aside == 0, "stepping aside by default");
    setenv("LD_PRELOAD", "/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so", 1);
    CHECK(pgc__valgrind_init() == 0 && pgc__valgrind_aside == 0,
          "stepping aside outside valgrind with vgpreload_memcheck in LD_PRELOAD");
    unsetenv("LD_PRELOAD");

    unsigned char *z = pgc__valgrind_malloc(1000, 0, 1), *a = pgc__valgrind_malloc(300, 4096, 1);
    int zeroed = z && a;
    for (int i = 0; i < 1000 && zeroed; i++)
        zeroed = z[i] == 0 && (i >= 300 || a[i] == 0);
    CHECK(zeroed, "zeroed requests not zero");
    CHECK(((uintptr_t)a & 4095) == 0, "aligned request at %p", (void *)a);
    CHECK(pgc__valgrind_usable_size(z) == 1000 && pgc__valgrind_usable_size(a) == 300,
          "usable sizes %zu and %zu", pgc__valgrind_usable_size(z), pgc__valgrind_usable_size(a));
    memset(z, 7, 1000);
    unsigned char *r = pgc__valgrind_realloc(z, 100000);
    CHECK(r && pgc__valgrind_usable_size(r) == 100000 && r[0] == 7 && r[999] == 7,
          "realloc to 100000: usable %zu", pgc__valgrind_usable_size(r));
    CHECK(r == z || pgc__valgrind_usable_size(z) == 0, "the moved block still has a size");
    pgc__valgrind_free(r);
    pgc__valgrind_free(a);
    CHECK(pgc__valgrind_usable_size(r) == 0 && pgc__valgrind_usable_size(a) == 0,
          "freed blocks keep a size");
    int on_stack;
    CHECK(pgc__valgrind_usable_size(&on_stack) == 0, "a pointer never handed out has a size");

    for (int round = 0; round < 2; round++) { /* the second over the first's deletions */
        for (size_t i = 0; i < N; i++)
            blocks[i] = pgc__valgrind_malloc(i + 1 + (size_t)round, 0, 0);
        size_t wrong = 0;
        for (size_t i = 0; i < N; i++)
            wrong += pgc__valgrind_usable_size(blocks[i]) != i + 1 + (size_t)round;
        CHECK(wrong == 0, "round %d: %zu of %d blocks with a wrong size", round, wrong, N);
        for (size_t i = 0; i < N; i += 2)
            pgc__valgrind_free(blocks[i]);
        for (size_t i = 0; i < N; i++)
            wrong += pgc__valgrind_usable_size(blocks[i]) != (i % 2 ? i + 1 + (size_t)round : 0);
        CHECK(wrong == 0, "round %d: %zu wrong sizes after freeing half", round, wrong);
        for (size_t i = 1; i < N; i += 2)
            pgc__valgrind_free(blocks[i]);
    }
    return check_done();
}
