/*
 * debug_overflow - with POOLGC_DEBUG=1, a block written one byte past its
 * end is caught when it is freed (or reallocated):
 *   poolgc: free(): buffer overflow: the N-byte block 0x... (from CALL) was written at byte N, past its end
 * for a small (pool) block and a large (jemalloc) one. malloc_usable_size
 * answers the size asked for, so a program that trusts it stays inside.
 */
#include <malloc.h>

#include "debug_test.h"

static void small_by_one(void) {
    char *p = malloc(40);
    if (malloc_usable_size(p) != 40)
        _exit(4);
    expect_line("poolgc: free(): buffer overflow: the 40-byte block %p (from malloc) was written "
                "at byte 40, past its end",
                (void *)p);
    char *volatile end = p + 40; /* volatile: the compiler would warn */
    *end = 'x';
    free(p);
}

static void large_by_one(void) {
    char *p = malloc(LARGE);
    expect_line("poolgc: free(): buffer overflow: the %zu-byte block %p (from malloc) was written "
                "at byte %zu, past its end",
                LARGE, (void *)p, LARGE);
    char *volatile end = p + LARGE;
    *end = 'x';
    free(p);
}

static void realloc_after_overflow(void) {
    char *p = calloc(10, 3);
    expect_line("poolgc: realloc(): buffer overflow: the 30-byte block %p (from calloc) was "
                "written at byte 35, past its end",
                (void *)p);
    char *volatile past = p + 35;
    *past = 'x';
    p = realloc(p, 60);
}

int main(int argc, char **argv) {
    (void)argc;
    debug_reexec(argv);
    expect_abort("small block", small_by_one);
    expect_abort("large block", large_by_one);
    expect_abort("realloc", realloc_after_overflow);
    return check_done();
}
