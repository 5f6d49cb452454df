/*
 * mixed - small and large requests interleaved, up to 1 MiB.
 *
 * Models a program that mixes small objects with buffers: a document or
 * image pipeline, a compiler with its symbol table and its file buffers, an
 * HTTP server with headers and bodies. A working set of slots is replaced at
 * random with a size drawn from three bands: most requests are small (pool
 * sizes), some are medium (a few KiB to 64 KiB), a few are large (up to
 * 1 MiB). Every page of every block is written once, so an allocator that
 * returns large blocks to the OS and maps them again pays the page faults.
 * For poolgc this is the hand-off between the pools and jemalloc, in both
 * directions, on every step.
 *
 * Parameters:
 *   iters   replacement steps                                 default 4000000
 *   live    slots in the working set                          default 4000
 *   medium  per mille of requests in 513 B .. 64 KiB          default 80
 *   large   per mille of requests in 64 KiB .. 1 MiB          default 4
 *
 * ops = replacements (one free + one malloc each).
 */
#include "bench.h"

int main(int argc, char **argv) {
    long iters = 4000000, live = 4000, medium = 80, large = 4;
    const struct bench_param params[] = {
        {"iters", &iters, "replacement steps"},
        {"live", &live, "slots in the working set"},
        {"medium", &medium, "per mille medium requests (513 B..64 KiB)"},
        {"large", &large, "per mille large requests (64 KiB..1 MiB)"},
        {0, 0, 0},
    };
    bench_args(argc, argv, params);

    uint64_t rng = 0x9E3779B97F4A7C15ULL;
    char **slot = calloc((size_t)live, sizeof *slot);
    unsigned long sum = 0;
    for (long it = 0; it < iters; it++) {
        size_t i = (size_t)(bench_rand(&rng) % (uint64_t)live);
        long band = (long)(bench_rand(&rng) % 1000);
        size_t n;
        if (band < large)
            n = bench_range(&rng, 64 * 1024 + 1, 1024 * 1024);
        else if (band < large + medium)
            n = bench_range(&rng, 513, 64 * 1024);
        else
            n = bench_small_size(&rng, 512);
        if (slot[i])
            sum += (unsigned char)slot[i][0];
        free(slot[i]);
        slot[i] = malloc(n);
        bench_touch(slot[i], n);
    }
    for (long i = 0; i < live; i++)
        free(slot[i]);
    free(slot);
    bench_result("ops=%ld check=%lu", iters, sum & 0xff);
    return 0;
}
