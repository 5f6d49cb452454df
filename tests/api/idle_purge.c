/*
 * idle_purge - memory that large blocks held goes back to the OS even when
 * the program makes no further large frees: after freeing 64 MiB of 1 MiB
 * blocks (within the purge interval, so they stay resident) and waiting past
 * poolgc's purge interval (1 s), ordinary small allocations are enough to
 * get resident memory back down.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"

static long resident_kib(void) {
    long pages_total = 0, pages_resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2)
        pages_resident = -1;
    fclose(f);
    return pages_resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void fill_blocks(char **blocks, int n, size_t size) {
    for (int i = 0; i < n; i++) {
        blocks[i] = malloc(size);
        CHECK(blocks[i] != NULL, "malloc(%zu) #%d failed", size, i);
        if (blocks[i])
            memset(blocks[i], 0x5a, size);
    }
}

int main(void) {
    enum { BLOCKS = 64, BLOCK = 1 << 20 };
    static char *blocks[BLOCKS];
    /* A first round of large frees makes poolgc purge now, so the purge
     * interval has not passed when the real blocks are freed below. */
    fill_blocks(blocks, BLOCKS, 4096);
    for (int i = 0; i < BLOCKS; i++)
        free(blocks[i]);
    long before = resident_kib();
    fill_blocks(blocks, BLOCKS, BLOCK);
    long full = resident_kib();
    CHECK(full - before > 60 * 1024, "64 MiB written but resident grew by %ld KiB only",
          full - before);
    for (int i = 0; i < BLOCKS; i++)
        free(blocks[i]);

    /* Past the purge interval, then small allocations only: 2.5 MiB of
     * 128-byte blocks, enough to go through the pools' slow path often. */
    struct timespec pause = {1, 300 * 1000 * 1000};
    nanosleep(&pause, NULL);
    enum { SMALL = 20000 };
    static void *small[SMALL];
    for (int i = 0; i < SMALL; i++)
        small[i] = malloc(128);
    for (int i = 0; i < SMALL; i++)
        free(small[i]);
    long after = resident_kib();
    CHECK(after - before < 16 * 1024,
          "resident %ld KiB before, %ld with the blocks, %ld after freeing and waiting", before,
          full, after);
    return check_done();
}
