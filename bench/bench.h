/*
 * bench.h - what every workload under bench/ shares: parameters, a fast
 * random number generator, a size mix, a clock, RSS readings and the one
 * result line the runner (bench/run.py) parses.
 *
 * Parameters are given as key=value words on the command line
 * ("churn iters=2000000 live=20000"); a key not given keeps its default, an
 * unknown key is an error, so a typo in the runner cannot go unnoticed.
 *
 * Every workload ends by printing exactly one line
 *
 *     bench: ops=<n> [key=value ...]
 *
 * on stdout. ops is the unit of work (allocations, items, realloc calls) the
 * runner divides by wall time for throughput; the other keys are reported as
 * they are (RSS readings, in-program timings). The runner measures wall time,
 * CPU time and peak RSS itself (wait4), so workloads do not time themselves
 * unless a phase must be isolated.
 *
 * Allocated memory is always written to and every pointer is kept in an array
 * that outlives the loop, so the compiler cannot elide a malloc/free pair.
 */
#ifndef POOLGC_BENCH_H
#define POOLGC_BENCH_H

#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- parameters -------------------------------------------------------- */

struct bench_param {
    const char *key;
    long *value;
    const char *help;
};

/* Parse key=value words into `params` (terminated by a zero entry). Prints
 * the parameter list and exits with status 2 on an unknown key or "-h". */
static inline void bench_args(int argc, char **argv, const struct bench_param *params) {
    for (int i = 1; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        const struct bench_param *p = params;
        if (eq)
            for (; p->key; p++)
                if (strlen(p->key) == (size_t)(eq - argv[i]) &&
                    strncmp(p->key, argv[i], (size_t)(eq - argv[i])) == 0)
                    break;
        if (!eq || !p->key) {
            fprintf(stderr, "usage: %s [key=value ...]\n", argv[0]);
            for (p = params; p->key; p++)
                fprintf(stderr, "  %-10s %s (default %ld)\n", p->key, p->help, *p->value);
            exit(2);
        }
        *p->value = strtol(eq + 1, NULL, 0);
    }
}

/* ---- random numbers ---------------------------------------------------- */

/* xorshift64*: fast, deterministic for a seed, good enough to pick sizes and
 * slots; its cost must not hide the allocator's. */
/* The GC shape programs' command line (gc_shapes.c, gc_shapes_boehm.c):
 * SHAPE [n=N] [ring=R] [live=L]; exits with a usage line on a bad shape. */
static inline const char *bench_gc_shape_args(int argc, char **argv, long *n, long *ring,
                                              long *live) {
    const struct bench_param params[] = {
        {"n", n, "objects built or allocated"},
        {"ring", ring, "nodes per ring"},
        {"live", live, "objects kept alive during auto"},
        {0, 0, 0},
    };
    const char *shape = argc > 1 ? argv[1] : "";
    if (strcmp(shape, "rings") && strcmp(shape, "live") && strcmp(shape, "auto") &&
        strcmp(shape, "chain")) {
        fprintf(stderr, "usage: %s rings|live|auto|chain [key=value ...]\n", argv[0]);
        exit(2);
    }
    bench_args(argc - 1, argv + 1, params);
    return shape;
}

static inline uint64_t bench_rand(uint64_t *state) {
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [lo, hi]. */
static inline size_t bench_range(uint64_t *state, size_t lo, size_t hi) {
    return lo + (size_t)(bench_rand(state) % (hi - lo + 1));
}

/* A size as an interpreter asks for them: most requests are small objects
 * (CPython on 64-bit: tuples, ints, short strings, dict entries), a few are
 * buffers up to `max` bytes. Shares: 50% 16..64, 30% 65..128, 15% 129..256,
 * 5% 257..max. */
static inline size_t bench_small_size(uint64_t *state, size_t max) {
    unsigned r = (unsigned)(bench_rand(state) % 100);
    if (r < 50)
        return bench_range(state, 16, 64);
    if (r < 80)
        return bench_range(state, 65, 128);
    if (r < 95 || max <= 256)
        return bench_range(state, 129, 256);
    return bench_range(state, 257, max);
}

/* ---- time and memory --------------------------------------------------- */

static inline double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A field of /proc/self/status in KiB ("VmRSS", "VmHWM"); -1 if unknown.
 * Read with open/read into a stack buffer: fopen would allocate, and the
 * reading must not disturb what it measures. */
static inline long bench_status_kb(const char *field) {
    char buf[8192];
    size_t n = strlen(field), len = 0;
    ssize_t got;
    int fd = open("/proc/self/status", O_RDONLY);
    if (fd < 0)
        return -1;
    while (len < sizeof buf - 1 && (got = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)got;
    close(fd);
    buf[len] = 0;
    for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (strncmp(line, field, n) == 0 && line[n] == ':')
            return strtol(line + n + 1, NULL, 10);
    return -1;
}

/* Write one byte in every page of [p, p + n): the program uses what it asked
 * for, so an allocator that hands out fresh pages pays for their faults. */
static inline void bench_touch(void *p, size_t n) {
    volatile char *c = p;
    for (size_t i = 0; i < n; i += 4096)
        c[i] = (char)i;
    if (n)
        c[n - 1] = 1;
}

/* n zeroed elements of `size` bytes (a multiple of 64) in cache lines of
 * their own: state that threads update on every step must not share a line
 * (false sharing), wherever the allocator put the array. From calloc, not
 * aligned_alloc, which some allocators serve on another path (poolgc:
 * jemalloc, whose start-up adds a mebibyte to a small program's peak).
 * Free *raw. */
static inline void *bench_lines(size_t n, size_t size, void **raw) {
    char *p = calloc(n * size + 63, 1);
    if (!p) {
        perror("calloc");
        exit(1);
    }
    *raw = p;
    return (void *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
}

/* ---- the result line --------------------------------------------------- */

/* Run fn in n threads (argument: the thread's index) and return the sum of
 * what they return: the workloads' check value. */
static inline uintptr_t bench_run_threads(long n, void *(*fn)(void *)) {
    pthread_t *tid = calloc((size_t)n, sizeof *tid);
    for (long t = 0; t < n; t++)
        pthread_create(&tid[t], NULL, fn, (void *)(uintptr_t)t);
    uintptr_t check = 0;
    for (long t = 0; t < n; t++) {
        void *r;
        pthread_join(tid[t], &r);
        check += (uintptr_t)r;
    }
    free(tid);
    return check;
}

static inline void bench_result(const char *fmt, ...) {
    va_list ap;
    fputs("bench: ", stdout);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

#endif /* POOLGC_BENCH_H */
