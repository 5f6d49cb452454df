/*
 * larson - a server simulation after Larson and Krishnan ("Memory allocation
 * for long-running server applications", ISMM 1998), as in mimalloc-bench.
 *
 * Models a server whose connections are served by short-lived threads: each
 * thread owns a table of blocks of random sizes, replaces blocks at random
 * for a while, then starts a successor thread, hands it the table and exits.
 * The successor frees blocks its predecessor allocated, after that thread is
 * gone; so every generation exercises remote frees, thread exit with live
 * memory, and (for poolgc) the adoption of an abandoned heap.
 *
 * The original runs for a fixed time and reports throughput; this version
 * does a fixed amount of work, so wall time is the measure. The default
 * size range 8..1000 is mimalloc-bench's ("larson 5 8 1000 5000 100 ..."):
 * about half the requests are above poolgc's 512-byte pool limit.
 *
 * Parameters:
 *   threads  concurrent thread chains                        default 2
 *   slots    blocks in each chain's table                    default 5000
 *   gens     threads per chain (hand-offs + 1)               default 20
 *   iters    replacements each thread makes                  default 300000
 *   min,max  request size range in bytes                     default 8, 1000
 *
 * ops = replacements (each one free + one malloc): threads * gens * iters.
 */
#include <pthread.h>

#include "bench.h"

static long threads = 2, slots = 5000, gens = 20, iters = 300000, min = 8, max = 1000;

/* One cache line each: chains run on different threads, and two chains in
 * one line would make every step of each a cache miss (false sharing),
 * which then depends on where the allocator put the array. */
struct chain {
    char **table;
    long gen;
    uint64_t rng;
    unsigned long sum;
} __attribute__((aligned(64)));

static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static long chains_done;

static void *serve(void *arg) {
    struct chain *c = arg;
    char **table = c->table;
    uint64_t rng = c->rng;
    unsigned long sum = c->sum;
    for (long it = 0; it < iters; it++) {
        size_t i = (size_t)(bench_rand(&rng) % (uint64_t)slots);
        size_t n = bench_range(&rng, (size_t)min, (size_t)max);
        sum += (unsigned char)table[i][0];
        free(table[i]);
        table[i] = malloc(n);
        memset(table[i], (int)it, n < 16 ? n : 16);
    }
    c->rng = rng;
    c->sum = sum;
    if (++c->gen < gens) {
        /* hand the table to a successor and exit with our blocks still live */
        pthread_t next;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_create(&next, &attr, serve, c);
        pthread_attr_destroy(&attr);
        return NULL;
    }
    pthread_mutex_lock(&done_lock);
    chains_done++;
    pthread_cond_signal(&done_cond);
    pthread_mutex_unlock(&done_lock);
    return NULL;
}

int main(int argc, char **argv) {
    const struct bench_param params[] = {
        {"threads", &threads, "concurrent thread chains"},
        {"slots", &slots, "blocks in each chain's table"},
        {"gens", &gens, "threads per chain"},
        {"iters", &iters, "replacements each thread makes"},
        {"min", &min, "smallest request (bytes)"},
        {"max", &max, "largest request (bytes)"},
        {0, 0, 0},
    };
    bench_args(argc, argv, params);

    /* the first tables are filled by the main thread, as in the original */
    void *c_raw;
    struct chain *c = bench_lines((size_t)threads, sizeof *c, &c_raw);
    for (long t = 0; t < threads; t++) {
        c[t].rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(t + 1);
        c[t].table = malloc((size_t)slots * sizeof *c[t].table);
        for (long i = 0; i < slots; i++) {
            size_t n = bench_range(&c[t].rng, (size_t)min, (size_t)max);
            c[t].table[i] = malloc(n);
            memset(c[t].table[i], 0, n < 16 ? n : 16);
        }
    }
    for (long t = 0; t < threads; t++) {
        pthread_t tid;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_create(&tid, &attr, serve, &c[t]);
        pthread_attr_destroy(&attr);
    }
    pthread_mutex_lock(&done_lock);
    while (chains_done < threads)
        pthread_cond_wait(&done_cond, &done_lock);
    pthread_mutex_unlock(&done_lock);

    unsigned long sum = 0;
    for (long t = 0; t < threads; t++) {
        for (long i = 0; i < slots; i++)
            free(c[t].table[i]);
        free(c[t].table);
        sum += c[t].sum;
    }
    free(c_raw);
    bench_result("ops=%ld check=%lu", threads * gens * iters, sum & 0xff);
    return 0;
}
