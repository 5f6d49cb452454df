/*
 * double_free - in the default mode (no option set), freeing a pool block
 * twice prints one line on stderr naming "double free" and the block's
 * address, then aborts (SIGABRT): never a silent corruption, never a hang,
 * and never the block handed out twice. The owner's free does not read the
 * block, so its double free is caught when the block would be handed out a
 * second time, or when its pool empties (lib/internal.h); another thread's
 * second free is caught at once.
 * Cases: twice in a row, then two mallocs; twice with other traffic
 * between, then mallocs; twice from a thread that does not own the block
 * (the second push would link the block to itself on the owner's remote
 * list, and the owner's walk of that list would spin); once from another
 * thread and once from the owner; a medium block in a later slot of its
 * 64 KiB pool, by its owner and by another thread; a double free in a pool
 * whose other blocks are then all freed but one (the count says empty, one
 * block is still in use: the pool must not be reused); the only block in
 * use in its pool, freed twice (caught at the second free); a write into a free
 * block's second word, caught by the next malloc. A block whose own data
 * looks like the freed mark (its second word holding the complement of its
 * address) is freed normally, not reported.
 *
 * Each case runs in a forked child with an alarm: a hang ends as SIGALRM,
 * which fails the test.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../check.h"

static void *volatile shared;
static int announce_fd = -1;

/* Tell the parent which block the child is about to free twice. */
static void announce(void *p) {
    shared = p;
    char text[32];
    int n = snprintf(text, sizeof text, "%p", p);
    if (write(announce_fd, text, (size_t)n) != n)
        _exit(3);
}

/* Allocate n blocks of size bytes, kept (the pool hands them out in turn). */
static void allocate(size_t size, int n) {
    for (int i = 0; i < n; i++)
        if (!malloc(size))
            _exit(3);
}

static void twice_in_a_row(void) {
    void *volatile p = malloc(32);
    announce(p);
    free(p);
    free(p);
    allocate(32, 2);
}

static void twice_with_traffic(void) {
    void *keep[50];
    for (int i = 0; i < 50; i++)
        keep[i] = malloc(200);
    void *volatile p = keep[17];
    announce(p);
    free(p);
    for (int i = 0; i < 100; i++)
        free(malloc(40 + (size_t)i));
    free(keep[3]);
    free(p);
    allocate(200, 4);
}

static void *free_shared_twice(void *arg) {
    (void)arg;
    free(shared);
    free(shared);
    return NULL;
}

static void *free_shared_once(void *arg) {
    (void)arg;
    free(shared);
    return NULL;
}

static void in_thread(void *(*fn)(void *)) {
    pthread_t t;
    if (pthread_create(&t, NULL, fn, NULL) != 0 || pthread_join(t, NULL) != 0)
        _exit(3);
}

static void remote_twice(void) {
    announce(malloc(64));
    in_thread(free_shared_twice);
    /* Fill the pool: when it runs dry, the owner takes its remote list back. */
    for (int i = 0; i < 2000; i++)
        if (!malloc(64))
            _exit(3);
}

/* A 4000-byte block in the third 16 KiB slot of its wide pool. */
static void *wide_pool_block(void) {
    static void *keep[16];
    for (int i = 0; i < 16; i++)
        keep[i] = malloc(4000);
    return keep[10];
}

static void twice_in_a_wide_pool(void) {
    void *volatile p = wide_pool_block();
    announce(p);
    free(p);
    free(malloc(100));
    free(p);
    allocate(4000, 2);
}

static void twice_in_a_wide_pool_from_another_thread(void) {
    announce(wide_pool_block());
    in_thread(free_shared_twice);
}

static void remote_then_owner(void) {
    void *volatile p = malloc(96);
    announce(p);
    in_thread(free_shared_once);
    free(p);
    allocate(96, 2000); /* the pool runs dry: its remote list comes back */
}

/* 400-byte blocks: 40 to a 16 KiB pool. Free one twice, then all the
 * others of its pool but one: the pool counts none in use, and must not
 * go to another class while that one is. */
static void twice_then_pool_empties(void) {
    enum { N = 200, SIZE = 400, POOL = 16384 };
    static char *blocks[N];
    for (int i = 0; i < N; i++)
        if (!(blocks[i] = malloc(SIZE)))
            _exit(3);
    uintptr_t pool = (uintptr_t)blocks[N / 2] & ~(uintptr_t)(POOL - 1);
    char *mine[POOL / SIZE];
    int n = 0;
    for (int i = 0; i < N; i++)
        if (((uintptr_t)blocks[i] & ~(uintptr_t)(POOL - 1)) == pool)
            mine[n++] = blocks[i];
    if (n != POOL / SIZE)
        _exit(3);
    announce(mine[0]);
    free(mine[0]);
    free(mine[0]);
    for (int i = 1; i < n - 1; i++)
        free(mine[i]);
}

/* The only block of its pool freed twice: the pool has none in use at the
 * second free, caught then (no other block of this class is allocated). */
static void twice_the_only_block(void) {
    void *volatile p = malloc(472);
    announce(p);
    free(p);
    free(p);
}

/* A free block's second word overwritten: caught when malloc takes it. */
static void write_after_free(void) {
    uintptr_t *volatile p = malloc(64);
    announce((void *)p);
    free((void *)p);
    p[1] = 12345;
    allocate(64, 1);
}

/* Not a double free: data equal to the mark, written by the program. */
static void data_like_the_mark(void) {
    for (int i = 0; i < 100; i++) {
        uintptr_t *p = malloc(48);
        p[0] = 0;
        p[1] = ~(uintptr_t)p;
        free(p);
    }
    void *blocks[300];
    for (int i = 0; i < 300; i++)
        blocks[i] = malloc(48);
    for (int i = 0; i < 300; i++)
        free(blocks[i]);
    _exit(0);
}

/* Run fn in a child; return its wait status, put its stderr in err and the
 * address it announced in addr. */
static int run(void (*fn)(void), char *err, size_t cap, char *addr, size_t addr_cap) {
    int pipefd[2], addrfd[2];
    if (pipe(pipefd) != 0 || pipe(addrfd) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        close(addrfd[0]);
        announce_fd = addrfd[1];
        alarm(20);
        fn();
        _exit(0);
    }
    close(pipefd[1]);
    close(addrfd[1]);
    ssize_t got = read(addrfd[0], addr, addr_cap - 1);
    addr[got > 0 ? got : 0] = '\0';
    close(addrfd[0]);
    size_t n = 0;
    ssize_t r;
    while (n < cap - 1 && (r = read(pipefd[0], err + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    err[n] = '\0';
    close(pipefd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
}

static void expect_abort_naming(const char *name, void (*fn)(void), const char *problem) {
    char err[1024], addr[32];
    int status = run(fn, err, sizeof err, addr, sizeof addr);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
          "%s: child ended with status %#x, not SIGABRT (SIGALRM %d: a hang); stderr: %s", name,
          status, SIGALRM, err);
    CHECK(strstr(err, problem) != NULL, "%s: no \"%s\" in: %s", name, problem, err);
    CHECK(addr[0] && strstr(err, addr) != NULL, "%s: the address %s is not named in: %s", name,
          addr, err);
    CHECK(strchr(err, '\n') == strrchr(err, '\n'), "%s: more than one line: %s", name, err);
}

static void expect_abort(const char *name, void (*fn)(void)) {
    expect_abort_naming(name, fn, "double free");
}

int main(void) {
    expect_abort("twice in a row", twice_in_a_row);
    expect_abort("twice with traffic between", twice_with_traffic);
    expect_abort("twice from another thread", remote_twice);
    expect_abort("another thread, then the owner", remote_then_owner);
    expect_abort("twice in a later slot of a wide pool", twice_in_a_wide_pool);
    expect_abort("twice in a wide pool, from another thread",
                 twice_in_a_wide_pool_from_another_thread);
    expect_abort("twice, then its pool empties", twice_then_pool_empties);
    expect_abort_naming("twice, the only block of its pool", twice_the_only_block, "double free");
    expect_abort_naming("twice, the only block of its pool", twice_the_only_block,
                        "no block in use");
    expect_abort_naming("a write after free", write_after_free, "write to it after its free");
    char err[1024], addr[32];
    int status = run(data_like_the_mark, err, sizeof err, addr, sizeof addr);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0 && err[0] == '\0',
          "data like the mark: status %#x, stderr: %s", status, err);
    return check_done();
}
