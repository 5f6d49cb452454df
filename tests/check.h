/*
 * check.h - the assertion of the allocator's test programs (C and C++).
 *
 * CHECK(cond, fmt, ...) prints "file:line: check failed: cond: message" on
 * stderr and counts the failure in `failures`; the test goes on, so one run
 * shows every broken check, and main returns failures != 0 at the end.
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

#endif /* POOLGC_TESTS_CHECK_H */
