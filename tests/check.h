/*
 * check.h - the assertion and the epilogue of the test programs (C and C++).
 *
 * CHECK(cond, fmt, ...) prints "file:line: check failed: cond: message" on
 * stderr and counts the failure in `failures`; the test goes on, so one run
 * shows every broken check. A test that checks by hand (from threads, under
 * its own lock) counts in `failures` too. main ends with `return check_done();`.
 */
#ifndef POOLGC_TESTS_CHECK_H
#define POOLGC_TESTS_CHECK_H

#include <stddef.h>
#include <stdio.h>

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);               \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* 1 when the n bytes at p all equal c. */
static inline int check_all_bytes(const void *p, int c, size_t n) {
    const unsigned char *b = (const unsigned char *)p; /* (a cast for C++) */
    for (size_t i = 0; i < n; i++)
        if (b[i] != (unsigned char)c)
            return 0;
    return 1;
}

/* The epilogue of every test's main: says how many checks failed, if any, and
 * gives the exit status (0: all passed, 1: some failed). */
static inline int check_done(void) {
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    return 0;
}

#endif /* POOLGC_TESTS_CHECK_H */
