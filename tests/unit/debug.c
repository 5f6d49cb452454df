/*
 * debug - the debug allocator (lib/debug.c), in children run with
 * POOLGC_DEBUG=1 (run_self.h) that call its functions directly. A block of
 * n bytes is 16-aligned (memalign: to its alignment), preceded by a 16-byte
 * header whose first word is n, filled with 0xCD (calloc: zeros) and
 * followed by guard bytes 0xFD up to the end of its real block; its usable
 * size is n. realloc always moves the block and copies it; a freed block is
 * filled with 0xDD and kept in quarantine. Each finding is one line, then
 * abort: a byte written past the end (at free), a second free, a byte
 * written after free (found at exit); at exit a block still in use is
 * summed in the leak summary, by size class and call.
 */
#include <stdint.h>
#include <string.h>

#include "debug.h"
#include "../check.h"
#include "run_self.h"

static int all(const unsigned char *p, size_t n, unsigned char c) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != c)
            return 0;
    return 1;
}

static int child(const char *mode) {
    pgc__init_ensure();
    unsigned char *p = pgc__debug_malloc(40);
    if (!strcmp(mode, "overflow")) {
        p[40] = 0;
        pgc__debug_free(p);
    } else if (!strcmp(mode, "double")) {
        pgc__debug_free(p);
        pgc__debug_free(p);
    } else if (!strcmp(mode, "after")) {
        pgc__debug_free(p);
        p[3] = 1;
        return 0; /* found at exit */
    }
    CHECK(pgc__debug_on == 1 && ((uintptr_t)p & 15) == 0, "debug on %d, block %p", pgc__debug_on,
          (void *)p);
    CHECK(*(const uint64_t *)(p - 16) == 40 && pgc__debug_usable_size(p) == 40, "header size %llu",
          (unsigned long long)*(const uint64_t *)(p - 16));
    CHECK(all(p, 40, 0xCD), "malloc'd bytes not 0xCD");
    size_t real = pgc_in_region(p) ? pgc_pool_of(p)->block_size : 0;
    CHECK(real >= 40 + 16 + 16 && all(p + 40, real - 16 - 40, 0xFD),
          "no guard bytes up to the %zu-byte real block's end", real);
    unsigned char *z = pgc__debug_calloc(3, 10), *m = pgc__debug_memalign(256, 100);
    CHECK(all(z, 30, 0) && pgc__debug_usable_size(z) == 30, "calloc");
    CHECK(((uintptr_t)m & 255) == 0 && all(m, 100, 0xCD) && pgc__debug_usable_size(m) == 100,
          "memalign(256, 100): %p", (void *)m);
    for (int i = 0; i < 40; i++)
        p[i] = (unsigned char)i;
    unsigned char *q = pgc__debug_realloc(p, 100);
    int copied = q && q != p && all(q + 40, 60, 0xCD);
    for (int i = 0; i < 40 && copied; i++)
        copied = q[i] == i;
    CHECK(copied, "realloc did not move and copy the block");
    CHECK(all(p, 40, 0xDD), "a block realloc left not filled with 0xDD");
    pgc__debug_free(q);
    pgc__debug_free(z);
    pgc__debug_free(m);
    CHECK(all(q, 100, 0xDD) && all(m, 100, 0xDD), "freed blocks not filled with 0xDD");
    pgc__debug_malloc(24); /* still in use at exit */
    return check_done();
}

int main(int argc, char **argv) {
    if (argc == 2)
        return child(argv[1]);
    static char err[8192];
    char *debug[] = {"POOLGC_DEBUG=1", NULL};
    CHECK(run_self("blocks", debug, err, sizeof err) == 0, "blocks: [%s]", err);
    CHECK(lines_with(err, "poolgc: leak summary: 1 blocks still in use at exit (24 bytes)") == 1 &&
              lines_with(err, "poolgc: leak summary: 17..32 bytes: 1 in use (24 bytes): "
                              "1 from malloc") == 1 &&
              lines_with(err, "") == 2,
          "leak summary: [%s]", err);
    CHECK(run_self("overflow", debug, err, sizeof err) == -1 &&
              lines_with(err, "poolgc: free(): buffer overflow: the 40-byte block ") == 1 &&
              lines_with(err, " (from malloc) was written at byte 40, past its end") == 1,
          "overflow: [%s]", err);
    CHECK(run_self("double", debug, err, sizeof err) == -1 &&
              lines_with(err, "poolgc: free(): double free of ") == 1 &&
              lines_with(err, " (40-byte block from malloc)") == 1,
          "double free: [%s]", err);
    CHECK(run_self("after", debug, err, sizeof err) == -1 &&
              lines_with(err, "poolgc: write after free: the 40-byte block ") == 1 &&
              lines_with(err, " (from malloc) was written at byte 3 after it was freed") == 1,
          "write after free: [%s]", err);
    return check_done();
}
