/*
 * cross_thread_free - a block can be freed (and realloc'd) by a thread other
 * than the one that allocated it, and keeps its contents until then
 * (man/poolgc.3, Threads): 4 producers allocate blocks of mixed sizes
 * (mostly small and medium pool sizes, some large), fill them with a
 * pattern derived from a sequence number and hand them over in batches; 4
 * consumers check every byte and free them (one consumer only ever frees,
 * the others also realloc and allocate). Every block arrives intact and
 * every block is freed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "poolgc.h"

#define PRODUCERS 4
#define CONSUMERS 4
#define BATCH 64
#define BATCHES_PER_PRODUCER 1500
#define QUEUE_CAP 64

struct block {
    unsigned char *p;
    size_t n;
    uint32_t seed;
};

struct batch {
    struct block b[BATCH];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER, not_full = PTHREAD_COND_INITIALIZER;
static struct batch *queue[QUEUE_CAP];
static int q_head, q_len, producers_left = PRODUCERS;
static long consumed_blocks, bad_blocks;

static uint32_t next_rand(uint32_t *x) {
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static size_t pick_size(uint32_t r) {
    switch (r % 16) {
    case 0:
        return 513 + r / 16 % 80000; /* medium pools, some jemalloc past 64 KiB */
    case 1:
        return r / 16 % 17 == 0 ? 70000 : 1 + r / 16 % 64;
    default:
        return 1 + r / 16 % 512; /* pools */
    }
}

static void fill(unsigned char *p, size_t n, uint32_t seed) {
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed + i * 31);
}

static size_t verify(const unsigned char *p, size_t n, uint32_t seed) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(seed + i * 31))
            return i;
    return n;
}

static void *producer(void *arg) {
    uint32_t x = 2463534242u + (uint32_t)(uintptr_t)arg * 7919u;
    for (int k = 0; k < BATCHES_PER_PRODUCER; k++) {
        struct batch *bt = malloc(sizeof *bt);
        if (!bt) {
            fprintf(stderr, "%s:%d: producer: malloc(batch) failed\n", __FILE__, __LINE__);
            exit(1);
        }
        for (int i = 0; i < BATCH; i++) {
            uint32_t r = next_rand(&x);
            size_t n = pick_size(r);
            unsigned char *p = malloc(n);
            if (!p) {
                fprintf(stderr, "%s:%d: producer: malloc(%zu) failed\n", __FILE__, __LINE__, n);
                exit(1);
            }
            fill(p, n, r);
            bt->b[i] = (struct block){p, n, r};
        }
        pthread_mutex_lock(&lock);
        while (q_len == QUEUE_CAP)
            pthread_cond_wait(&not_full, &lock);
        queue[(q_head + q_len++) % QUEUE_CAP] = bt;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    producers_left--;
    pthread_cond_broadcast(&not_empty);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void *consumer(void *arg) {
    int free_only = (uintptr_t)arg == 0;
    long mine = 0, bad = 0;
    for (;;) {
        pthread_mutex_lock(&lock);
        while (q_len == 0 && producers_left > 0)
            pthread_cond_wait(&not_empty, &lock);
        if (q_len == 0) {
            pthread_mutex_unlock(&lock);
            break;
        }
        struct batch *bt = queue[q_head];
        q_head = (q_head + 1) % QUEUE_CAP;
        q_len--;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&lock);

        for (int i = 0; i < BATCH; i++) {
            struct block *b = &bt->b[i];
            size_t at = verify(b->p, b->n, b->seed);
            if (at != b->n) {
                if (bad++ < 5)
                    fprintf(stderr, "%s:%d: block %p of %zu bytes corrupted at byte %zu\n",
                            __FILE__, __LINE__, (void *)b->p, b->n, at);
            }
            if (!free_only && i % 8 == 0) {
                /* realloc another thread's block, then keep a new one briefly */
                unsigned char *q = realloc(b->p, b->n + 100);
                if (!q || verify(q, b->n, b->seed) != b->n) {
                    if (bad++ < 5)
                        fprintf(stderr, "%s:%d: realloc of a remote %zu-byte block lost data\n",
                                __FILE__, __LINE__, b->n);
                    if (!q)
                        q = b->p;
                }
                b->p = q;
                void *own = malloc(b->n);
                free(own);
            }
            int saved = errno = 4242;
            free(b->p);
            if (errno != saved && bad++ < 5)
                fprintf(stderr, "%s:%d: remote free changed errno to %d\n", __FILE__, __LINE__,
                        errno);
            mine++;
        }
        free(bt);
    }
    pthread_mutex_lock(&lock);
    consumed_blocks += mine;
    bad_blocks += bad;
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(void) {
    alarm(60); /* a hang fails the test instead of stalling make check */
    pthread_t p[PRODUCERS], c[CONSUMERS];
    for (uintptr_t i = 0; i < CONSUMERS; i++)
        if (pthread_create(&c[i], NULL, consumer, (void *)i)) {
            fprintf(stderr, "%s:%d: pthread_create failed\n", __FILE__, __LINE__);
            return 1;
        }
    for (uintptr_t i = 0; i < PRODUCERS; i++)
        if (pthread_create(&p[i], NULL, producer, (void *)i)) {
            fprintf(stderr, "%s:%d: pthread_create failed\n", __FILE__, __LINE__);
            return 1;
        }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(p[i], NULL);
    for (int i = 0; i < CONSUMERS; i++)
        pthread_join(c[i], NULL);

    long want = (long)PRODUCERS * BATCHES_PER_PRODUCER * BATCH;
    CHECK(consumed_blocks == want, "consumed %ld blocks, produced %ld", consumed_blocks, want);
    CHECK(bad_blocks == 0, "%ld bad blocks", bad_blocks);
    pgc_check(); /* a quiet point: every structure keeps its invariants */
    return check_done();
}
