/*
 * freed_memory_bound - the pages of freed large blocks do not stay resident
 * without bound, checked the moment the last free returns (no sleeping, no
 * later allocator call), from the resident size in /proc/self/statm:
 * - a buffer grown to GROW_TO by malloc, copy and free, doubling: resident
 *   stays within the buffer plus an eighth of it and SLACK (what the blocks
 *   under 32 MiB leave for reuse: 31 MiB), where keeping every freed block
 *   would hold twice the buffer;
 * - then the buffer freed, and MANY blocks of 8 MiB allocated, written and all
 *   freed: resident goes back to within KEPT_MAX (64 MiB of freed pages kept
 *   for reuse, and 16 MiB a thread may free between two checks of the bound)
 *   and SLACK of what it was before the first block;
 * - then KEPT blocks of 4 MiB allocated, written and freed (pages jemalloc
 *   keeps for reuse, under the bound), and the pools grown to a new peak by
 *   POOLS_GROWN of small blocks: the kept pages go back, since the pools
 *   cannot reuse them (glibc would have). On a machine so slow that a
 *   second passes meanwhile, the purge due once a second gives them back
 *   too: then this passes without showing it.
 * (The bound is jemalloc's, tuned in lib/large.c: blocks of 32 MiB and more
 * are purged when freed; other freed pages are purged when they pass 64 MiB
 * and eight times the pages in use.)
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"

#define MIB ((size_t)1 << 20)
#define GROW_TO (256 * MIB)
#define MANY 32
#define KEPT_MAX (80 * MIB)
#define SLACK (8 * MIB)
#define KEPT 8
#define POOLS_GROWN (48 * MIB)

/* Resident bytes, from /proc/self/statm (read with read(2): no stdio, which
 * would allocate); 0 if unreadable. */
static size_t resident(void) {
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    char *space = strchr(buf, ' ');
    return space ? strtoull(space + 1, NULL, 10) * (size_t)sysconf(_SC_PAGESIZE) : 0;
}

/* Write every page of p[from, to) with its page number. */
static void touch(char *p, size_t from, size_t to) {
    for (size_t i = from; i < to; i += 4096)
        p[i] = (char)(i >> 12);
}

int main(void) {
    size_t before = resident();
    if (!before) {
        fprintf(stderr, "no /proc/self/statm: skipped\n");
        return 77;
    }

    size_t n = MIB;
    char *buf = malloc(n);
    CHECK(buf != NULL, "malloc(%zu)", n);
    touch(buf, 0, n);
    while (buf && n < GROW_TO) {
        char *bigger = malloc(2 * n);
        CHECK(bigger != NULL, "malloc(%zu)", 2 * n);
        if (!bigger)
            break;
        memcpy(bigger, buf, n);
        touch(bigger, n, 2 * n);
        free(buf);
        buf = bigger;
        n *= 2;
    }
    size_t grown = resident();
    CHECK(grown <= before + n + n / 8 + SLACK,
          "buffer grown to %zu MiB by copies: %zu MiB resident (%zu before), over %zu", n / MIB,
          grown / MIB, before / MIB, (before + n + n / 8 + SLACK) / MIB);
    CHECK(buf[n - 4096] == (char)((n - 4096) >> 12) && buf[4096] == 1, "the buffer's contents");
    free(buf);

    char *block[MANY];
    for (int i = 0; i < MANY; i++) {
        block[i] = malloc(8 * MIB);
        CHECK(block[i] != NULL, "malloc(8 MiB) #%d", i);
        if (block[i])
            touch(block[i], 0, 8 * MIB);
    }
    size_t full = resident();
    CHECK(full >= before + MANY * 8 * MIB, "%d blocks of 8 MiB written: only %zu MiB resident",
          MANY, full / MIB);
    for (int i = 0; i < MANY; i++)
        free(block[i]);
    size_t after = resident();
    CHECK(after <= before + KEPT_MAX + SLACK,
          "%d blocks of 8 MiB freed: %zu MiB resident (%zu before), over %zu", MANY, after / MIB,
          before / MIB, (before + KEPT_MAX + SLACK) / MIB);

    /* The purge due once a second first runs at the 64th large free or so
     * (lib/large.c, PURGE_CHECK_EVERY): those first, so that it is not what
     * gives the kept pages back. */
    for (int i = 0; i < 2 * 64; i++)
        free(malloc(256 << 10));
    size_t unkept = resident();
    for (int i = 0; i < KEPT; i++) {
        block[i] = malloc(4 * MIB);
        CHECK(block[i] != NULL, "malloc(4 MiB) #%d", i);
        if (block[i])
            touch(block[i], 0, 4 * MIB);
    }
    for (int i = 0; i < KEPT; i++)
        free(block[i]);
    /* 256-byte blocks, each holding the address of the one before */
    void **chain = NULL;
    for (size_t i = 0; i < POOLS_GROWN / 256; i++) {
        void **link = malloc(256);
        CHECK(link != NULL, "malloc(256) #%zu", i);
        if (!link)
            break;
        memset(link, 1, 256);
        *link = chain;
        chain = link;
    }
    size_t grown_pools = resident();
    CHECK(grown_pools <= unkept + POOLS_GROWN + POOLS_GROWN / 8 + SLACK,
          "%d blocks of 4 MiB freed, then the pools grown by %zu MiB: %zu MiB resident (%zu "
          "before), over %zu",
          KEPT, POOLS_GROWN / MIB, grown_pools / MIB, unkept / MIB,
          (unkept + POOLS_GROWN + POOLS_GROWN / 8 + SLACK) / MIB);
    while (chain) {
        void **before_it = *chain;
        free(chain);
        chain = before_it;
    }
    return check_done();
}
