/*
 * stats.c - what poolgc tells: the statistics report (text, in the spirit of
 * CPython's sys._debugmallocstats(), or JSON Lines: one object per line).
 *
 * Every number comes from a snapshot: the calling thread's heap and the
 * abandoned heaps first take back the blocks other threads freed into them,
 * then every pool in the region is counted under the region lock. Pools of
 * other live threads are read as they are (their pending remote frees count
 * as in use until their owner takes them back).
 *
 * Every report names its process: the pid, comm (/proc/self/comm) and
 * argv[0] (kept by init.c's constructor), so that the reports of a process
 * tree (a shell script, a wrapper that execs the real program) can be told
 * apart; POOLGC_STATS_PROGRAM keeps only the reports of the named program.
 * The GC layer's section (objects per type, collections per generation)
 * comes only from processes that made GC objects.
 *
 * Output is formatted into a stack buffer large enough for a whole report
 * and written through message.c in one write (at exit, so that reports of
 * processes sharing a pipe or a file do not interleave) or by fwrite
 * (pgc_stats_print), so printing needs no allocation.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "gc/internal.h"
#include "internal.h"

/* ---- the snapshot ---------------------------------------------------------- */

static size_t pool_capacity(unsigned cls) {
    return ((size_t)pgc_class_slots(cls) << PGC_POOL_SHIFT) / pgc_class_size(cls);
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

/* ---- the program ----------------------------------------------------------- */

/* argv[0] as the process started, from the constructor's arguments (glibc
 * passes main's argc, argv and envp to ELF constructors). */
static const char *start_argv0;

void pgc__stats_remember_program(const char *argv0) {
    start_argv0 = argv0;
}

#define COMM_MAX 15 /* the kernel keeps this much of a name (TASK_COMM_LEN - 1) */

typedef struct program {
    char comm[32];   /* the kernel's name for the process, at most COMM_MAX bytes */
    char argv0[256]; /* argv[0], cut at 255 bytes */
} program;

/* Read at most size - 1 bytes of a /proc file into buf, NUL-terminated.
 * Returns the bytes read, or -1. */
static ssize_t read_proc(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n;
    do
        n = read(fd, buf, size - 1);
    while (n < 0 && errno == EINTR);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return n;
}

static void copy_cut(char *dst, size_t size, const char *src) {
    size_t n = strnlen(src, size - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void program_read(program *p) {
    /* The process's name (its main thread's), not the calling thread's. */
    if (read_proc("/proc/self/comm", p->comm, sizeof p->comm) > 0)
        p->comm[strcspn(p->comm, "\n")] = '\0';
    else if (prctl(PR_GET_NAME, p->comm) != 0) /* /proc not mounted */
        p->comm[0] = '\0';
    p->comm[sizeof p->comm - 1] = '\0';
    if (start_argv0)
        copy_cut(p->argv0, sizeof p->argv0, start_argv0);
    else if (read_proc("/proc/self/cmdline", p->argv0, sizeof p->argv0) < 0)
        p->argv0[0] = '\0'; /* the first NUL ends argv[0] */
}

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* POOLGC_STATS_PROGRAM: the name is comm (which the kernel cuts to COMM_MAX
 * bytes) or the last part of argv[0]. */
static int program_matches(const program *p, const char *name) {
    size_t comm_len = strlen(p->comm);
    if (comm_len && !strncmp(p->comm, name, comm_len) &&
        (name[comm_len] == '\0' || comm_len == COMM_MAX))
        return 1;
    return !strcmp(base_name(p->argv0), name);
}

/* ---- formatting ------------------------------------------------------------ */

typedef struct sink {
    char buf[16384]; /* a whole report: written at once */
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

static void put(sink *k, const char *s, size_t n) {
    if (k->len + n > sizeof k->buf)
        sink_flush(k);
    if (n > sizeof k->buf)
        n = sizeof k->buf;
    memcpy(k->buf + k->len, s, n);
    k->len += n;
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
    put(k, line, (size_t)n);
}

/* A name as one word of the text report: control characters become '?'. */
static void put_text_name(sink *k, const char *s) {
    if (!*s) {
        put(k, "?", 1);
        return;
    }
    for (; *s; s++) {
        char c = (unsigned char)*s < ' ' || *s == 0x7f ? '?' : *s;
        put(k, &c, 1);
    }
}

/* The length of the valid UTF-8 sequence at s (1 to 4), or 0. */
static size_t utf8_length(const unsigned char *s) {
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf; /* the second byte's range */
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0; /* not overlong */
        if (c == 0xed)
            hi = 0x9f; /* not a surrogate */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        if (c == 0xf4)
            hi = 0x8f; /* at most U+10FFFF */
    } else
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    }
    return n;
}

/* s as a JSON string: quotes, backslashes and control characters escaped,
 * bytes that are not UTF-8 replaced by U+FFFD. */
static void put_json_string(sink *k, const char *str) {
    const unsigned char *s = (const unsigned char *)str;
    put(k, "\"", 1);
    while (*s) {
        if (*s == '"' || *s == '\\') {
            char esc[2] = {'\\', (char)*s};
            put(k, esc, 2);
            s++;
        } else if (*s < 0x20 || *s == 0x7f) {
            out(k, "\\u%04x", *s);
            s++;
        } else if (*s < 0x80) {
            put(k, (const char *)s, 1);
            s++;
        } else {
            size_t n = utf8_length(s);
            if (n) {
                put(k, (const char *)s, n);
                s += n;
            } else {
                put(k, "\\ufffd", 6);
                s++;
            }
        }
    }
    put(k, "\"", 1);
}

static uint64_t total_pools_taken(const pgc_snapshot *s) {
    uint64_t n = 0;
    for (unsigned cls = 1; cls <= PGC_NUM_CLASSES; cls++)
        n += s->classes[cls].pools_taken;
    return n;
}

/* ---- the GC section ---------------------------------------------------------- */

static size_t gc_types_shown(const pgc_gc_snapshot *g) {
    return g->ntypes < PGC_STATS_TYPES ? g->ntypes : PGC_STATS_TYPES;
}

/* The pauses of all generations: their sum and the longest. */
static void gc_pauses(const pgc_gc_snapshot *g, unsigned long long *total,
                      unsigned long long *max) {
    *total = *max = 0;
    for (int gen = 0; gen < PGC_GENERATIONS; gen++) {
        *total += (unsigned long long)g->gens[gen].total_ns;
        if ((unsigned long long)g->gens[gen].max_pause_ns > *max)
            *max = (unsigned long long)g->gens[gen].max_pause_ns;
    }
}

#define TYPE_COLUMN 24 /* the text's type names, padded to this width */

static void gc_text(sink *k, const pgc_gc_snapshot *g) {
    out(k, "gc objects %zu, bytes %zu\n", g->objects, g->bytes);
    if (gc_types_shown(g))
        out(k, "%-*s %12s %12s\n", TYPE_COLUMN, "name", "objects", "bytes");
    for (size_t i = 0; i < gc_types_shown(g); i++) {
        const char *name = g->types[i].name ? g->types[i].name : "?";
        size_t len = strlen(name);
        put_text_name(k, name);
        out(k, "%*s %12zu %12zu\n", len < TYPE_COLUMN ? (int)(TYPE_COLUMN - len) : 0, "",
            g->types[i].objects, g->types[i].bytes);
    }
    out(k, "generation  collections  collected  uncollectable       total_ns  max_pause_ns\n");
    for (int gen = 0; gen < PGC_GENERATIONS; gen++)
        out(k, "%10d %12zu %10zu %14zu %14llu %13llu\n", gen, g->gens[gen].collections,
            g->gens[gen].collected, g->gens[gen].uncollectable,
            (unsigned long long)g->gens[gen].total_ns,
            (unsigned long long)g->gens[gen].max_pause_ns);
    unsigned long long total, max;
    gc_pauses(g, &total, &max);
    out(k, "gc total_ns %llu, max_pause_ns %llu\n", total, max);
}

static void gc_json(sink *k, const pgc_gc_snapshot *g) {
    out(k, ", \"gc\": {\"objects\": %zu, \"bytes\": %zu, \"types\": [", g->objects, g->bytes);
    for (size_t i = 0; i < gc_types_shown(g); i++) {
        put(k, i ? ", {\"name\": " : "{\"name\": ", i ? 11 : 9);
        put_json_string(k, g->types[i].name ? g->types[i].name : "?");
        out(k, ", \"objects\": %zu, \"bytes\": %zu}", g->types[i].objects, g->types[i].bytes);
    }
    put(k, "], \"generations\": [", 19);
    for (int gen = 0; gen < PGC_GENERATIONS; gen++)
        out(k,
            "%s{\"generation\": %d, \"collections\": %zu, \"collected\": %zu, "
            "\"uncollectable\": %zu, \"total_ns\": %llu, \"max_pause_ns\": %llu}",
            gen ? ", " : "", gen, g->gens[gen].collections, g->gens[gen].collected,
            g->gens[gen].uncollectable, (unsigned long long)g->gens[gen].total_ns,
            (unsigned long long)g->gens[gen].max_pause_ns);
    unsigned long long total, max;
    gc_pauses(g, &total, &max);
    out(k, "], \"total_ns\": %llu, \"max_pause_ns\": %llu}", total, max);
}

/* ---- the reports ------------------------------------------------------------- */

/* The text report names every counter as the JSON does (and poolgc(3)). */
static void report_text(sink *k, const program *p, const pgc_snapshot *s,
                        const pgc_gc_snapshot *g) {
    out(k, "poolgc statistics (pid %d, comm ", (int)getpid());
    put_text_name(k, p->comm);
    put(k, ", argv0 ", 8);
    put_text_name(k, p->argv0);
    put(k, ")\n", 2);
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
    out(k,
        "arenas_mapped %zu (%zu bytes), arenas_peak %zu, arenas_released %zu, arenas_kept %zu, "
        "arenas_reserved %zu\n",
        s->region.arenas_mapped, s->region.arenas_mapped * PGC_ARENA_SIZE, s->region.arenas_peak,
        s->region.arenas_released, s->region.arenas_kept, s->region.arenas_reserved);
    out(k, "pool_bytes_in_use %zu, pool_bytes_free %zu\n", s->pool_bytes_in_use,
        s->pool_bytes_free);
    out(k, "jemalloc_bytes %zu, jemalloc_requests %llu\n", s->jemalloc_bytes,
        (unsigned long long)s->jemalloc_requests);
    if (g->used)
        gc_text(k, g);
}

/* One line: JSON Lines, one object per process. */
static void report_json(sink *k, const program *p, const pgc_snapshot *s,
                        const pgc_gc_snapshot *g) {
    out(k, "{\"pid\": %d, \"program\": {\"comm\": ", (int)getpid());
    put_json_string(k, p->comm);
    put(k, ", \"argv0\": ", 11);
    put_json_string(k, p->argv0);
    put(k, "}, \"classes\": [", 15);
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
        "\"arenas_kept\": %zu, \"arenas_reserved\": %zu, ",
        s->region.arenas_mapped, s->region.arenas_released, s->region.arenas_peak,
        s->region.arenas_kept, s->region.arenas_reserved);
    out(k, "\"pool_bytes_in_use\": %zu, \"pool_bytes_free\": %zu, \"pools_taken\": %llu, ",
        s->pool_bytes_in_use, s->pool_bytes_free, (unsigned long long)total_pools_taken(s));
    out(k, "\"jemalloc_bytes\": %zu, \"jemalloc_requests\": %llu}", s->jemalloc_bytes,
        (unsigned long long)s->jemalloc_requests);
    if (g->used)
        gc_json(k, g);
    put(k, "}\n", 2);
}

/* take_gc_lock: pgc_stats_print holds pgc_lock() while it reads the GC
 * layer (before the allocator's locks, in init.c's order); at exit it does
 * not, since a thread still running could hold it forever. */
static void report(sink *k, const program *p, enum pgc_stats_mode mode, int take_gc_lock) {
    pgc_snapshot s;
    pgc_gc_snapshot g;
    if (take_gc_lock)
        pgc_lock();
    pgc__control_snapshot(&g);
    if (take_gc_lock)
        pgc_unlock();
    pgc__stats_snapshot(&s);
    if (mode == PGC_STATS_JSON)
        report_json(k, p, &s, &g);
    else
        report_text(k, p, &s, &g);
    sink_flush(k);
}

PGC_API void pgc_stats_print(FILE *file) {
    int saved = errno;
    sink k = {.file = file};
    program p;
    program_read(&p);
    report(&k, &p, pgc__options.stats == PGC_STATS_JSON ? PGC_STATS_JSON : PGC_STATS_TEXT, 1);
    fflush(file);
    errno = saved;
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
    program p;
    program_read(&p);
    if (pgc__options.stats_program[0] && !program_matches(&p, pgc__options.stats_program)) {
        errno = saved;
        return;
    }
    sink k = {.fd = STDERR_FILENO};
    if (pgc__options.stats_file[0]) {
        k.fd = open_stats_file();
        if (k.fd < 0) {
            errno = saved;
            return;
        }
    }
    report(&k, &p, pgc__options.stats, 0);
    if (k.fd != STDERR_FILENO)
        close(k.fd);
    errno = saved;
}
