/*
 * frag - fragmentation: how much memory a heap keeps after its program
 * changes what it allocates.
 *
 * Models a long-running program whose phase changes: it loads a large data
 * set of small objects, drops most of it (a cache evicted, a parse tree
 * discarded while a few nodes stay referenced), then builds something else
 * out of different sizes. The live objects left behind are scattered, so
 * an allocator that segregates sizes (poolgc's pools, every size-class
 * allocator) cannot give back or reuse the memory around them for the new
 * sizes, while a coalescing one (glibc) can; the opposite also happens.
 *
 * Phases, with RSS read from /proc/self/status after each:
 *   1. allocate `count` objects of 16..128 bytes         (rss_load)
 *   2. free a random 90% of them                         (rss_freed)
 *   3. allocate as many bytes again as were freed, in sizes 129..512
 *      with 10% of them 513 B .. 8 KiB                   (rss_final)
 *   4. free everything                                   (rss_empty)
 * plus the peak (VmHWM) and the bytes the program itself holds at the end
 * of phase 3 (live_kb): rss_final / live_kb is the overhead factor.
 *
 * Parameters:
 *   count  objects allocated in phase 1                      default 1500000
 *   keep   per cent of phase-1 objects kept in phase 2       default 10
 *
 * ops = allocations made in phases 1 and 3. RSS values are in KiB.
 */
#include "bench.h"

int main(int argc, char **argv) {
    long count = 1500000, keep = 10;
    const struct bench_param params[] = {
        {"count", &count, "objects allocated in phase 1"},
        {"keep", &keep, "per cent of phase-1 objects kept"},
        {0, 0, 0},
    };
    bench_args(argc, argv, params);

    uint64_t rng = 0x9E3779B97F4A7C15ULL;
    char **old = malloc((size_t)count * sizeof *old);
    unsigned char *old_size = malloc((size_t)count); /* 16..128 fits a byte */
    size_t live = 0, freed = 0;

    for (long i = 0; i < count; i++) {
        old_size[i] = (unsigned char)bench_range(&rng, 16, 128);
        old[i] = malloc(old_size[i]);
        memset(old[i], (int)i, old_size[i]);
        live += old_size[i];
    }
    long rss_load = bench_status_kb("VmRSS");

    for (long i = 0; i < count; i++)
        if ((long)(bench_rand(&rng) % 100) >= keep) {
            freed += old_size[i];
            free(old[i]);
            old[i] = NULL;
        }
    live -= freed;
    long rss_freed = bench_status_kb("VmRSS");

    size_t cap = 1024, nnew = 0, added = 0;
    char **fresh = malloc(cap * sizeof *fresh);
    while (added < freed) {
        size_t n =
            bench_rand(&rng) % 10 == 0 ? bench_range(&rng, 513, 8192) : bench_range(&rng, 129, 512);
        if (nnew == cap)
            fresh = realloc(fresh, (cap *= 2) * sizeof *fresh);
        fresh[nnew] = malloc(n);
        memset(fresh[nnew], (int)nnew, n);
        nnew++;
        added += n;
    }
    live += added;
    long rss_final = bench_status_kb("VmRSS");
    long rss_peak = bench_status_kb("VmHWM");

    for (long i = 0; i < count; i++)
        free(old[i]);
    for (size_t i = 0; i < nnew; i++)
        free(fresh[i]);
    free(old);
    free(old_size);
    free(fresh);
    long rss_empty = bench_status_kb("VmRSS");

    bench_result("ops=%ld live_kb=%zu rss_load=%ld rss_freed=%ld rss_final=%ld "
                 "rss_empty=%ld rss_peak=%ld",
                 count + (long)nnew, live / 1024, rss_load, rss_freed, rss_final, rss_empty,
                 rss_peak);
    return 0;
}
