/*
 * spawn - thread churn: every round starts new threads, as a server that
 * starts a thread per connection, or mimalloc-bench's mstress.
 *
 * Each round starts `threads` threads and waits for them. A thread makes
 * `allocs` requests, mostly small (16..512 bytes), 1% of 8..64 KiB, 0.1% of
 * 64 KiB..1 MiB, and grows one array of pointers by realloc (by 64 Ki
 * entries, 512 KiB, at a time, as mstress's); it frees two thirds of its
 * blocks as it goes, swaps a quarter with a table shared by all threads (so
 * blocks outlive their thread and are freed by others), and frees the rest
 * before it exits. The main thread frees what is left in the table after the
 * last round. The large requests and the array are the large path's (for
 * poolgc, jemalloc's): what threads that come and go cost there, when each
 * new thread meets the memory earlier threads freed.
 *
 * Parameters:
 *   rounds   rounds, each starting new threads               default 200
 *   threads  threads per round                               default 4
 *   allocs   requests per thread                             default 20000
 *
 * ops = allocations made by all threads (rounds * threads * allocs).
 */
#include <pthread.h>
#include <stdatomic.h>

#include "bench.h"

#define TABLE 1024

static long rounds = 200, threads = 4, allocs = 20000;
static _Atomic(char *) table[TABLE];

static size_t pick_size(uint64_t *rng) {
    uint64_t x = bench_rand(rng) % 10000;
    if (x < 10)
        return bench_range(rng, 65536, 1 << 20);
    if (x < 110)
        return bench_range(rng, 8192, 65536);
    return bench_range(rng, 16, 512);
}

static void *worker(void *arg) {
    uint64_t rng = 0x9E3779B97F4A7C15ULL * ((uint64_t)(uintptr_t)arg + 1);
    char **data = NULL;
    size_t top = 0, cap = 0;
    uintptr_t sum = 0;
    for (long i = 0; i < allocs; i++) {
        if (top == cap) {
            cap += 65536;
            data = realloc(data, cap * sizeof *data);
        }
        size_t n = pick_size(&rng);
        char *p = malloc(n);
        bench_touch(p, n);
        data[top++] = p;
        uint64_t r = bench_rand(&rng);
        if (r % 3 != 0) { /* free two thirds as it goes */
            size_t k = (size_t)(r >> 8) % top;
            sum += (unsigned char)data[k][0];
            free(data[k]);
            data[k] = data[--top];
        }
        if ((r >> 40) % 4 == 0 && top) { /* swap a quarter with the shared table */
            size_t k = (size_t)(r >> 16) % top;
            data[k] = atomic_exchange(&table[(r >> 24) % TABLE], data[k]);
            if (!data[k])
                data[k] = data[--top];
        }
    }
    for (size_t k = 0; k < top; k++)
        free(data[k]);
    free(data);
    return (void *)sum;
}

int main(int argc, char **argv) {
    const struct bench_param params[] = {
        {"rounds", &rounds, "rounds, each starting new threads"},
        {"threads", &threads, "threads per round"},
        {"allocs", &allocs, "requests per thread"},
        {0, 0, 0},
    };
    bench_args(argc, argv, params);
    uintptr_t check = 0;
    for (long r = 0; r < rounds; r++)
        check += bench_run_threads(threads, worker);
    for (int k = 0; k < TABLE; k++)
        free(table[k]);
    bench_result("ops=%ld check=%lu", rounds * threads * allocs, (unsigned long)check);
    return 0;
}
