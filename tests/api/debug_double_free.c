/*
 * debug_double_free - with POOLGC_DEBUG=1, freeing a small block twice prints
 * one line on stderr naming "double free" and the block's address in hex, then
 * aborts (SIGABRT); the same option leaves a correct program silent.
 * The option is read at start-up, so the test re-executes itself with it set;
 * each case runs in a forked child.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../check.h"

/* What a child does; it reports the address it double-frees through a pipe. */
typedef void (*child_fn)(int addr_fd);

static void correct_program(int addr_fd) {
    (void)addr_fd;
    void *blocks[1000];
    for (int i = 0; i < 1000; i++)
        blocks[i] = malloc((size_t)(i % 600));
    for (int i = 0; i < 1000; i++)
        free(blocks[i]);
    _exit(0);
}

static void report(int fd, void *p) {
    uintptr_t a = (uintptr_t)p;
    if (write(fd, &a, sizeof a) != (ssize_t)sizeof a)
        _exit(3);
}

static void double_free_now(int addr_fd) {
    void *volatile p = malloc(32);
    report(addr_fd, p);
    free(p);
    free(p);
    _exit(0); /* not reached when detected */
}

static void double_free_later(int addr_fd) {
    void *keep[50];
    for (int i = 0; i < 50; i++)
        keep[i] = malloc(200);
    void *volatile p = keep[17];
    report(addr_fd, p);
    free(p);
    /* Other traffic in other classes between the two frees. */
    for (int i = 0; i < 100; i++)
        free(malloc(40 + (size_t)i));
    free(p);
    _exit(0);
}

/* Run fn in a child; return its wait status, stderr text and reported address. */
static int run_child(child_fn fn, char *err, size_t errcap, uintptr_t *addr) {
    int errpipe[2], addrpipe[2];
    if (pipe(errpipe) || pipe(addrpipe)) {
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
        close(addrpipe[0]);
        alarm(20);
        fn(addrpipe[1]);
        _exit(0);
    }
    close(errpipe[1]);
    close(addrpipe[1]);
    size_t len = 0;
    ssize_t r;
    while ((r = read(errpipe[0], err + len, errcap - 1 - len)) > 0 && len < errcap - 1)
        len += (size_t)r;
    err[len] = '\0';
    *addr = 0;
    if (read(addrpipe[0], addr, sizeof *addr) != (ssize_t)sizeof *addr)
        *addr = 0;
    close(errpipe[0]);
    close(addrpipe[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}

/* Does `text` contain the address as a 0x... hex number? */
static int mentions_address(const char *text, uintptr_t addr) {
    for (const char *s = text; (s = strstr(s, "0x")) != NULL; s += 2)
        if ((uintptr_t)strtoull(s, NULL, 16) == addr)
            return 1;
    return 0;
}

static int count_lines_with(const char *text, const char *needle) {
    int n = 0;
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[1024];
        size_t k = len < sizeof buf - 1 ? len : sizeof buf - 1;
        memcpy(buf, line, k);
        buf[k] = '\0';
        if (strstr(buf, needle))
            n++;
        line += len + (end ? 1 : 0);
    }
    return n;
}

static void expect_detected(const char *what, child_fn fn) {
    char err[8192];
    uintptr_t addr;
    int status = run_child(fn, err, sizeof err, &addr);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
          "%s: child %s %d, want killed by SIGABRT; stderr: [%s]", what,
          WIFSIGNALED(status) ? "killed by signal" : "exited with",
          WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), err);
    CHECK(count_lines_with(err, "double free") == 1,
          "%s: want one stderr line containing \"double free\", got: [%s]", what, err);
    CHECK(addr != 0 && mentions_address(err, addr),
          "%s: stderr does not name the address %#lx in hex: [%s]", what, (unsigned long)addr, err);
}

int main(int argc, char **argv) {
    (void)argc;
    const char *debug = getenv("POOLGC_DEBUG");
    if (!debug || strcmp(debug, "1") != 0) {
        /* Options are read at start-up: run again with the option set. */
        setenv("POOLGC_DEBUG", "1", 1);
        execv("/proc/self/exe", argv);
        perror("execv /proc/self/exe");
        return 1;
    }

    char err[8192];
    uintptr_t addr;
    int status = run_child(correct_program, err, sizeof err, &addr);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "a correct program under POOLGC_DEBUG=1 did not exit 0 (status %#x)", status);
    CHECK(err[0] == '\0', "a correct program under POOLGC_DEBUG=1 printed: [%s]", err);

    expect_detected("free(p); free(p)", double_free_now);
    expect_detected("free(p); other traffic; free(p)", double_free_later);

    return check_done();
}
