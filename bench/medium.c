/*
 * medium - churn of medium-size buffers, 513 bytes to 8 KiB, in one thread
 * or in many.
 *
 * Models the buffers of a program between its small objects and its large
 * ones: strings and byte arrays, I/O and protocol buffers, the arrays of
 * containers (a vector of 100 pointers, a hash table of a few hundred
 * entries). Each thread keeps a working set of them and replaces one at
 * random per step, with `temps` short-lived ones, sizes drawn log-uniformly
 * between `min` and `max` (as many requests per doubling), every page of a
 * block written once. This is the range of poolgc's medium tier (with
 * POOLGC_MEDIUM_MAX=0, jemalloc's); with threads=200 and a small live set it
 * shows what a thread that uses a few medium buffers costs in memory.
 *
 * Parameters:
 *   threads  worker threads, each with its own working set  default 1
 *   iters    replacement steps per thread (1 free + 1 malloc
 *            + `temps` malloc/free pairs each)               default 2000000
 *   live     buffers each thread keeps alive                 default 10000
 *   temps    short-lived buffers per step                    default 1
 *   min,max  request size range in bytes                     default 513, 8192
 *
 * ops = allocations made by all threads (threads * iters * (1 + temps)).
 */
#include <math.h>
#include <pthread.h>

#include "bench.h"

static long threads = 1, iters = 2000000, live = 10000, temps = 1, min = 513, max = 8192;
static pthread_barrier_t start;

/* A size log-uniform in [min, max]: 4096 steps of the exponent, in a table. */
static size_t medium_size(uint64_t *rng, const uint32_t *table) {
    return table[bench_rand(rng) % 4096];
}

static void *worker(void *arg) {
    uint64_t rng = 0x9E3779B97F4A7C15ULL * (uint64_t)((uintptr_t)arg + 1);
    /* The sizes, precomputed: no log or exp in the loop. */
    uint32_t *table = malloc(4096 * sizeof *table);
    double span = log((double)max / (double)min);
    for (int i = 0; i < 4096; i++)
        table[i] = (uint32_t)((double)min * exp(span * (i + 0.5) / 4096));
    char **slot = calloc((size_t)live, sizeof *slot);
    unsigned long sum = 0;
    for (long i = 0; i < live; i++) {
        size_t n = medium_size(&rng, table);
        slot[i] = malloc(n);
        bench_touch(slot[i], n);
    }
    pthread_barrier_wait(&start);
    for (long it = 0; it < iters; it++) {
        for (long t = 0; t < temps; t++) {
            size_t n = medium_size(&rng, table);
            char *tmp = malloc(n);
            bench_touch(tmp, n);
            sum += (unsigned char)tmp[0];
            free(tmp);
        }
        size_t i = (size_t)(bench_rand(&rng) % (uint64_t)live);
        size_t n = medium_size(&rng, table);
        sum += (unsigned char)slot[i][0];
        free(slot[i]);
        slot[i] = malloc(n);
        bench_touch(slot[i], n);
    }
    for (long i = 0; i < live; i++)
        free(slot[i]);
    free(slot);
    free(table);
    return (void *)(uintptr_t)(sum & 0xff);
}

int main(int argc, char **argv) {
    const struct bench_param params[] = {
        {"threads", &threads, "worker threads"},
        {"iters", &iters, "replacement steps per thread"},
        {"live", &live, "buffers each thread keeps alive"},
        {"temps", &temps, "short-lived buffers per step"},
        {"min", &min, "smallest request (bytes)"},
        {"max", &max, "largest request (bytes)"},
        {0, 0, 0},
    };
    bench_args(argc, argv, params);
    if (min < 1 || max < min || live < 1 || threads < 1) {
        fprintf(stderr, "medium: need 1 <= min <= max, live >= 1, threads >= 1\n");
        return 2;
    }

    pthread_barrier_init(&start, NULL, (unsigned)threads);
    uintptr_t check = bench_run_threads(threads, worker);
    bench_result("ops=%ld check=%lu", threads * iters * (1 + temps), (unsigned long)(check & 0xff));
    return 0;
}
