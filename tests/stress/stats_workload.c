/*
 * stats_workload - a helper for the statistics tests (not a test by itself):
 * run preloaded with POOLGC_STATS=json, its report at exit shows what a
 * workload left behind.
 *
 *   stats_workload baseline        start, allocate and free one block, exit
 *   stats_workload hold N SIZE     exit with N blocks of SIZE bytes still live
 *   stats_workload work            cross-thread frees, 200 short-lived threads
 *                                  and a fork, ~30 MiB of small blocks at the
 *                                  peak; everything freed before exit
 *   stats_workload exit N          print "hello", allocate a little, exit(N)
 *   stats_workload gc              GC objects, through the preloaded library's
 *                                  pgc_* functions (dlsym): 100 "node"
 *                                  containers in 2-cycles, collected by one
 *                                  pgc_collect(2); 3 nodes and 7 "label"
 *                                  leaves still alive at exit
 *
 * Apart from "exit N" it prints nothing unless something goes wrong (exit 1
 * with a message).
 */
#include <dlfcn.h>
#include <poolgc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAIN_BLOCKS 200000
#define WORKERS 4
#define SHORT_THREADS 200
#define WAVE 8

static unsigned char *blocks[MAIN_BLOCKS];
static unsigned char *leftovers[SHORT_THREADS][50];

static size_t size_of(int i) {
    return 16 + (size_t)(i * 37) % 497;
}

static void die(const char *what, int line) {
    fprintf(stderr, "%s:%d: %s\n", __FILE__, line, what);
    exit(1);
}

/* Each worker frees its quarter of main's blocks (cross-thread) with a churn
 * of its own in between. */
static void *worker(void *arg) {
    int w = (int)(uintptr_t)arg;
    void *own[64] = {0};
    for (int i = w; i < MAIN_BLOCKS; i += WORKERS) {
        if (blocks[i][0] != (unsigned char)i || blocks[i][size_of(i) - 1] != (unsigned char)i)
            die("a block from main was corrupted", __LINE__);
        free(blocks[i]);
        blocks[i] = NULL;
        if (i % 16 == 0) {
            int s = (i / 16) % 64;
            free(own[s]);
            own[s] = malloc(size_of(i / 3));
            if (!own[s])
                die("malloc failed in a worker", __LINE__);
        }
    }
    for (int s = 0; s < 64; s++)
        free(own[s]);
    return NULL;
}

static void *short_lived(void *arg) {
    int id = (int)(uintptr_t)arg;
    void *mine[500];
    for (int i = 0; i < 500; i++)
        if (!(mine[i] = malloc(size_of(i + id))))
            die("malloc failed in a short-lived thread", __LINE__);
    for (int i = 0; i < 500; i++)
        if (i % 10 == 0)
            leftovers[id][i / 10] = mine[i]; /* freed by main after we exit */
        else
            free(mine[i]);
    return NULL;
}

static int work(void) {
    for (int i = 0; i < MAIN_BLOCKS; i++) {
        blocks[i] = malloc(size_of(i));
        if (!blocks[i])
            die("malloc failed in main", __LINE__);
        memset(blocks[i], i & 0xff, size_of(i));
    }
    pthread_t t[WORKERS];
    for (uintptr_t w = 0; w < WORKERS; w++)
        if (pthread_create(&t[w], NULL, worker, (void *)w))
            die("pthread_create failed", __LINE__);
    for (int w = 0; w < WORKERS; w++)
        pthread_join(t[w], NULL);

    for (int base = 0; base < SHORT_THREADS; base += WAVE) {
        pthread_t s[WAVE];
        for (int i = 0; i < WAVE; i++)
            if (pthread_create(&s[i], NULL, short_lived, (void *)(uintptr_t)(base + i)))
                die("pthread_create failed", __LINE__);
        for (int i = 0; i < WAVE; i++)
            pthread_join(s[i], NULL);
    }
    for (int id = 0; id < SHORT_THREADS; id++)
        for (int k = 0; k < 50; k++)
            free(leftovers[id][k]);

    /* fork from a process that had threads; the child allocates. */
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        die("fork failed", __LINE__);
    if (pid == 0) {
        for (int i = 0; i < 10000; i++)
            free(malloc(size_of(i)));
        _exit(0); /* no report from the child */
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die("the forked child failed", __LINE__);
    return 0;
}

/* The pgc_* functions of the preloaded library (this program is not linked
 * with it: each is looked up, and the header's inline versions not used). */
static void *(*gc_new)(const pgc_type *, size_t);
static void (*gc_decref)(void *);
static size_t (*gc_collect)(int);

static void node_traverse(void *obj, pgc_visit_fn visit, void *arg) {
    visit(*(void **)obj, arg);
}
static const pgc_type node_type = {"node", node_traverse, NULL, NULL};
static const pgc_type label_type = {"label", NULL, NULL, NULL};

static int gc(void) {
    gc_new = (void *(*)(const pgc_type *, size_t))dlsym(RTLD_DEFAULT, "pgc_new");
    gc_decref = (void (*)(void *))dlsym(RTLD_DEFAULT, "pgc_decref");
    gc_collect = (size_t(*)(int))dlsym(RTLD_DEFAULT, "pgc_collect");
    if (!gc_new || !gc_decref || !gc_collect)
        die("pgc_new, pgc_decref or pgc_collect not found: preload libpoolgc", __LINE__);
    for (int i = 0; i < 50; i++) {
        void **a = gc_new(&node_type, sizeof(void *)), **b = gc_new(&node_type, sizeof(void *));
        if (!a || !b)
            die("pgc_new failed", __LINE__);
        *a = b; /* each holds the reference the other's pgc_new gave */
        *b = a;
    }
    if (gc_collect(2) < 100)
        die("pgc_collect(2) missed the cycles", __LINE__);
    for (int i = 0; i < 3; i++)
        if (!gc_new(&node_type, sizeof(void *))) /* alive at exit */
            die("pgc_new failed", __LINE__);
    for (int i = 0; i < 7; i++)
        if (!gc_new(&label_type, 24))
            die("pgc_new failed", __LINE__);
    return 0;
}

int main(int argc, char **argv) {
    alarm(60);
    if (argc == 2 && strcmp(argv[1], "baseline") == 0) {
        free(malloc(32));
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "hold") == 0) {
        long n = atol(argv[2]);
        size_t size = (size_t)atol(argv[3]);
        for (long i = 0; i < n; i++) {
            void *volatile p = malloc(size);
            if (!p)
                die("malloc failed", __LINE__);
            memset(p, 1, size); /* deliberately kept until exit */
        }
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "work") == 0)
        return work();
    if (argc == 3 && strcmp(argv[1], "exit") == 0) {
        char *s = malloc(64);
        snprintf(s, 64, "hello");
        puts(s);
        free(s);
        exit(atoi(argv[2]));
    }
    if (argc == 2 && strcmp(argv[1], "gc") == 0)
        return gc();
    fprintf(stderr, "usage: %s baseline | hold N SIZE | work | exit N | gc\n", argv[0]);
    return 2;
}
