/*
 * debug_write_after_free - with POOLGC_DEBUG=1, a freed block is filled
 * with a pattern and kept in a quarantine; a write to it is caught when it
 * leaves the quarantine (pushed out by later frees) or at exit:
 *   poolgc: write after free: the N-byte block 0x... (from CALL) was written at byte K after it was freed
 */
#include "debug_test.h"

static void small_pushed_out(void) {
    char *p = malloc(40);
    expect_line("poolgc: write after free: the 40-byte block %p (from malloc) was written at "
                "byte 5 after it was freed",
                (void *)p);
    free(p);
    p[5] = 0;
    for (int i = 0; i < 100000; i++)
        free(malloc(16));
    _exit(0); /* not reached: the quarantine holds fewer blocks */
}

static void large_at_exit(void) {
    char *p = malloc(LARGE);
    expect_line("poolgc: write after free: the %zu-byte block %p (from malloc) was written at "
                "byte 1000 after it was freed",
                LARGE, (void *)p);
    free(p);
    p[1000] = 0;
}

int main(int argc, char **argv) {
    (void)argc;
    debug_reexec(argv);
    expect_abort("small block", small_pushed_out);
    expect_abort("large block", large_at_exit);
    return check_done();
}
