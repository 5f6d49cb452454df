/*
 * realloc - buffers growing by appends: strings and vectors.
 *
 * Models the two ways programs grow memory: a string builder that reallocs
 * to the exact new length on every append (naive C code, many parsers, a
 * log line being assembled), and a vector that over-allocates and reallocs
 * only when full (C++ std::vector, CPython's list: new capacity = n + n/8 + 6).
 * Several buffers grow at once, round robin, so a block usually cannot grow
 * in place for free: its neighbour belongs to another buffer. A buffer that
 * reaches its final length (drawn up to `maxlen`) is freed and started
 * again. Growth crosses poolgc's 512-byte limit, so blocks move from the
 * pools to jemalloc as they grow.
 *
 * Parameters:
 *   appends  appends in total (over all buffers)               default 15000000
 *   buffers  buffers growing at once (half strings, half vectors)  default 64
 *   maxlen   largest final length in bytes                     default 65536
 *   step     largest single append in bytes                    default 32
 *
 * ops = realloc calls made.
 */
#include "bench.h"

struct buf {
    char *data;
    size_t len, cap, target;
    int vector; /* 1: amortized growth, 0: exact growth */
};

int main(int argc, char **argv) {
    long appends = 15000000, buffers = 64, maxlen = 65536, step = 32;
    const struct bench_param params[] = {
        {"appends", &appends, "appends in total"},
        {"buffers", &buffers, "buffers growing at once"},
        {"maxlen", &maxlen, "largest final length (bytes)"},
        {"step", &step, "largest single append (bytes)"},
        {0, 0, 0},
    };
    bench_args(argc, argv, params);

    uint64_t rng = 0x9E3779B97F4A7C15ULL;
    struct buf *b = calloc((size_t)buffers, sizeof *b);
    long reallocs = 0;
    unsigned long sum = 0;
    for (long i = 0; i < buffers; i++) {
        b[i].vector = (int)(i & 1);
        b[i].target = bench_range(&rng, 16, (size_t)maxlen);
    }

    for (long a = 0; a < appends; a++) {
        struct buf *s = &b[a % buffers];
        size_t add = bench_range(&rng, 1, (size_t)step);
        if (s->len + add > s->cap) {
            size_t need = s->len + add;
            size_t cap = s->vector ? need + (need >> 3) + 6 : need;
            s->data = realloc(s->data, cap);
            s->cap = cap;
            reallocs++;
        }
        memset(s->data + s->len, 'a' + (int)(a % 26), add);
        s->len += add;
        if (s->len >= s->target) {
            sum += (unsigned char)s->data[s->len / 2];
            free(s->data);
            s->data = NULL;
            s->len = s->cap = 0;
            s->target = bench_range(&rng, 16, (size_t)maxlen);
        }
    }

    for (long i = 0; i < buffers; i++)
        free(b[i].data);
    free(b);
    bench_result("ops=%ld check=%lu", reallocs, sum & 0xff);
    return 0;
}
