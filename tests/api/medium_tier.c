/*
 * medium_tier - where malloc sends a request above 512 bytes (poolgc(3),
 * "Where a request goes"): up to 64 KiB, to the pools' medium classes - its
 * usable size is counted whole in pool_bytes_in_use and it adds nothing to
 * jemalloc_requests - and past 64 KiB to jemalloc (jemalloc_requests counts
 * it, pool_bytes_in_use does not move). POOLGC_MEDIUM_MAX=N lowers the
 * limit to N bytes; POOLGC_MEDIUM_MAX=0 sends everything above 512 bytes to
 * jemalloc, pymalloc's split, and leaves the small tier as it was.
 *
 * The program runs itself again once per setting (the child checks; its
 * argument is the limit it expects), and reads the statistics of each
 * request from pgc_stats_print's text report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "poolgc.h"
#include "../check.h"

#define LIMIT 65536 /* the largest medium class, PGC_MEDIUM_LIMIT in lib/internal.h */

static char report[65536];
static FILE *out;

/* pool_bytes_in_use and jemalloc_requests, now. The stream is opened once
 * and its buffer made by a first report, so a report allocates nothing. */
static void counters(size_t *pool_bytes, unsigned long long *jemalloc_requests) {
    rewind(out);
    pgc_stats_print(out);
    long len = ftell(out);
    report[len > 0 && len < (long)sizeof report ? len : 0] = '\0';
    const char *p = strstr(report, "pool_bytes_in_use ");
    const char *j = strstr(report, "jemalloc_requests ");
    if (!p || sscanf(p, "pool_bytes_in_use %zu", pool_bytes) != 1 || !j ||
        sscanf(j, "jemalloc_requests %llu", jemalloc_requests) != 1) {
        fprintf(stderr, "no counters in the report: [%s]\n", report);
        exit(1);
    }
}

/* Where malloc(n) went: 1 the pools, 0 jemalloc, -1 neither can be told. */
static int pooled(size_t n) {
    size_t bytes0, bytes1;
    unsigned long long requests0, requests1;
    counters(&bytes0, &requests0);
    void *p = malloc(n);
    counters(&bytes1, &requests1);
    size_t usable = pgc_usable_size(p);
    free(p);
    if (bytes1 == bytes0 + usable && requests1 == requests0)
        return 1;
    if (bytes1 == bytes0 && requests1 == requests0 + 1)
        return 0;
    fprintf(stderr,
            "malloc(%zu): pool bytes %zu -> %zu (usable %zu), jemalloc requests %llu -> "
            "%llu\n",
            n, bytes0, bytes1, usable, requests0, requests1);
    return -1;
}

static int child(size_t limit) {
    out = fmemopen(report, sizeof report - 1, "w");
    if (!out)
        return 1;
    size_t unused_bytes;
    unsigned long long unused_requests;
    counters(&unused_bytes, &unused_requests);
    if (pooled(16) != 1) {
        fprintf(stderr, "note: no pool region here (ulimit -v?); nothing to check\n");
        return 77;
    }
    static const size_t sizes[] = {16,    100,   512,   513,   576,   577,   1000,  1001,  1024,
                                   2049,  4096,  4097,  5457,  8000,  8191,  8192,  8193,  10000,
                                   16384, 21841, 32767, 32768, 32769, 40000, 65536, 65537, 70000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        int want = n <= 512 || n <= limit;
        CHECK(pooled(n) == want, "POOLGC_MEDIUM_MAX %zu: malloc(%zu) not from %s", limit, n,
              want ? "the pools" : "jemalloc");
    }
    /* A medium block is its class's, for its lifetime. */
    if (limit) {
        char *p = malloc(600);
        memset(p, 7, pgc_usable_size(p));
        CHECK(pgc_usable_size(p) >= 600 && pgc_usable_size(p) % 16 == 0 &&
                  pgc_usable_size(p) <= LIMIT,
              "malloc(600): usable size %zu", pgc_usable_size(p));
        free(p);
    }
    fclose(out);
    return check_done();
}

/* Runs this program with POOLGC_MEDIUM_MAX=value (NULL: unset); the child
 * expects the limit `expect`. Returns 1 when it found no pools. */
static int run(const char *value, size_t expect) {
    char arg[32];
    snprintf(arg, sizeof arg, "%zu", expect);
    pid_t pid = fork();
    if (pid == 0) {
        if (value)
            setenv("POOLGC_MEDIUM_MAX", value, 1);
        else
            unsetenv("POOLGC_MEDIUM_MAX");
        execl("/proc/self/exe", "medium_tier", arg, (char *)NULL);
        _exit(127);
    }
    int status;
    int ok = pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status);
    if (ok && WEXITSTATUS(status) == 77)
        return 1;
    CHECK(ok && WEXITSTATUS(status) == 0, "POOLGC_MEDIUM_MAX=%s: the child failed",
          value ? value : "(unset)");
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 2)
        return child((size_t)strtoul(argv[1], NULL, 10));
    if (run(NULL, LIMIT))
        return 77;
    run("0", 0);
    run("1000", 1000);
    run("8K", 8192);
    run("32K", 32768);
    run("64K", LIMIT);
    run("128K", LIMIT); /* above the largest class: refused, the default stays */
    return check_done();
}
