/*
 * threads - many threads, each churning its own small objects.
 *
 * Models a thread pool serving independent requests (a web or RPC server's
 * workers, a parallel build of many small structures): every thread keeps its
 * own working set of small objects and replaces them at random, never
 * touching another thread's memory. Nothing is shared, so a scalable
 * allocator should give throughput proportional to the thread count up to
 * the number of cores; a shared lock or false sharing on allocator metadata
 * shows up as a flat or falling curve in the runner's thread sweep.
 *
 * Parameters:
 *   threads  worker threads                                  default 2
 *   iters    replacement steps per thread (1 free + 1 malloc
 *            + 1 temporary malloc/free pair each)            default 3000000
 *   live     objects each thread keeps alive                 default 20000
 *   max      largest request in bytes                        default 512
 *
 * ops = allocations made by all threads (threads * iters * 2).
 */
#include <pthread.h>

#include "bench.h"

static long iters = 3000000, live = 20000, max = 512;
static pthread_barrier_t start;

static void *worker(void *arg) {
    uint64_t rng = 0x9E3779B97F4A7C15ULL * (uint64_t)((uintptr_t)arg + 1);
    char **slot = calloc((size_t)live, sizeof *slot);
    unsigned long sum = 0;
    for (long i = 0; i < live; i++) {
        slot[i] = malloc(bench_small_size(&rng, (size_t)max));
        slot[i][0] = (char)i;
    }
    pthread_barrier_wait(&start);
    for (long it = 0; it < iters; it++) {
        size_t n = bench_small_size(&rng, (size_t)max);
        char *tmp = malloc(n);
        tmp[n - 1] = (char)it;
        sum += (unsigned char)tmp[n - 1];
        free(tmp);

        size_t i = (size_t)(bench_rand(&rng) % (uint64_t)live);
        n = bench_small_size(&rng, (size_t)max);
        free(slot[i]);
        slot[i] = malloc(n);
        memset(slot[i], (int)it, n < 32 ? n : 32);
    }
    for (long i = 0; i < live; i++)
        free(slot[i]);
    free(slot);
    return (void *)(uintptr_t)(sum & 0xff);
}

int main(int argc, char **argv) {
    long threads = 2;
    const struct bench_param params[] = {
        {"threads", &threads, "worker threads"},
        {"iters", &iters, "replacement steps per thread"},
        {"live", &live, "objects each thread keeps alive"},
        {"max", &max, "largest request (bytes)"},
        {0, 0, 0},
    };
    bench_args(argc, argv, params);

    pthread_barrier_init(&start, NULL, (unsigned)threads);
    uintptr_t check = bench_run_threads(threads, worker);
    bench_result("ops=%ld check=%lu", threads * iters * 2, (unsigned long)(check & 0xff));
    return 0;
}
