/*
 * debug_leak_summary - with POOLGC_DEBUG=1, a program that exits with
 * blocks in use prints one line with their total, then one line per size
 * class (16-byte steps up to 512 bytes, powers of two above), saying which
 * calls made them; a program that frees everything prints nothing. malloc'd
 * bytes read 0xCD, calloc'd bytes zero.
 */
#include "debug_test.h"

static void leaks(void) {
    void *keep[5];
    keep[0] = malloc(40);
    keep[1] = malloc(48);
    keep[2] = malloc(33);
    keep[3] = calloc(2, 20);
    keep[4] = malloc(LARGE);
    expect_line("poolgc: leak summary: 5 blocks still in use at exit (%zu bytes)",
                (size_t)(40 + 48 + 33 + 40) + LARGE);
    expect_line("poolgc: leak summary: 33..48 bytes: 4 in use (161 bytes): 3 from malloc, 1 from "
                "calloc");
    expect_line("poolgc: leak summary: 131073..262144 bytes: 1 in use (%zu bytes): 1 from malloc",
                LARGE);
    (void)keep;
}

static void fills(void) {
    unsigned char *m = malloc(100), *c = calloc(100, 1);
    for (int i = 0; i < 100; i++)
        if (m[i] != 0xCD || c[i] != 0)
            _exit(4);
    free(m);
    free(c);
}

int main(int argc, char **argv) {
    (void)argc;
    debug_reexec(argv);
    expect_exit("blocks in use at exit", leaks);
    expect_exit("everything freed", fills);
    return check_done();
}
