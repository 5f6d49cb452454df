/*
 * as_limit - how much a program gets under an address-space limit
 * (RLIMIT_AS), for the limit_*.sh tests, which run it under glibc and with
 * poolgc preloaded and compare. Linked without poolgc.
 *
 *   as_limit MODE [KIB]
 *
 * With KIB, the program lowers its own RLIMIT_AS to KIB KiB first (after
 * start-up, as python's resource.setrlimit does: poolgc has reserved its
 * pool region by then); without it, the limit is the one it was started
 * under (ulimit -v). Each mode prints one number, in MiB, on stdout:
 *
 *   largest  the largest single malloc that succeeds (binary search to 1 MiB)
 *   fill     after one request too large for the limit has failed: how many
 *            1 MiB blocks malloc gives before it returns NULL
 *   realloc  a block doubled by realloc from 1 MiB: the last size reached
 *   lowered  (KIB required) malloc(10 MiB) after the limit was lowered: 10
 *            if it succeeded, 0 if not
 *
 * Blocks keep their contents (checked; a broken one exits 1), and a failed
 * request must set errno to ENOMEM.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define MIB ((size_t)1 << 20)

static int broken(const char *what) {
    fprintf(stderr, "as_limit: %s\n", what);
    return 1;
}

/* The first and last byte of each MiB of the block. */
static void mark(unsigned char *p, size_t size, unsigned char tag) {
    for (size_t off = 0; off < size; off += MIB) {
        p[off] = tag;
        p[off + MIB - 1] = (unsigned char)~tag;
    }
}
static int marked(const unsigned char *p, size_t size, unsigned char tag) {
    for (size_t off = 0; off < size; off += MIB)
        if (p[off] != tag || p[off + MIB - 1] != (unsigned char)~tag)
            return 0;
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2)
        return broken("usage: as_limit largest|fill|realloc|lowered [KIB]");
    const char *mode = argv[1];
    /* Start-up first: the allocator reserves what it reserves (a pool
     * block, and a block above the pools: jemalloc's). */
    void *warm = malloc(64), *warm_large = malloc(256 << 10);
    if (!warm || !warm_large)
        return broken("no memory at start-up");
    if (argc > 2) {
        struct rlimit lim;
        lim.rlim_cur = lim.rlim_max = (rlim_t)strtoull(argv[2], NULL, 10) << 10;
        if (setrlimit(RLIMIT_AS, &lim) != 0)
            return broken("setrlimit failed");
    }
    struct rlimit lim;
    if (getrlimit(RLIMIT_AS, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY)
        return broken("no address-space limit: run under ulimit -v or give KIB");
    size_t limit = (size_t)lim.rlim_cur;
    size_t result = 0;

    if (!strcmp(mode, "largest")) {
        size_t lo = 0, hi = limit + MIB;
        while (hi - lo > MIB) {
            size_t mid = lo + (hi - lo) / 2;
            errno = 0;
            void *p = malloc(mid);
            if (p) {
                lo = mid;
                free(p);
            } else {
                if (errno != ENOMEM)
                    return broken("malloc failed without ENOMEM");
                hi = mid;
            }
        }
        result = lo / MIB;
    } else if (!strcmp(mode, "fill")) {
        errno = 0;
        void *too_big = malloc(limit + limit / 2);
        if (too_big || errno != ENOMEM)
            return broken("a request of 1.5 times the limit did not fail with ENOMEM");
        size_t max = limit / MIB + 1, n = 0;
        unsigned char **blocks = malloc(max * sizeof *blocks);
        if (!blocks)
            return broken("no room for the block table");
        while (n < max && (blocks[n] = malloc(MIB)) != NULL) {
            mark(blocks[n], MIB, (unsigned char)n);
            n++;
        }
        for (size_t i = 0; i < n; i++) {
            if (!marked(blocks[i], MIB, (unsigned char)i))
                return broken("a 1 MiB block lost its contents");
            free(blocks[i]);
        }
        free(blocks);
        result = n;
    } else if (!strcmp(mode, "realloc")) {
        size_t size = MIB;
        unsigned char *p = malloc(size);
        if (!p)
            return broken("malloc(1 MiB) failed");
        mark(p, size, 0x5a);
        for (;;) {
            errno = 0;
            unsigned char *q = realloc(p, 2 * size);
            if (!q) {
                if (errno != ENOMEM)
                    return broken("realloc failed without ENOMEM");
                break;
            }
            p = q;
            if (!marked(p, size, 0x5a))
                return broken("realloc lost the block's contents");
            mark(p + size, size, 0x5a);
            size *= 2;
        }
        if (!marked(p, size, 0x5a))
            return broken("the block a failed realloc left is broken");
        free(p);
        result = size / MIB;
    } else if (!strcmp(mode, "lowered")) {
        if (argc < 3)
            return broken("lowered: KIB required");
        unsigned char *p = malloc(10 * MIB);
        if (p) {
            mark(p, 10 * MIB, 0x11);
            result = marked(p, 10 * MIB, 0x11) ? 10 : 0;
            free(p);
        }
    } else {
        return broken("unknown mode");
    }
    free(warm);
    free(warm_large);
    printf("%zu\n", result);
    return 0;
}
