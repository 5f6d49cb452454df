/*
 * fuzz.h - what the model-based fuzzers (tests/fuzz/alloc_model.c, gc_model.c) share: their
 * random choices, their arguments and their failure message.
 *
 * Choices come from splitmix64 seeded by the `seed=` argument, so a run is a
 * function of its arguments; or, built with -DPGC_LIBFUZZER (make fuzz), from
 * the bytes of a libFuzzer input, the program's main replaced by
 * LLVMFuzzerTestOneInput. A failure prints the arguments, the thread and the
 * index of the operation that found it, with the command line that reruns
 * it, and exits with status 1 (aborts under libFuzzer, which then saves the
 * input).
 */
#ifndef POOLGC_TESTS_FUZZ_H
#define POOLGC_TESTS_FUZZ_H

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- random choices ------------------------------------------------------- */

typedef struct fuzz_rng {
    uint64_t state;      /* splitmix64's */
    const uint8_t *data; /* a libFuzzer input, or NULL: choices from state */
    size_t size, pos;    /* its length, and how much of it was read */
} fuzz_rng;

static inline uint64_t fuzz_splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A choice below n (0 for n <= 1): from the PRNG, or from as many input
 * bytes as n - 1 needs (zeros past its end). */
static inline uint64_t fuzz_below(fuzz_rng *r, uint64_t n) {
    if (n <= 1)
        return 0;
    if (!r->data)
        return fuzz_splitmix64(&r->state) % n;
    uint64_t v = 0;
    for (uint64_t m = n - 1; m; m >>= 8)
        v = v << 8 | (r->pos < r->size ? r->data[r->pos++] : 0);
    return v % n;
}

/* 1 with probability 1/n. */
static inline int fuzz_one_in(fuzz_rng *r, uint64_t n) {
    return fuzz_below(r, n) == 0;
}

/* A 64-bit value that is not a choice (a pattern's seed): always from the
 * PRNG, so that libFuzzer's bytes go to decisions. */
static inline uint64_t fuzz_bits(fuzz_rng *r) {
    return fuzz_splitmix64(&r->state);
}

/* 1 once a libFuzzer input is used up. */
static inline int fuzz_exhausted(const fuzz_rng *r) {
    return r->data && r->pos >= r->size;
}

/* ---- arguments ------------------------------------------------------------ */

/* One `name=value` argument and its value (an unsigned decimal). */
typedef struct fuzz_arg {
    const char *name;
    unsigned long long value; /* the default until parsed */
    const char *help;
} fuzz_arg;

extern char **environ;
static char fuzz_command[1024]; /* the arguments as parsed, for the rerun line */

/* Parse argv against args[0..n-1]; on an unknown or malformed argument,
 * print the usage and exit with status 2. */
static inline void fuzz_parse(const char *prog, int argc, char **argv, fuzz_arg *args, int n) {
    for (int i = 1; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        int k = 0;
        for (; eq && k < n; k++)
            if (strlen(args[k].name) == (size_t)(eq - argv[i]) &&
                strncmp(args[k].name, argv[i], (size_t)(eq - argv[i])) == 0)
                break;
        char *end = NULL;
        if (eq && k < n)
            args[k].value = strtoull(eq + 1, &end, 10);
        if (!eq || k == n || end == eq + 1 || *end) {
            fprintf(stderr, "usage: %s", prog);
            for (k = 0; k < n; k++)
                fprintf(stderr, " [%s=N]", args[k].name);
            fputc('\n', stderr);
            for (k = 0; k < n; k++)
                fprintf(stderr, "  %s=N  %s (default %llu)\n", args[k].name, args[k].help,
                        args[k].value);
            exit(2);
        }
    }
    /* the library's settings too (POOLGC_REGION=0 changes the run), not the
     * tests' POOLGC_LIB */
    size_t len = 0;
    for (char **e = environ; *e && len < sizeof fuzz_command; e++)
        if (strncmp(*e, "POOLGC_", 7) == 0 && strncmp(*e, "POOLGC_LIB=", 11) != 0)
            len += (size_t)snprintf(fuzz_command + len, sizeof fuzz_command - len, "%s ", *e);
    if (len < sizeof fuzz_command)
        len += (size_t)snprintf(fuzz_command + len, sizeof fuzz_command - len, "%s", prog);
    for (int k = 0; k < n && len < sizeof fuzz_command; k++)
        len += (size_t)snprintf(fuzz_command + len, sizeof fuzz_command - len, " %s=%llu",
                                args[k].name, args[k].value);
}

/* ---- failure -------------------------------------------------------------- */

static pthread_mutex_t fuzz_fail_lock = PTHREAD_MUTEX_INITIALIZER;

/* Print "PROG: FAILED at thread T op I (WHAT): message" and the command that
 * reruns the case, then exit 1 (abort under libFuzzer). Only the first thread
 * to fail prints; the others wait for the exit. */
static void fuzz_fail(const char *prog, int thread, long op, const char *what, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 5, 6)));
static void fuzz_fail(const char *prog, int thread, long op, const char *what, const char *fmt,
                      ...) {
    pthread_mutex_lock(&fuzz_fail_lock); /* never unlocked */
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: FAILED at thread %d op %ld (%s): ", prog, thread, op, what);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
#ifdef PGC_LIBFUZZER
    fputc('\n', stderr);
    abort();
#else
    fprintf(stderr, "\n%s: rerun: %s\n", prog, fuzz_command);
    fflush(stderr);
    _exit(1);
#endif
}

/* ---- block contents ------------------------------------------------------- */

/* The loops over block contents are not coverage: under libFuzzer they would
 * spend most of the time reporting each word's compare. */
#if defined(__clang__) && defined(PGC_LIBFUZZER)
#define FUZZ_NO_COVERAGE __attribute__((no_sanitize("coverage"), noinline))
#else
#define FUZZ_NO_COVERAGE
#endif

/* A pattern that depends on a seed and on the position: word i of a block
 * (bytes 8i..8i+7, little-endian) is seed ^ i * golden, so a byte moved,
 * lost, zeroed or taken from another block shows. Cheap enough for blocks of
 * megabytes (the compiler vectorizes the word loops). */
static inline uint64_t fuzz_word(uint64_t seed, size_t i) {
    return seed ^ (uint64_t)i * 0x9E3779B97F4A7C15ull;
}
static inline unsigned char fuzz_byte(uint64_t seed, size_t at) {
    return (unsigned char)(fuzz_word(seed, at / 8) >> (at % 8 * 8));
}

/* Write the pattern of seed over bytes [from, to) of p (p 8-aligned). */
FUZZ_NO_COVERAGE static inline void fuzz_fill(unsigned char *p, size_t from, size_t to,
                                              uint64_t seed) {
    size_t i = from;
    for (; i < to && i % 8; i++)
        p[i] = fuzz_byte(seed, i);
    for (; i + 8 <= to; i += 8) {
        uint64_t w = fuzz_word(seed, i / 8);
        __builtin_memcpy(p + i, &w, 8); /* inlined under -fno-builtin */
    }
    for (; i < to; i++)
        p[i] = fuzz_byte(seed, i);
}

/* The offset of the first byte of [from, to) that differs from the pattern
 * of seed, or `to` if none does. */
FUZZ_NO_COVERAGE static inline size_t fuzz_check(const unsigned char *p, size_t from, size_t to,
                                                 uint64_t seed) {
    size_t i = from;
    for (; i < to && i % 8; i++)
        if (p[i] != fuzz_byte(seed, i))
            return i;
    for (; i + 8 <= to; i += 8) {
        uint64_t w;
        __builtin_memcpy(&w, p + i, 8);
        if (w != fuzz_word(seed, i / 8))
            break;
    }
    for (; i < to; i++)
        if (p[i] != fuzz_byte(seed, i))
            return i;
    return to;
}

/* The offset of the first byte of [0, n) that is not zero, or n. */
FUZZ_NO_COVERAGE static inline size_t fuzz_check_zero(const unsigned char *p, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        __builtin_memcpy(&w, p + i, 8);
        if (w)
            break;
    }
    for (; i < n; i++)
        if (p[i])
            return i;
    return n;
}

#endif /* POOLGC_TESTS_FUZZ_H */
