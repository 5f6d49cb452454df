/*
 * churn - small-object churn in one thread, around a live working set.
 *
 * Models an interpreter's heap: a large population of small objects stays
 * alive (the program's data: dict entries, tuples, strings) while each step
 * replaces one of them at random and makes a couple of short-lived
 * temporaries (the intermediate results of an expression), all in the sizes
 * bench_small_size() draws (mostly 16..128 bytes, up to `max`). This is the
 * path poolgc's per-thread pools exist for.
 *
 * Parameters:
 *   iters  replacement steps (each: 1 free + 1 malloc of the working set,
 *          plus `temps` malloc/free pairs)                    default 2000000
 *   live   objects kept alive (the working set)               default 100000
 *   temps  short-lived temporaries per step                   default 2
 *   max    largest request in bytes                           default 512
 *   seed   random seed                                        default 1
 *
 * ops = allocations made (iters * (1 + temps)).
 */
#include "bench.h"

int main(int argc, char **argv) {
    long iters = 2000000, live = 100000, temps = 2, max = 512, seed = 1;
    const struct bench_param params[] = {
        {"iters", &iters, "replacement steps"},
        {"live", &live, "objects kept alive"},
        {"temps", &temps, "temporaries per step"},
        {"max", &max, "largest request (bytes)"},
        {"seed", &seed, "random seed"},
        {0, 0, 0},
    };
    bench_args(argc, argv, params);

    uint64_t rng = 0x9E3779B97F4A7C15ULL * (uint64_t)seed;
    char **slot = calloc((size_t)live, sizeof *slot);
    unsigned long sum = 0;
    if (!slot)
        return 1;
    for (long i = 0; i < live; i++) {
        size_t n = bench_small_size(&rng, (size_t)max);
        slot[i] = malloc(n);
        memset(slot[i], (int)i, n < 32 ? n : 32);
    }

    for (long it = 0; it < iters; it++) {
        /* temporaries: allocated, used, freed before the next step */
        for (long t = 0; t < temps; t++) {
            size_t n = bench_small_size(&rng, (size_t)max);
            char *tmp = malloc(n);
            tmp[0] = (char)it;
            tmp[n - 1] = (char)t;
            sum += (unsigned char)tmp[0] + (unsigned char)slot[it % live][0];
            free(tmp);
        }
        /* replace one live object */
        size_t i = (size_t)(bench_rand(&rng) % (uint64_t)live);
        size_t n = bench_small_size(&rng, (size_t)max);
        free(slot[i]);
        slot[i] = malloc(n);
        memset(slot[i], (int)it, n < 32 ? n : 32);
    }

    for (long i = 0; i < live; i++)
        free(slot[i]);
    free(slot);
    bench_result("ops=%ld check=%lu", iters * (1 + temps), sum & 0xff);
    return 0;
}
