/*
 * fork_threaded - fork() from a process whose threads are allocating leaves a
 * child that can allocate and free everything (man/poolgc.3, Threads): 4 threads
 * malloc/free in a loop while main forks 200 times. Each child frees blocks
 * that a worker thread allocated (its heap's owner does not exist in the
 * child), allocates small and large blocks, starts a thread that allocates,
 * and sometimes forks a grandchild that does the same. No child hangs
 * (alarm) and every child exits 0.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check.h"
#include "poolgc.h"

#define WORKERS 4
#define FORKS 200
#define HANDOVER 256

static atomic_int stop;
static atomic_int ready;
/* Blocks a worker allocated before the forks; children free them. */
static unsigned char *handover[HANDOVER];
static size_t handover_size[HANDOVER];

static void fill(unsigned char *p, size_t n, unsigned v) {
    memset(p, (int)(v & 0xff), n);
}

static int check(const unsigned char *p, size_t n, unsigned v) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(v & 0xff))
            return 0;
    return 1;
}

static void *worker(void *arg) {
    unsigned id = (unsigned)(uintptr_t)arg;
    if (id == 0) {
        for (int i = 0; i < HANDOVER; i++) {
            handover_size[i] = i % 32 == 0 ? 4000 + (size_t)i : 1 + (size_t)i * 2;
            handover[i] = malloc(handover_size[i]);
            fill(handover[i], handover_size[i], (unsigned)i);
        }
    }
    atomic_fetch_add(&ready, 1);
    void *slots[64] = {0};
    unsigned x = id * 977 + 1;
    while (!atomic_load(&stop)) {
        for (int i = 0; i < 64; i++) {
            x = x * 1664525u + 1013904223u;
            free(slots[i]);
            size_t n = (x >> 10) % 7 == 0 ? 1000 + (x >> 8) % 20000 : 1 + (x >> 8) % 512;
            slots[i] = malloc(n);
            if (!slots[i]) {
                fprintf(stderr, "%s:%d: worker malloc(%zu) failed\n", __FILE__, __LINE__, n);
                exit(1);
            }
            memset(slots[i], (int)id, n < 64 ? n : 64);
        }
        usleep(20); /* leave the CPUs to the children now and then */
    }
    for (int i = 0; i < 64; i++)
        free(slots[i]);
    return NULL;
}

static void *child_thread(void *arg) {
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        void *p = malloc((size_t)(i % 700) + 1);
        if (!p)
            return (void *)1;
        free(p);
    }
    return NULL;
}

/* What every child does; returns the exit status. */
static int child_work(int depth) {
    int bad = 0;
    if (depth == 0) {
        for (int i = 0; i < HANDOVER; i++) {
            if (!check(handover[i], handover_size[i], (unsigned)i))
                bad = 2;
            free(handover[i]);
        }
    }
    void *blocks[500];
    for (int i = 0; i < 500; i++) {
        size_t n = i % 25 == 0 ? 100000 : (size_t)i % 513;
        blocks[i] = malloc(n);
        if (!blocks[i])
            return 3;
        fill(blocks[i], n, (unsigned)i);
    }
    for (int i = 0; i < 500; i++) {
        size_t n = i % 25 == 0 ? 100000 : (size_t)i % 513;
        if (!check(blocks[i], n, (unsigned)i))
            bad = 4;
        free(blocks[i]);
    }
    pthread_t t;
    void *res = (void *)1;
    if (pthread_create(&t, NULL, child_thread, NULL) != 0 || pthread_join(t, &res) != 0 || res)
        bad = 5;
    return bad;
}

int main(void) {
    alarm(60);
    pthread_t t[WORKERS];
    for (uintptr_t i = 0; i < WORKERS; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)i)) {
            fprintf(stderr, "%s:%d: pthread_create failed\n", __FILE__, __LINE__);
            return 1;
        }
    while (atomic_load(&ready) < WORKERS)
        usleep(1000);

    for (int k = 0; k < FORKS; k++) {
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "%s:%d: fork failed: %s\n", __FILE__, __LINE__, strerror(errno));
            failures++;
            break;
        }
        if (pid == 0) {
            alarm(10);
            pgc_check(); /* the child's structures, right after the fork */
            int rc = child_work(0);
            if (rc == 0 && k % 50 == 0) {
                /* A grandchild of a child whose parent's threads are gone. */
                pid_t g = fork();
                if (g == 0)
                    _exit(child_work(1));
                int st = 0;
                if (g < 0 || waitpid(g, &st, 0) != g || !WIFEXITED(st) || WEXITSTATUS(st))
                    rc = 6;
            }
            _exit(rc);
        }
        /* The parent allocates between forks too. */
        free(malloc((size_t)k * 7 + 1));
        int st = 0;
        if (waitpid(pid, &st, 0) != pid) {
            fprintf(stderr, "%s:%d: waitpid failed: %s\n", __FILE__, __LINE__, strerror(errno));
            failures++;
        } else if (WIFSIGNALED(st)) {
            fprintf(stderr, "%s:%d: child %d killed by signal %d%s\n", __FILE__, __LINE__, k,
                    WTERMSIG(st), WTERMSIG(st) == SIGALRM ? " (hung: alarm)" : "");
            failures++;
        } else if (WEXITSTATUS(st) != 0) {
            fprintf(stderr,
                    "%s:%d: child %d exited %d (2: handed-over block corrupted, "
                    "3: malloc failed, 4: block corrupted, 5: thread failed, 6: grandchild "
                    "failed)\n",
                    __FILE__, __LINE__, k, WEXITSTATUS(st));
            failures++;
        }
        if (failures > 5)
            break;
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(t[i], NULL);
    /* The parent still owns the handed-over blocks. */
    for (int i = 0; i < HANDOVER; i++) {
        if (!check(handover[i], handover_size[i], (unsigned)i)) {
            fprintf(stderr, "%s:%d: parent's block %d corrupted\n", __FILE__, __LINE__, i);
            failures++;
        }
        free(handover[i]);
    }
    pgc_check();
    return check_done();
}
