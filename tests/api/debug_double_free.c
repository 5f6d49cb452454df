/*
 * debug_double_free - with POOLGC_DEBUG=1, freeing a block twice prints
 *   poolgc: free(): double free of 0x... (N-byte block from CALL)
 * and aborts, in every tier: a small (pool) block, a large (jemalloc) one,
 * an aligned one; also with other traffic between the two frees, and from a
 * realloc. A correct program is silent.
 */
#include "debug_test.h"

static void correct_program(void) {
    void *blocks[1000];
    for (int i = 0; i < 1000; i++)
        blocks[i] = malloc((size_t)(i % 600) * (i % 7 == 0 ? 500 : 1));
    for (int i = 0; i < 1000; i++)
        free(blocks[i]);
}

static void small_twice(void) {
    char *volatile p = malloc(32);
    expect_line("poolgc: free(): double free of %p (32-byte block from malloc)", (void *)p);
    free(p);
    free(p);
}

static void small_twice_with_traffic(void) {
    void *keep[50];
    for (int i = 0; i < 50; i++)
        keep[i] = malloc(200);
    char *volatile p = keep[17];
    expect_line("poolgc: free(): double free of %p (200-byte block from malloc)", (void *)p);
    free(p);
    for (int i = 0; i < 100; i++)
        free(malloc(40 + (size_t)i));
    free(p);
}

static void large_twice(void) {
    char *volatile p = malloc(LARGE);
    expect_line("poolgc: free(): double free of %p (%zu-byte block from malloc)", (void *)p, LARGE);
    free(p);
    free(p);
}

static void aligned_twice(void) {
    char *volatile p = aligned_alloc(4096, 100);
    expect_line("poolgc: free(): double free of %p (100-byte block from memalign)", (void *)p);
    free(p);
    free(p);
}

static void calloc_then_realloc(void) {
    char *volatile p = calloc(4, 10);
    expect_line("poolgc: realloc(): double free of %p (40-byte block from calloc)", (void *)p);
    free(p);
    p = realloc(p, 80);
}

int main(int argc, char **argv) {
    (void)argc;
    debug_reexec(argv);
    expect_exit("a correct program", correct_program);
    expect_abort("small block", small_twice);
    expect_abort("small block, traffic between", small_twice_with_traffic);
    expect_abort("large block", large_twice);
    expect_abort("aligned block", aligned_twice);
    expect_abort("realloc of a freed block", calloc_then_realloc);
    return check_done();
}
