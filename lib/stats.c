/*
 * stats.c - what poolgc tells: the statistics report (text, in the spirit of
 * CPython's sys._debugmallocstats(), or JSON).
 *
 * Every number comes from a snapshot: the calling thread's heap and the
 * abandoned heaps first take back the blocks other threads freed into them,
 * then every pool in the region is counted under the region lock. Pools of
 * other live threads are read as they are (their pending remote frees count
 * as in use until their owner takes them back).
 *
 * Output is formatted into a stack buffer and written through message.c (at
 * exit) or fwrite (pgc_stats_print), so printing needs no allocation.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* ---- the snapshot ---------------------------------------------------------- */

static size_t pool_capacity(unsigned cls) {
    return PGC_POOL_SIZE / pgc_class_size(cls);
}

static void count_pool(pgc_pool *pool, void *arg) {
    pgc_snapshot *s = arg;
    unsigned cls = pool->cls;
    if (cls < 1 || cls > PGC_NUM_CLASSES)
        return;
    size_t used = pool->used;
    s->classes[cls].pools++;
    s->classes[cls].blocks_in_use += used;
    s->classes[cls].free_blocks += pool_capacity(cls) - used;
}

void pgc__stats_snapshot(pgc_snapshot *s) {
    memset(s, 0, sizeof *s);
    pgc__heap_reclaim(pgc__heap_tls);
    pgc__heap_reclaim_abandoned();
    pgc__heap_list_lock();
    for (unsigned cls = 1; cls <= PGC_NUM_CLASSES; cls++)
        s->classes[cls].pools_taken = pgc__heap_pools_taken(cls);
    s->jemalloc_requests = pgc__heap_jemalloc_requests();
    pgc__heap_list_unlock();
    if (pgc__region.base)
        pgc__region_each_pool(count_pool, s);
    pgc__region_stats(&s->region);
    for (unsigned cls = 1; cls <= PGC_NUM_CLASSES; cls++) {
        s->pool_bytes_in_use += s->classes[cls].blocks_in_use * pgc_class_size(cls);
        s->pool_bytes_free += s->classes[cls].free_blocks * pgc_class_size(cls);
    }
    s->jemalloc_bytes = pgc__large_bytes_allocated();
}

/* ---- formatting ------------------------------------------------------------ */

typedef struct sink {
    char buf[4096];
    size_t len;
    int fd;     /* write here, or */
    FILE *file; /* here */
} sink;

static void sink_flush(sink *k) {
    if (k->file)
        fwrite(k->buf, 1, k->len, k->file);
    else
        pgc__message_write(k->fd, k->buf, k->len);
    k->len = 0;
}

static __attribute__((format(printf, 2, 3))) void out(sink *k, const char *fmt, ...) {
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = sizeof line - 1;
    if (k->len + (size_t)n > sizeof k->buf)
        sink_flush(k);
    memcpy(k->buf + k->len, line, (size_t)n);
    k->len += (size_t)n;
}

static uint64_t total_pools_taken(const pgc_snapshot *s) {
    uint64_t n = 0;
    for (unsigned cls = 1; cls <= PGC_NUM_CLASSES; cls++)
        n += s->classes[cls].pools_taken;
    return n;
}

/* The text report names every counter as the JSON does (and poolgc(3)). */
static void report_text(sink *k, const pgc_snapshot *s) {
    out(k, "poolgc statistics (pid %d)\n", (int)getpid());
    out(k, "class  size  pools  blocks_in_use  free_blocks        bytes  pools_taken\n");
    size_t pools = 0, in_use = 0, free_blocks = 0;
    for (unsigned cls = 1; cls <= PGC_NUM_CLASSES; cls++) {
        const pgc_class_stats *c = &s->classes[cls];
        if (!c->pools && !c->pools_taken)
            continue;
        out(k, "%5u %5zu %6zu %14zu %12zu %12zu %12llu\n", cls, pgc_class_size(cls), c->pools,
            c->blocks_in_use, c->free_blocks, c->blocks_in_use * pgc_class_size(cls),
            (unsigned long long)c->pools_taken);
        pools += c->pools;
        in_use += c->blocks_in_use;
        free_blocks += c->free_blocks;
    }
    out(k, "total       %6zu %14zu %12zu %12zu %12llu\n", pools, in_use, free_blocks,
        s->pool_bytes_in_use, (unsigned long long)total_pools_taken(s));
    out(k, "arenas_mapped %zu (%zu bytes), arenas_peak %zu, arenas_released %zu, "
           "arenas_reserved %zu\n",
        s->region.arenas_mapped, s->region.arenas_mapped * PGC_ARENA_SIZE, s->region.arenas_peak,
        s->region.arenas_released, s->region.arenas_reserved);
    out(k, "pool_bytes_in_use %zu, pool_bytes_free %zu\n", s->pool_bytes_in_use,
        s->pool_bytes_free);
    out(k, "jemalloc_bytes %zu, jemalloc_requests %llu\n", s->jemalloc_bytes,
        (unsigned long long)s->jemalloc_requests);
}

static void report_json(sink *k, const pgc_snapshot *s) {
    out(k, "{\"pid\": %d, \"classes\": [", (int)getpid());
    for (unsigned cls = 1; cls <= PGC_NUM_CLASSES; cls++) {
        const pgc_class_stats *c = &s->classes[cls];
        out(k,
            "%s{\"size\": %zu, \"pools\": %zu, \"blocks_in_use\": %zu, \"free_blocks\": %zu, "
            "\"bytes\": %zu, \"pools_taken\": %llu}",
            cls > 1 ? ", " : "", pgc_class_size(cls), c->pools, c->blocks_in_use, c->free_blocks,
            c->blocks_in_use * pgc_class_size(cls), (unsigned long long)c->pools_taken);
    }
    out(k,
        "], \"totals\": {\"arenas_mapped\": %zu, \"arenas_released\": %zu, \"arenas_peak\": %zu, "
        "\"arenas_reserved\": %zu, ",
        s->region.arenas_mapped, s->region.arenas_released, s->region.arenas_peak,
        s->region.arenas_reserved);
    out(k, "\"pool_bytes_in_use\": %zu, \"pool_bytes_free\": %zu, \"pools_taken\": %llu, ",
        s->pool_bytes_in_use, s->pool_bytes_free, (unsigned long long)total_pools_taken(s));
    out(k, "\"jemalloc_bytes\": %zu, \"jemalloc_requests\": %llu}}\n", s->jemalloc_bytes,
        (unsigned long long)s->jemalloc_requests);
}

static void report(sink *k, enum pgc_stats_mode mode) {
    pgc_snapshot s;
    pgc__stats_snapshot(&s);
    if (mode == PGC_STATS_JSON)
        report_json(k, &s);
    else
        report_text(k, &s);
    sink_flush(k);
}

PGC_API void pgc_stats_print(FILE *file) {
    sink k = {.file = file};
    report(&k, pgc__options.stats == PGC_STATS_JSON ? PGC_STATS_JSON : PGC_STATS_TEXT);
    fflush(file);
}

/* POOLGC_STATS_FILE with "%p" replaced by the pid. */
static int open_stats_file(void) {
    char path[sizeof pgc__options.stats_file + 16];
    size_t o = 0;
    for (const char *p = pgc__options.stats_file; *p && o < sizeof path - 12; p++) {
        if (p[0] == '%' && p[1] == 'p') {
            o += (size_t)snprintf(path + o, sizeof path - o, "%d", (int)getpid());
            p++;
        } else {
            path[o++] = *p;
        }
    }
    path[o] = '\0';
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

void pgc__stats_at_exit(void) {
    int saved = errno;
    sink k = {.fd = STDERR_FILENO};
    if (pgc__options.stats_file[0]) {
        k.fd = open_stats_file();
        if (k.fd < 0) {
            errno = saved;
            return;
        }
    }
    report(&k, pgc__options.stats);
    if (k.fd != STDERR_FILENO)
        close(k.fd);
    errno = saved;
}
