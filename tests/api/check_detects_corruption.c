/*
 * check_detects_corruption - pgc_check() returns quietly on a sound heap and
 * aborts with one line naming the broken invariant when a program corrupts
 * poolgc's structures: here a write after free that points a free block's
 * list link outside its pool, and one that makes the free list loop.
 * Each corruption happens in a forked child.
 */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../check.h"
#include "poolgc.h"

static void *blocks[64];

static void link_outside_pool(void) {
    static char elsewhere[64];
    void **freed = blocks[10];
    free(freed);
    freed[0] = elsewhere; /* write after free: the link leaves the pool */
    pgc_check();
}

static void list_loops(void) {
    void **a = blocks[20], **b = blocks[21];
    free(a);
    free(b);
    a[0] = b; /* b -> a -> b -> ... */
    pgc_check();
}

static int run(void (*fn)(void), char *err, size_t cap) {
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        dup2(fd[1], 2);
        close(fd[0]);
        alarm(20);
        fn();
        _exit(0);
    }
    close(fd[1]);
    size_t n = 0;
    ssize_t r;
    while (n < cap - 1 && (r = read(fd[0], err + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    err[n] = '\0';
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
}

static void expect_caught(const char *name, void (*fn)(void)) {
    char err[1024];
    int status = run(fn, err, sizeof err);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "%s: status %#x; stderr: %s", name,
          status, err);
    CHECK(strstr(err, "poolgc: internal check failed: ") != NULL, "%s: no message in: %s", name,
          err);
}

int main(void) {
    for (int i = 0; i < 64; i++)
        blocks[i] = malloc(48);
    pgc_check(); /* sound: returns */
    expect_caught("a link outside the pool", link_outside_pool);
    expect_caught("a free list that loops", list_loops);
    for (int i = 0; i < 64; i++)
        free(blocks[i]);
    pgc_check();
    return check_done();
}
