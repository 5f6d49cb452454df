/*
 * thread_churn - 1,000 short-lived threads: each allocates
 * blocks of mixed sizes, frees half of them itself, frees blocks that earlier
 * (now exited) threads left behind, and leaves the rest for later threads and
 * for main. Some threads are detached. Every block keeps its contents until
 * it is freed, whichever thread frees it, and after the owner has exited.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "poolgc.h"

#define THREADS 1000
#define WAVE 10
#define PER_THREAD 200
#define POOL_SLOTS 4096

struct block {
    unsigned char *p;
    size_t n;
    uint32_t seed;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t detached_done = PTHREAD_COND_INITIALIZER;
static struct block left[POOL_SLOTS]; /* blocks handed over between threads */
static int left_len, detached_running;

static void fill(unsigned char *p, size_t n, uint32_t seed) {
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed ^ (i * 131));
}

static int verify_and_free(struct block *b) {
    for (size_t i = 0; i < b->n; i++)
        if (b->p[i] != (unsigned char)(b->seed ^ (i * 131))) {
            fprintf(stderr, "%s:%d: %zu-byte block %p corrupted at byte %zu\n", __FILE__, __LINE__,
                    b->n, (void *)b->p, i);
            free(b->p);
            return 1;
        }
    free(b->p);
    return 0;
}

static void *worker(void *arg) {
    uint32_t id = (uint32_t)(uintptr_t)arg;
    struct block mine[PER_THREAD];
    int my_bad = 0;
    for (int i = 0; i < PER_THREAD; i++) {
        uint32_t seed = id * 2654435761u + (uint32_t)i;
        size_t n = i % 50 == 0 ? 600 + seed % 5000 : 1 + seed % 512;
        mine[i] = (struct block){malloc(n), n, seed};
        if (!mine[i].p) {
            fprintf(stderr, "%s:%d: malloc(%zu) failed in thread %u\n", __FILE__, __LINE__, n, id);
            exit(1);
        }
        fill(mine[i].p, n, seed);
    }
    /* Free half locally. */
    for (int i = 0; i < PER_THREAD; i += 2)
        my_bad += verify_and_free(&mine[i]);
    /* Free some left by exited threads, then leave the other half. */
    pthread_mutex_lock(&lock);
    for (int k = 0; k < PER_THREAD / 2 && left_len > POOL_SLOTS / 2; k++)
        my_bad += verify_and_free(&left[--left_len]);
    for (int i = 1; i < PER_THREAD && left_len < POOL_SLOTS; i += 2)
        left[left_len++] = mine[i];
    failures += my_bad;
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void *detached_worker(void *arg) {
    worker(arg);
    pthread_mutex_lock(&lock);
    if (--detached_running == 0)
        pthread_cond_signal(&detached_done);
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(void) {
    alarm(60);
    for (int base = 0; base < THREADS; base += WAVE) {
        pthread_t t[WAVE];
        int joinable[WAVE];
        for (int i = 0; i < WAVE; i++) {
            uintptr_t id = (uintptr_t)(base + i);
            joinable[i] = id % 10 != 3;
            int rc;
            if (joinable[i]) {
                rc = pthread_create(&t[i], NULL, worker, (void *)id);
            } else {
                pthread_attr_t attr;
                pthread_attr_init(&attr);
                pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                pthread_mutex_lock(&lock);
                detached_running++;
                pthread_mutex_unlock(&lock);
                rc = pthread_create(&t[i], &attr, detached_worker, (void *)id);
                pthread_attr_destroy(&attr);
            }
            if (rc) {
                fprintf(stderr, "%s:%d: pthread_create #%d failed: %d\n", __FILE__, __LINE__,
                        base + i, rc);
                return 1;
            }
        }
        for (int i = 0; i < WAVE; i++)
            if (joinable[i])
                pthread_join(t[i], NULL);
    }
    pthread_mutex_lock(&lock);
    while (detached_running > 0)
        pthread_cond_wait(&detached_done, &lock);
    while (left_len > 0)
        failures += verify_and_free(&left[--left_len]);
    pthread_mutex_unlock(&lock);
    pgc_check(); /* a quiet point: every structure keeps its invariants */
    return check_done();
}
