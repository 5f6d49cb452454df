/*
 * huge - blocks of megabytes: replaced at random, or one buffer grown by copy.
 *
 * Two shapes of the large path (jemalloc's side of poolgc):
 *
 *   shape=churn  a working set of `live` blocks of `min`..`max` MiB (uniform);
 *                each step frees one at random and allocates a new one, every
 *                page of it written. An allocator that keeps freed blocks
 *                (glibc's dynamic mmap threshold moves such blocks into its
 *                heap) reuses their pages; one that returns them to the
 *                kernel at once pays a page fault per page of every block.
 *   shape=grow   a buffer grown from 1 MiB to `to` MiB the way code without
 *                realloc does it: malloc the new size, copy, free the old one,
 *                `steps` times per doubling; then the program stays idle
 *                `idle` ms without an allocator call. Peak RSS is the
 *                runner's; rss_kb is the resident size read right after the
 *                last free, idle_kb after the idle time: what freed memory
 *                still holds while nothing calls the allocator.
 *
 * Parameters:
 *   shape    churn or grow (0: churn, 1: grow)               default 0
 *   iters    churn: replacement steps                        default 2000
 *   live     churn: blocks alive at once                     default 4
 *   min,max  churn: block size range in MiB                  default 5, 25
 *   to       grow: final size in MiB                         default 512
 *   steps    grow: reallocations per doubling                default 1
 *   idle     grow: milliseconds idle at the end              default 2000
 *
 * ops = allocations made.
 */
#include "bench.h"

#define MIB ((size_t)1 << 20)

static long shape = 0, iters = 2000, live = 4, min = 5, max = 25, to = 512, steps = 1, idle = 2000;

static void churn(void) {
    uint64_t rng = 0x9E3779B97F4A7C15ULL;
    char **slot = calloc((size_t)live, sizeof *slot);
    unsigned long sum = 0;
    for (long i = 0; i < live; i++) {
        size_t n = bench_range(&rng, (size_t)min * MIB, (size_t)max * MIB);
        slot[i] = malloc(n);
        bench_touch(slot[i], n);
    }
    for (long it = 0; it < iters; it++) {
        long s = (long)(bench_rand(&rng) % (uint64_t)live);
        sum += (unsigned char)slot[s][0];
        free(slot[s]);
        size_t n = bench_range(&rng, (size_t)min * MIB, (size_t)max * MIB);
        slot[s] = malloc(n);
        bench_touch(slot[s], n);
    }
    long rss = bench_status_kb("VmRSS");
    for (long i = 0; i < live; i++)
        free(slot[i]);
    free(slot);
    bench_result("ops=%ld rss_kb=%ld check=%lu", iters + live, rss, sum);
}

static void grow(void) {
    size_t n = MIB, end = (size_t)to * MIB;
    char *buf = malloc(n);
    bench_touch(buf, n);
    long ops = 1;
    while (n < end) {
        /* `steps` equal steps per doubling */
        size_t next = n + (n + (size_t)steps - 1) / (size_t)steps;
        if (next > end)
            next = end;
        char *bigger = malloc(next);
        memcpy(bigger, buf, n);
        bench_touch(bigger + n, next - n);
        free(buf);
        buf = bigger;
        n = next;
        ops++;
    }
    long rss = bench_status_kb("VmRSS");
    struct timespec ts = {idle / 1000, (idle % 1000) * 1000000};
    nanosleep(&ts, NULL);
    long idle_rss = bench_status_kb("VmRSS");
    unsigned long check = (unsigned char)buf[n - 1];
    free(buf);
    bench_result("ops=%ld rss_kb=%ld idle_kb=%ld check=%lu", ops, rss, idle_rss, check);
}

int main(int argc, char **argv) {
    const struct bench_param params[] = {
        {"shape", &shape, "0: churn, 1: grow"},
        {"iters", &iters, "churn: replacement steps"},
        {"live", &live, "churn: blocks alive at once"},
        {"min", &min, "churn: smallest block (MiB)"},
        {"max", &max, "churn: largest block (MiB)"},
        {"to", &to, "grow: final size (MiB)"},
        {"steps", &steps, "grow: reallocations per doubling"},
        {"idle", &idle, "grow: idle time at the end (ms)"},
        {0, 0, 0},
    };
    bench_args(argc, argv, params);
    if (live < 1 || min < 1 || max < min || to < 1 || steps < 1 || idle < 0) {
        fprintf(stderr, "huge: bad parameters\n");
        return 2;
    }
    if (shape == 1)
        grow();
    else
        churn();
    return 0;
}
