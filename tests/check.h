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
