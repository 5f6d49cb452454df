/*
 * debug_interior_free - with POOLGC_DEBUG=1, freeing a pointer into the
 * middle of a block aborts with one line: for a pool block, which block
 *   poolgc: free(): invalid pointer 0x... (byte K of the N-byte block 0x..., from CALL)
 * and for a large (jemalloc) block, or a pointer poolgc never handed out,
 *   poolgc: free(): invalid pointer 0x... (not a block poolgc handed out)
 */
#include <malloc.h>

#include "debug_test.h"

static void small_interior(void) {
    char *p = malloc(40);
    expect_line("poolgc: free(): invalid pointer %p (byte 16 of the 40-byte block %p, from malloc)",
                (void *)(p + 16), (void *)p);
    free(p + 16);
}

static void small_unaligned(void) {
    char *p = calloc(1, 100);
    expect_line("poolgc: free(): invalid pointer %p (byte 3 of the 100-byte block %p, from calloc)",
                (void *)(p + 3), (void *)p);
    free(p + 3);
}

static void large_interior(void) {
    char *p = malloc(LARGE);
    expect_line("poolgc: free(): invalid pointer %p (not a block poolgc handed out)",
                (void *)(p + 4096));
    free(p + 4096);
}

static void usable_size_interior(void) {
    char *p = malloc(LARGE);
    expect_line("poolgc: malloc_usable_size(): invalid pointer %p (not a block poolgc handed out)",
                (void *)(p + 32));
    if (malloc_usable_size(p + 32) == 0)
        _exit(3);
}

int main(int argc, char **argv) {
    (void)argc;
    debug_reexec(argv);
    expect_abort("small block", small_interior);
    expect_abort("small block, unaligned", small_unaligned);
    expect_abort("large block", large_interior);
    expect_abort("large block, malloc_usable_size", usable_size_interior);
    return check_done();
}
