/*
 * debug_test.h - what the POOLGC_DEBUG tests share: each plants one bug in a
 * forked child of a program run with POOLGC_DEBUG=1, and expects poolgc's
 * exact message on stderr (the child writes the line it expects, with the
 * block's address, to a pipe before it plants the bug) and SIGABRT.
 *
 * "Small" blocks come from the pools, "large" ones (LARGE bytes) from
 * jemalloc, whatever tiers the pools have.
 */
#ifndef POOLGC_TESTS_DEBUG_TEST_H
#define POOLGC_TESTS_DEBUG_TEST_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../check.h"

#define LARGE ((size_t)200000)

/* Options are read at start-up: run again with POOLGC_DEBUG=1. */
static inline void debug_reexec(char **argv) {
    const char *debug = getenv("POOLGC_DEBUG");
    if (debug && strcmp(debug, "1") == 0)
        return;
    setenv("POOLGC_DEBUG", "1", 1);
    execv("/proc/self/exe", argv);
    perror("execv /proc/self/exe");
    exit(1);
}

static int expect_fd = -1;

/* In the child: the line poolgc must print (printf-like, a newline added). */
static inline void expect_line(const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    line[n++] = '\n';
    if (write(expect_fd, line, (size_t)n) != n)
        _exit(3);
}

static inline size_t read_all(int fd, char *buf, size_t cap) {
    size_t len = 0;
    ssize_t r;
    while (len < cap - 1 &&
           ((r = read(fd, buf + len, cap - 1 - len)) > 0 || (r < 0 && errno == EINTR)))
        if (r > 0)
            len += (size_t)r;
    buf[len] = '\0';
    return len;
}

/* Run fn in a child, which ends with exit(0) unless poolgc aborts it; put
 * its stderr in err and the lines it expects in want; return its status. */
static inline int debug_run(void (*fn)(void), char *err, char *want, size_t cap) {
    int errpipe[2], wantpipe[2];
    if (pipe(errpipe) || pipe(wantpipe)) {
        perror("pipe");
        exit(1);
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(1);
    }
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        dup2(errpipe[1], 2);
        close(errpipe[0]);
        close(wantpipe[0]);
        expect_fd = wantpipe[1];
        alarm(20);
        fn();
        exit(0);
    }
    close(errpipe[1]);
    close(wantpipe[1]);
    read_all(wantpipe[0], want, cap);
    read_all(errpipe[0], err, cap);
    close(errpipe[0]);
    close(wantpipe[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}

/* The child must print exactly the line it expects, then abort. */
static inline void expect_abort(const char *name, void (*fn)(void)) {
    char err[4096], want[4096];
    int status = debug_run(fn, err, want, sizeof err);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
          "%s: child ended with status %#x, not SIGABRT; stderr: [%s]", name, status, err);
    CHECK(want[0] && strcmp(err, want) == 0, "%s: stderr\n  [%s]\nwant\n  [%s]", name, err, want);
}

/* The child must exit 0 having printed exactly what it expects. */
static inline void expect_exit(const char *name, void (*fn)(void)) {
    char err[4096], want[4096];
    int status = debug_run(fn, err, want, sizeof err);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "%s: child ended with status %#x, not exit 0; stderr: [%s]", name, status, err);
    CHECK(strcmp(err, want) == 0, "%s: stderr\n  [%s]\nwant\n  [%s]", name, err, want);
}

#endif /* POOLGC_TESTS_DEBUG_TEST_H */
