/*
 * prof.c - the sampling heap profiler (POOLGC_PROF): samples allocations of
 * every tier with their call stacks and writes them in the gperftools heap
 * profile format, which google-pprof and jeprof read.
 *
 * Sampling. As in tcmalloc and jemalloc, each thread counts down the bytes it
 * allocates from an interval drawn from an exponential distribution of mean
 * POOLGC_PROF_SAMPLE (R); the allocation that takes the count to zero or
 * below is a sample, and a new interval is drawn. The intervals are a
 * Poisson process over bytes, so an allocation of s bytes is a sample with
 * probability 1 - exp(-s/R), independently of every other one; pprof's
 * "heap_v2/R" reading divides each line's counts by exactly that
 * probability, computed from the line's mean size. So that the mean is the
 * size, a line here is one (call stack, size) pair: the estimate is unbiased
 * for any mix of sizes (pprof adds up the lines of one stack after scaling).
 *
 * Every allocation must be counted, yet the pool fast paths of both tiers
 * (alloc_inline.h) never call out and are not changed. A block the malloc
 * fast path hands out comes from the free list of its class's current pool;
 * so the profiler counts blocks as they join that list, before they are
 * allocated (prof.h: pgc_prof_fast_pool, pgc_prof_heap):
 *
 *   - when the slow path makes a pool the current one ("hands it over"), it
 *     counts the blocks on its free list at once, from internal.h's counts
 *     (next_offset / block_size - used), no walk;
 *   - the current pool carries PGC_SLOW_FREE_PROF, so the owner's frees into
 *     it, which push blocks that the fast path hands out next (last in,
 *     first out, as without profiling), continue on the free slow path and
 *     are counted there, inline, one by one (pgc_prof_free_counted). Frees
 *     into the other pools stay fast: their blocks are counted when their
 *     pool is handed over. Blocks other threads free come back through the
 *     slow path.
 *
 * Counting a block draws, ahead of time, whether its allocation is a sample.
 * The sample must then be the allocation that takes that very block - the
 * blocks pushed after it are taken first, and the allocations of one site
 * are not those of another - so the free list is cut just above the block:
 * the block and those below it become a segment, kept aside (counted in the
 * pool's used), and the allocation that finds the list empty, after what is
 * pushed later was taken again, is the one that would have taken the block.
 * It comes to the slow path (pgc__prof_malloc_owed, before refill), is the
 * sample, and puts the segment back. For a list being handed over the cut
 * needs a walk to the block (once per sample); for a block just pushed it is
 * the top. Segments stack up, last cut on top, as the blocks they hold would.
 *
 * A pool that stops being current (set_head, reclaim) stops being counted:
 * its segments go back under its list, the draws for its blocks not
 * allocated yet are dropped, samples owed included, and drawn again when it
 * is handed over again. Each draw is an independent coin (the exponential
 * countdown has no memory), so dropping draws for a reason that does not
 * depend on them biases nothing; what matters is that every allocation is
 * counted exactly once, and that a sample is the allocation its draw was for.
 * (tests/preload/prof_pprof.sh checks sites that keep their blocks against
 * sites that free them at once, 3 : 1.)
 *
 * Frees of samples. A sampled pool block is served from one of the
 * profiler's own pools, whose owner is a heap no thread has: every free of
 * such a block takes the remote-free path (an atomic push on the pool's
 * remote list) with no test added anywhere. The profiler takes those lists
 * back under its lock before it hands out another sampled block of the
 * class and before a dump, and subtracts each block from its stack's in-use
 * counts. Sampled jemalloc blocks are in the same address table; large.c's
 * free asks first a lock-free filter (counts by address hash) and takes the
 * lock only on a hit.
 *
 * Call stacks: glibc's backtrace(), which unwinds with libgcc_s's DWARF
 * unwinder, so stacks are right in code without frame pointers (Debian's
 * python3, libc), and libpoolgc.so keeps libc as its only NEEDED library (no
 * libunwind). Its first call dlopens libgcc_s, which allocates: the
 * constructor calls it once before sampling starts, outside any allocation
 * path, and nothing is sampled before that. Afterwards it does not allocate
 * (libgcc finds FDEs with _dl_find_object, lock-free, glibc 2.35+). A
 * request made while this thread is inside the profiler (prof_thread.busy)
 * is not sampled, so nothing recurses. Frames inside libpoolgc.so itself
 * (found at start-up with dl_iterate_phdr) are dropped: a stack starts at
 * the caller of malloc, operator new or pgc_new. (Frame-pointer walking
 * would be cheaper but finds nothing in code built without them;
 * libunwind's unw_backtrace would add a dependency for the same result.)
 *
 * The profiler lock guards the tables below and the profiler's pools; under
 * it nothing allocates (tables and records live in memory mapped here), and
 * it is taken below the GC lock and above the heaps lock (init.c). Stacks
 * are captured before it is taken. A dump holds it while it writes, so
 * threads that sample meanwhile wait, and none can deadlock with it.
 */
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "options.h"
#include "prof.h"

#define PROF_SAMPLE_DEFAULT ((size_t)512 << 10) /* tcmalloc's and jemalloc's */
#define PROF_SAMPLE_MAX ((size_t)1 << 40)
#define PROF_MAX_DEPTH 64                   /* frames kept per stack */
#define PROF_OWN_FRAMES 16                  /* room for libpoolgc's own frames above them */
#define PROF_FILTER_SLOTS ((size_t)1 << 14) /* counts of sampled large blocks by hash */
#define PROF_CHUNK_SIZE ((size_t)1 << 20)   /* records, heap states, segment stacks */
#define PROF_PATH_MAX 320                   /* a 255-byte prefix, the pid and ".heap" */

_Atomic int pgc__prof_on;

/* One line of the profile: the samples of one size taken at one stack. */
typedef struct prof_record {
    uint64_t hash;
    size_t size;    /* bytes of each sampled block */
    uint64_t live;  /* samples not freed yet */
    uint64_t total; /* samples ever */
    uint32_t depth;
    uintptr_t frames[]; /* return addresses, the caller of malloc first */
} prof_record;

/* A sampled block that is still allocated. addr 0: an empty slot. */
typedef struct live_entry {
    uintptr_t addr;
    prof_record *record;
} live_entry;

/* Open-addressing tables, linear probing, grown (by mapping a new one) at
 * half full. Everything here under prof.lock, except filter (atomic). */
static struct {
    pthread_mutex_t lock;
    char prefix[256];           /* POOLGC_PROF */
    size_t sample;              /* POOLGC_PROF_SAMPLE: mean bytes between samples */
    uintptr_t self_lo, self_hi; /* libpoolgc.so's code */
    char *chunk;                /* the rest of the current chunk */
    size_t chunk_left;
    prof_record **records; /* by stack and size */
    size_t records_cap, records_count;
    live_entry *live; /* by address */
    size_t live_cap, live_count;
    _Atomic uint32_t *filter;             /* live large samples per address hash */
    pgc_pool *pools[PGC_NUM_CLASSES + 1]; /* sampled pool blocks, linked by next */
} prof = {.lock = PTHREAD_MUTEX_INITIALIZER, .sample = PROF_SAMPLE_DEFAULT};

/* The owner of the profiler's pools: the heap of no thread. */
static pgc_heap prof_owner;

typedef pgc_prof_thread prof_thread;
__thread pgc_prof_thread pgc__prof_thread;
#define prof_tls pgc__prof_thread

/* ---- the countdown ----------------------------------------------------------- */

static uint64_t next_random(prof_thread *t) {
    if (pgc_unlikely(!t->rng)) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        t->rng = ((uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull) ^ (uintptr_t)t ^
                 ((uint64_t)ts.tv_sec << 32) ^ 1;
    }
    uint64_t x = t->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    t->rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Natural logarithm of x > 0 (libm would be a second NEEDED library):
 * x = m 2^e with m in [sqrt(1/2), sqrt(2)), ln m = 2 atanh(s) with
 * s = (m - 1) / (m + 1), |s| < 0.172; eight terms of the series leave an
 * error below 1e-13. */
static double prof_ln(double x) {
    union {
        double d;
        uint64_t u;
    } v = {.d = x};
    int e = (int)((v.u >> 52) & 0x7ff) - 1023;
    v.u = (v.u & 0x000fffffffffffffull) | 0x3ff0000000000000ull;
    double m = v.d;
    if (m > 1.4142135623730951) {
        m *= 0.5;
        e++;
    }
    double s = (m - 1) / (m + 1), s2 = s * s, term = s, sum = 0;
    for (int k = 0; k < 8; k++) {
        sum += term / (2 * k + 1);
        term *= s2;
    }
    return e * 0.6931471805599453 + 2 * sum;
}

/* An exponential interval of mean prof.sample, rounded up: the count
 * reaches zero within an allocation of s bytes with probability exactly
 * 1 - exp(-s/R) for whole s. */
static int64_t draw_interval(prof_thread *t) {
    double u = (double)((next_random(t) >> 11) + 1) * 0x1p-53; /* (0, 1] */
    double x = -prof_ln(u) * (double)prof.sample;
    if (x > 0x1p62)
        x = 0x1p62;
    int64_t n = (int64_t)x;
    if ((double)n < x)
        n++;
    return n < 1 ? 1 : n;
}

/* Count an allocation of `bytes`; 1 when it is a sample. */
static int present(prof_thread *t, size_t bytes) {
    if (pgc_unlikely(!t->rng))
        t->left = draw_interval(t);
    t->left -= (int64_t)bytes;
    if (t->left > 0)
        return 0;
    t->left = draw_interval(t);
    return 1;
}

/* ---- memory of our own ------------------------------------------------------- */

static void *chunk_alloc(size_t bytes) {
    bytes = (bytes + 63) & ~(size_t)63;
    if (bytes > prof.chunk_left) {
        size_t n = bytes > PROF_CHUNK_SIZE ? bytes : PROF_CHUNK_SIZE;
        void *m = pgc__os_map(NULL, n, PROT_READ | PROT_WRITE, 0);
        if (m == MAP_FAILED)
            return NULL;
        prof.chunk = m;
        prof.chunk_left = n;
    }
    void *p = prof.chunk;
    prof.chunk += bytes;
    prof.chunk_left -= bytes;
    return p;
}

static void *table_map(size_t bytes) {
    void *m = pgc__os_map(NULL, bytes, PROT_READ | PROT_WRITE, 0);
    return m == MAP_FAILED ? NULL : m;
}

static uint64_t mix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

/* ---- records: one per stack and size ---------------------------------------- */

static uint64_t record_hash(const uintptr_t *frames, unsigned depth, size_t size) {
    uint64_t h = mix(size ^ ((uint64_t)depth << 48));
    for (unsigned i = 0; i < depth; i++)
        h = mix(h ^ frames[i]);
    return h;
}

static int records_grow(void) {
    size_t cap = prof.records_cap ? prof.records_cap * 2 : 4096;
    prof_record **table = table_map(cap * sizeof *table);
    if (!table)
        return 0;
    for (size_t i = 0; i < prof.records_cap; i++) {
        prof_record *r = prof.records[i];
        if (!r)
            continue;
        size_t j = r->hash & (cap - 1);
        while (table[j])
            j = (j + 1) & (cap - 1);
        table[j] = r;
    }
    if (prof.records)
        pgc__os_unmap(prof.records, prof.records_cap * sizeof *prof.records);
    prof.records = table;
    prof.records_cap = cap;
    return 1;
}

/* The record of this stack and size, made if new; NULL when out of memory. */
static prof_record *record_for(const uintptr_t *frames, unsigned depth, size_t size) {
    if (2 * (prof.records_count + 1) > prof.records_cap && !records_grow())
        return NULL;
    uint64_t h = record_hash(frames, depth, size);
    size_t mask = prof.records_cap - 1, i = h & mask;
    for (prof_record *r; (r = prof.records[i]) != NULL; i = (i + 1) & mask) {
        if (r->hash == h && r->size == size && r->depth == depth &&
            !memcmp(r->frames, frames, depth * sizeof *frames))
            return r;
    }
    prof_record *r = chunk_alloc(sizeof *r + depth * sizeof *frames);
    if (!r)
        return NULL;
    r->hash = h;
    r->size = size;
    r->depth = depth;
    memcpy(r->frames, frames, depth * sizeof *frames);
    prof.records[i] = r;
    prof.records_count++;
    return r;
}

/* ---- live samples: by address ------------------------------------------------ */

static size_t live_home(uintptr_t addr, size_t mask) {
    return mix(addr) & mask;
}

static size_t filter_slot(const void *p) {
    return mix((uintptr_t)p) >> (64 - 14);
}
_Static_assert(PROF_FILTER_SLOTS == (size_t)1 << 14, "filter_slot takes 14 bits");

/* Rebuild the table of live samples with room for cap entries. */
static int live_resize(size_t cap) {
    live_entry *table = table_map(cap * sizeof *table);
    if (!table)
        return 0;
    for (size_t i = 0; i < prof.live_cap; i++) {
        live_entry e = prof.live[i];
        if (!e.addr)
            continue;
        size_t j = live_home(e.addr, cap - 1);
        while (table[j].addr)
            j = (j + 1) & (cap - 1);
        table[j] = e;
    }
    if (prof.live)
        pgc__os_unmap(prof.live, prof.live_cap * sizeof *prof.live);
    prof.live = table;
    prof.live_cap = cap;
    return 1;
}

static int live_grow(void) {
    return live_resize(prof.live_cap ? prof.live_cap * 2 : 4096);
}

/* After many samples were freed: a smaller table (its pages go back). */
static void live_shrink(void) {
    size_t cap = prof.live_cap;
    while (cap > 4096 && 8 * prof.live_count < cap / 2)
        cap /= 2;
    if (cap < prof.live_cap)
        live_resize(cap);
}

/* Remove addr; its record, or NULL when addr is not a live sample. Linear
 * probing's deletion: later entries of the cluster that may not stay behind
 * the hole move into it. */
static prof_record *live_remove(uintptr_t addr) {
    if (!prof.live_count)
        return NULL;
    size_t mask = prof.live_cap - 1, i = live_home(addr, mask);
    while (prof.live[i].addr != addr) {
        if (!prof.live[i].addr)
            return NULL;
        i = (i + 1) & mask;
    }
    prof_record *record = prof.live[i].record;
    prof.live_count--;
    for (size_t j = i;;) {
        j = (j + 1) & mask;
        if (!prof.live[j].addr)
            break;
        size_t k = live_home(prof.live[j].addr, mask);
        /* entry j may stay when its home lies cyclically in (i, j] */
        if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
            continue;
        prof.live[i] = prof.live[j];
        i = j;
    }
    prof.live[i].addr = 0;
    return record;
}

/* A sample is freed: take it out of its record's in-use counts. */
static void forget(uintptr_t addr, int large) {
    prof_record *r = live_remove(addr);
    if (!r)
        return;
    r->live--;
    if (large)
        atomic_fetch_sub_explicit(&prof.filter[filter_slot((void *)addr)], 1, memory_order_relaxed);
}

/* Count a sample of `size` bytes at p, taken at this stack. */
static void record_sample(const uintptr_t *frames, unsigned depth, size_t size, void *p,
                          int large) {
    prof_record *r = record_for(frames, depth, size);
    if (!r)
        return;
    r->total++;
    forget((uintptr_t)p, large); /* a stale entry (never expected): drop it */
    if (2 * (prof.live_count + 1) > prof.live_cap && !live_grow())
        return;
    size_t mask = prof.live_cap - 1, i = live_home((uintptr_t)p, mask);
    while (prof.live[i].addr)
        i = (i + 1) & mask;
    prof.live[i] = (live_entry){(uintptr_t)p, r};
    prof.live_count++;
    r->live++;
    if (large)
        atomic_fetch_add_explicit(&prof.filter[filter_slot(p)], 1, memory_order_relaxed);
}

/* ---- call stacks -------------------------------------------------------------- */

/* The caller's stack, innermost first, without libpoolgc's own frames. */
static unsigned capture(uintptr_t *frames) {
    void *raw[PROF_MAX_DEPTH + PROF_OWN_FRAMES];
    int n = backtrace(raw, (int)(sizeof raw / sizeof raw[0]));
    int i = 0;
    while (i < n && (uintptr_t)raw[i] - prof.self_lo < prof.self_hi - prof.self_lo)
        i++;
    if (i == n) /* all ours: poolgc linked into the program itself */
        i = 0;
    unsigned depth = 0;
    for (; i < n && depth < PROF_MAX_DEPTH; i++)
        frames[depth++] = (uintptr_t)raw[i];
    return depth;
}

static int find_self(struct dl_phdr_info *info, size_t size, void *arg) {
    (void)size;
    uintptr_t here = (uintptr_t)arg;
    for (unsigned i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (here - lo < hi - lo) {
            prof.self_lo = lo;
            prof.self_hi = hi;
            return 1;
        }
    }
    return 0;
}

/* ---- the profiler's pools: sampled pool blocks ---------------------------------- */

/* Take back the sampled blocks other threads (or the owner) freed. */
static void drain(pgc_pool *pool) {
    if (!atomic_load_explicit(&pool->remote, memory_order_relaxed))
        return;
    uintptr_t word = atomic_exchange_explicit(&pool->remote, 0, memory_order_acquire);
    pgc_block *b = PGC_REMOTE_BLOCKS(word);
    while (b) {
        pgc_block *next = b->next;
        forget((uintptr_t)b, 0);
        b->next = pool->free;
        pool->free = b;
        pool->used--;
        b = next;
    }
}

/* Take back every freed sample; empty pools go back to the region, but the
 * first of each class. */
static void drain_all(void) {
    for (unsigned cls = 1; cls <= PGC_NUM_CLASSES; cls++) {
        pgc_pool **link = &prof.pools[cls];
        while (*link) {
            pgc_pool *pool = *link;
            drain(pool);
            if (pool->used == 0 && pool != prof.pools[cls]) {
                *link = pool->next;
                pgc__region_give_pool(pool);
            } else {
                link = &pool->next;
            }
        }
    }
}

/* A block of class cls for a sample; NULL when the region is exhausted. */
static void *sample_block(unsigned cls) {
    pgc_pool *pool;
    for (pool = prof.pools[cls]; pool; pool = pool->next) {
        drain(pool);
        if (pool->free || pgc__pool_extend(pool))
            return pgc_pool_take(pool);
    }
    if (!pgc__region.base || !(pool = pgc__region_take_pool(pgc_class_slots(cls), NULL)))
        return NULL;
    pgc__pool_init(pool, &prof_owner, cls);
    pgc__pool_extend(pool);
    pool->next = prof.pools[cls];
    prof.pools[cls] = pool;
    return pgc_pool_take(pool);
}

/* ---- the pools' slow path -------------------------------------------------------- */

pgc_pool pgc__prof_uncounted;

static void set_current(pgc_heap *heap, unsigned cls, pgc_pool *pool) {
    heap->current[cls] = pool;
    if (cls == 1)
        heap->current[0] = pool; /* malloc(0) */
}

/* The heap's first slow path while profiling: no pool is handed over.
 * locked: the caller holds the profiler lock. */
static pgc_prof_heap *prof_heap_create(pgc_heap *heap, int locked) {
    if (!locked)
        pthread_mutex_lock(&prof.lock);
    pgc_prof_heap *ph = chunk_alloc(sizeof *ph); /* zeroed */
    if (!locked)
        pthread_mutex_unlock(&prof.lock);
    if (!ph)
        return NULL;
    for (unsigned cls = 1; cls <= PGC_NUM_CLASSES; cls++)
        set_current(heap, cls, &pgc__prof_uncounted);
    heap->prof = ph;
    return ph;
}

/* Push a segment on class cls's stack: list (count blocks, the first one a
 * sample's) leaves the free list of its pool. 0 when there is no memory for
 * the stack: the block is then not a sample after all. */
static int push_segment(pgc_prof_heap *ph, unsigned cls, pgc_block *list, uint32_t count,
                        uint32_t counted) {
    if (ph->nseg[cls] == ph->seg_cap[cls]) {
        uint32_t cap = ph->seg_cap[cls] ? 2 * ph->seg_cap[cls] : 4;
        pthread_mutex_lock(&prof.lock);
        pgc_prof_segment *grown = chunk_alloc(cap * sizeof *grown); /* the old one stays */
        pthread_mutex_unlock(&prof.lock);
        if (!grown)
            return 0;
        if (ph->nseg[cls])
            memcpy(grown, ph->seg[cls], ph->nseg[cls] * sizeof *grown);
        ph->seg[cls] = grown;
        ph->seg_cap[cls] = cap;
    }
    pgc_pool *pool = pgc_pool_of(list);
    pool->used += count; /* handed out, to the segment */
    ph->seg[cls][ph->nseg[cls]++] = (pgc_prof_segment){list, count, counted};
    return 1;
}

/* Pop the top segment back on its pool's (empty) free list. */
static pgc_prof_segment pop_segment(pgc_prof_heap *ph, unsigned cls) {
    pgc_prof_segment s = ph->seg[cls][--ph->nseg[cls]];
    pgc_pool *pool = pgc_pool_of(s.list);
    pool->free = s.list;
    pool->used -= s.count;
    return s;
}

/* The class's handed pool (if any) is no longer counted: its segments go
 * back under its free list, and what the list holds is counted again when
 * the pool is handed over again (the draws for blocks not allocated
 * meanwhile are dropped, samples owed included). */
static void unhand(pgc_prof_heap *ph, unsigned cls) {
    while (ph->nseg[cls]) {
        pgc_prof_segment s = ph->seg[cls][--ph->nseg[cls]];
        pgc_pool *pool = pgc_pool_of(s.list);
        pgc_block *last = s.list;
        while (last->next)
            last = last->next;
        last->next = pool->free;
        pool->free = s.list;
        pool->used -= s.count;
    }
    if (ph->handed[cls]) {
        pgc_pool_slow_clear(ph->handed[cls], PGC_SLOW_FREE_PROF);
        ph->handed[cls] = NULL;
    }
}

pgc_pool *pgc__prof_head(pgc_heap *heap, unsigned cls, pgc_pool *pool) {
    pgc_prof_heap *ph = heap->prof;
    if (ph->handed[cls] && ph->handed[cls] != pool)
        unhand(ph, cls);
    return pgc_prof_fast_pool(heap, cls, pool);
}

/* The blocks on pool's free list. */
static uint32_t free_count(const pgc_pool *pool) {
    return (pool->next_offset - pool->used * pool->block_size) / pool->block_size;
}

/* Hand pool over, its free list not counted yet: count the blocks on it, at
 * once, and every block freed into it from now on. When the countdown
 * expires among them, the list is cut before the block that makes it
 * expire: that block and the (uncounted) ones below it make a segment. */
static void hand_over(pgc_heap *heap, pgc_prof_heap *ph, pgc_pool *pool, prof_thread *t) {
    unsigned cls = pool->cls;
    uint32_t size = pool->block_size;
    uint32_t bytes = pool->next_offset - pool->used * size; /* on its free list (internal.h) */
    ph->handed[cls] = pool;
    pgc_pool_slow_set(pool, PGC_SLOW_FREE_PROF);
    set_current(heap, cls, pool);
    if ((int64_t)bytes < t->left) {
        t->left -= bytes;
        return;
    }
    uint32_t above = (uint32_t)((t->left - 1) / size);
    t->left = draw_interval(t); /* that draw belongs to the segment now */
    pgc_block **cut = &pool->free;
    for (uint32_t i = 0; i < above; i++)
        cut = &(*cut)->next;
    pgc_block *list = *cut;
    *cut = NULL;
    if (!push_segment(ph, cls, list, bytes / size - above, 0))
        *cut = list;
    pgc_debug_check(pgc__pool_check(pool));
}

/* A sampled block of class cls, recorded with the caller's stack; NULL when
 * the profiler's pools cannot grow. */
static void *sample_pooled(prof_thread *t, unsigned cls) {
    uintptr_t frames[PROF_MAX_DEPTH];
    int saved = errno;
    t->busy = 1;
    unsigned depth = capture(frames);
    pthread_mutex_lock(&prof.lock);
    void *block = sample_block(cls);
    if (block)
        record_sample(frames, depth, pgc_class_size(cls), block, 0);
    pthread_mutex_unlock(&prof.lock);
    t->busy = 0;
    errno = saved;
    return block;
}

void *pgc__prof_malloc_owed(pgc_heap *heap, unsigned cls) {
    pgc_prof_heap *ph = heap->prof;
    pgc_pool *pool = ph->handed[cls];
    prof_thread *t = &prof_tls;
    if (!pool || pool->free || !ph->nseg[cls] || t->busy)
        return NULL;
    /* This allocation would take the top segment's first block: it is a
     * sample, served by the profiler's pools. The segment's blocks go back
     * on the free list, its first block counted again (a new draw). */
    void *block = sample_pooled(t, cls);
    pgc_prof_segment s = pop_segment(ph, cls);
    if (!block) {
        block = pgc_pool_take(pool); /* the sample's block: the sample is lost */
        if (!s.counted)
            hand_over(heap, ph, pool, t); /* counts the rest */
        return block;
    }
    if (!s.counted) {
        hand_over(heap, ph, pool, t); /* counts them all */
    } else if (present(t, pool->block_size)) {
        pool->free = NULL;
        if (!push_segment(ph, cls, s.list, s.count, 1))
            pool->free = s.list;
    }
    return block;
}

void *pgc__prof_malloc(pgc_heap *heap, pgc_pool *pool) {
    prof_thread *t = &prof_tls;
    pgc_prof_heap *ph = heap->prof;
    if (pgc_unlikely(t->busy)) /* inside the profiler: not counted */
        return pgc_pool_take(pool);
    if (pgc_unlikely(!ph)) {
        int saved = errno;
        ph = prof_heap_create(heap, 0);
        errno = saved;
        if (!ph)
            return pgc_pool_take(pool); /* not counted: the next slow path tries again */
    }
    /* Nothing on pool's free list is counted: the fast path's list ran dry
     * (and refill put new blocks there, or moved to another pool), or no
     * pool was handed over. */
    unsigned cls = pool->cls;
    unhand(ph, cls);
    void *block = NULL;
    if (present(t, pool->block_size))
        block = sample_pooled(t, cls);
    if (!block)
        block = pgc_pool_take(pool);
    hand_over(heap, ph, pool, t);
    return block;
}

static void free_due(pgc_heap *heap, pgc_pool *pool) {
    prof_thread *t = &prof_tls;
    uint32_t size = pool->block_size;
    if (pgc_unlikely(t->busy)) { /* a signal handler's free inside the profiler */
        t->left += size;         /* not counted */
        return;
    }
    if (pgc_unlikely(!t->rng)) { /* the thread's first count: draw, then count */
        t->left = draw_interval(t) - (int64_t)size;
        if (t->left > 0)
            return;
    }
    t->left = draw_interval(t); /* the block pushed is a sample's */
    pgc_prof_heap *ph = heap->prof;
    unsigned cls = pool->cls;
    if (pgc_unlikely(!ph || ph->handed[cls] != pool)) {
        pgc_pool_slow_clear(pool, PGC_SLOW_FREE_PROF); /* never expected */
        return;
    }
    /* The list from that block down (all counted) becomes a segment, and
     * the allocation that would take the block - once what is freed from
     * now on is taken again - is the sample. */
    pgc_block *list = pool->free;
    uint32_t count = free_count(pool);
    pool->free = NULL;
    if (!push_segment(ph, cls, list, count, 1))
        pool->free = list;
}

int pgc__prof_free_due(pgc_heap *heap, pgc_pool *pool) {
    free_due(heap, pool);
    return pool->slow_free == (PGC_SLOW_FREE_PROF | PGC_SLOW_FREE_ANY) && pool->used != 0;
}

void pgc__prof_heap_flush(pgc_heap *heap) {
    if (!pgc_prof_active())
        return;
    /* Freed samples go back now (for malloc_trim and the statistics) - if
     * the profiler lock is free: reclaim_all may run under the heaps lock,
     * which is taken after it. */
    int locked = pthread_mutex_trylock(&prof.lock) == 0;
    if (locked) {
        drain_all();
        live_shrink();
    }
    pgc_prof_heap *ph = heap->prof;
    if (ph) {
        for (unsigned cls = 1; cls <= PGC_NUM_CLASSES; cls++) {
            unhand(ph, cls);
            set_current(heap, cls, &pgc__prof_uncounted);
        }
    } else if (locked) {
        /* A heap that has not allocated since profiling started: a thread
         * that adopts it later is counted from its first allocation. */
        prof_heap_create(heap, 1);
    }
    if (locked)
        pthread_mutex_unlock(&prof.lock);
}

/* ---- the jemalloc path -------------------------------------------------------- */

void pgc__prof_large_malloc(void *p, size_t size) {
    prof_thread *t = &prof_tls;
    if (t->busy || !present(t, size))
        return;
    uintptr_t frames[PROF_MAX_DEPTH];
    int saved = errno;
    t->busy = 1;
    unsigned depth = capture(frames);
    pthread_mutex_lock(&prof.lock);
    record_sample(frames, depth, size, p, 1);
    pthread_mutex_unlock(&prof.lock);
    t->busy = 0;
    errno = saved;
}

void pgc__prof_large_free(void *p) {
    if (!atomic_load_explicit(&prof.filter[filter_slot(p)], memory_order_relaxed))
        return;
    prof_thread *t = &prof_tls;
    if (t->busy) /* a signal handler's free while this thread holds the lock */
        return;
    t->busy = 1;
    pthread_mutex_lock(&prof.lock);
    forget((uintptr_t)p, 1);
    pthread_mutex_unlock(&prof.lock);
    t->busy = 0;
}

/* ---- the profile ---------------------------------------------------------------- */

typedef struct writer {
    int fd;
    int error; /* errno of the first failed write, or 0 */
    size_t len;
    char buf[8192];
} writer;

static void flush(writer *w) {
    const char *p = w->buf;
    size_t len = w->len;
    w->len = 0;
    while (len > 0 && !w->error) {
        ssize_t n = write(w->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            w->error = n < 0 ? errno : EIO;
            return;
        }
        p += n;
        len -= (size_t)n;
    }
}

static void put(writer *w, const char *s, size_t n) {
    while (n > 0) {
        size_t room = sizeof w->buf - w->len, k = n < room ? n : room;
        memcpy(w->buf + w->len, s, k);
        w->len += k;
        s += k;
        n -= k;
        if (w->len == sizeof w->buf)
            flush(w);
    }
}

static void __attribute__((format(printf, 2, 3))) putf(writer *w, const char *fmt, ...) {
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(w, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* The heap profile, as gperftools writes it and pprof reads it:
 *
 *   heap profile: <live>: <live bytes> [<total>: <total bytes>] @ heap_v2/<R>
 *   <live>: <live bytes> [<total>: <total bytes>] @ 0x<pc> 0x<pc> ...
 *   ...
 *
 *   MAPPED_LIBRARIES:
 *   <the contents of /proc/self/maps>
 *
 * Counts are samples, not estimates: pprof scales them (heap_v2). The first
 * address is the return address into malloc's caller minus one, so that it
 * falls in the call; pprof subtracts one from the others itself. */
static void write_records(writer *w) {
    uint64_t live = 0, live_bytes = 0, total = 0, total_bytes = 0;
    for (size_t i = 0; i < prof.records_cap; i++) {
        const prof_record *r = prof.records[i];
        if (!r || !r->depth)
            continue;
        live += r->live;
        live_bytes += r->live * r->size;
        total += r->total;
        total_bytes += r->total * r->size;
    }
    putf(w, "heap profile: %6llu: %8llu [%6llu: %8llu] @ heap_v2/%zu\n", (unsigned long long)live,
         (unsigned long long)live_bytes, (unsigned long long)total, (unsigned long long)total_bytes,
         prof.sample);
    for (size_t i = 0; i < prof.records_cap; i++) {
        const prof_record *r = prof.records[i];
        if (!r || !r->depth)
            continue;
        putf(w, "%6llu: %8llu [%6llu: %8llu] @", (unsigned long long)r->live,
             (unsigned long long)(r->live * r->size), (unsigned long long)r->total,
             (unsigned long long)(r->total * r->size));
        for (uint32_t k = 0; k < r->depth; k++)
            putf(w, " 0x%lx", (unsigned long)(r->frames[k] - (k == 0)));
        put(w, "\n", 1);
    }
}

static void write_maps(writer *w) {
    put(w, "\nMAPPED_LIBRARIES:\n", 19);
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        w->error = w->error ? w->error : errno;
        return;
    }
    char buf[4096];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n < 0 && !w->error)
                w->error = errno;
            break;
        }
        put(w, buf, (size_t)n);
    }
    close(fd);
}

/* Write the profile to path: 0, or -1 with errno set. */
static int dump(const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        return -1;
    writer w = {.fd = fd};
    prof_thread *t = &prof_tls;
    int busy = t->busy;
    t->busy = 1;
    pthread_mutex_lock(&prof.lock);
    drain_all();
    write_records(&w);
    pthread_mutex_unlock(&prof.lock);
    t->busy = busy;
    write_maps(&w);
    flush(&w);
    if (close(fd) != 0 && !w.error)
        w.error = errno;
    if (w.error) {
        errno = w.error;
        return -1;
    }
    return 0;
}

static void default_path(char *buf, size_t size) {
    snprintf(buf, size, "%s.%d.heap", prof.prefix, (int)getpid());
}

PGC_API int pgc_prof_dump(const char *path) {
    if (!pgc_prof_active()) {
        errno = EINVAL;
        return -1;
    }
    char name[PROF_PATH_MAX];
    if (!path) {
        default_path(name, sizeof name);
        path = name;
    }
    int saved = errno;
    if (dump(path) != 0)
        return -1;
    errno = saved;
    return 0;
}

/* ---- start-up, exit, fork --------------------------------------------------------- */

void pgc__prof_start(void) {
    if (!prof.prefix[0] || atomic_load_explicit(&pgc__prof_on, memory_order_relaxed))
        return;
    dl_iterate_phdr(find_self, (void *)(uintptr_t)&pgc__prof_start);
    /* The first backtrace() loads libgcc_s (and allocates): now, not in a
     * slow path. */
    void *frames[4];
    backtrace(frames, 4);
    void *filter = table_map(PROF_FILTER_SLOTS * sizeof *prof.filter);
    if (!filter) {
        pgc__message("poolgc: POOLGC_PROF: no memory for the profiler; not profiling");
        return;
    }
    prof.filter = filter;
    atomic_store_explicit(&pgc__prof_on, 1, memory_order_release);
    /* This thread may have allocated already (before main, the constructors
     * of other libraries): its heap's pools are counted from now on, not from
     * its next slow path. (Other threads' heaps from their next slow path.) */
    pgc_heap *heap = pgc__heap_tls;
    if (heap != &pgc__heap_none && heap != &pgc__heap_exited && !heap->prof)
        prof_heap_create(heap, 0);
    if (pgc__options.verbose)
        pgc__message("poolgc: heap profile: one sample per %zu bytes on average, written to "
                     "%s.%d.heap at exit",
                     prof.sample, prof.prefix, (int)getpid());
}

void pgc__prof_at_exit(void) {
    if (!pgc_prof_active())
        return;
    char path[PROF_PATH_MAX];
    default_path(path, sizeof path);
    if (dump(path) != 0) {
        const char *why = strerrordesc_np(errno);
        pgc__message("poolgc: POOLGC_PROF: cannot write %s: %s", path, why ? why : "error");
    } else if (pgc__options.verbose) {
        pgc__message("poolgc: heap profile written to %s", path);
    }
}

void pgc__prof_fork_prepare(void) {
    pthread_mutex_lock(&prof.lock);
}

void pgc__prof_fork_parent(void) {
    pthread_mutex_unlock(&prof.lock);
}

void pgc__prof_fork_child(void) {
    pthread_mutex_init(&prof.lock, NULL);
}

/* ---- options ---------------------------------------------------------------------- */

const char *pgc__prof_parse_prefix(const char *v) {
    size_t n = strlen(v);
    if (n >= sizeof prof.prefix)
        return "longer than 255 bytes";
    _Static_assert(sizeof prof.prefix == 256, "update the message above");
    memcpy(prof.prefix, v, n + 1);
    return NULL;
}

void pgc__prof_show_prefix(char *buf, size_t size) {
    snprintf(buf, size, "%s", prof.prefix[0] ? prof.prefix : "\"\"");
}

const char *pgc__prof_parse_sample(const char *v) {
    size_t n;
    if (pgc__options_parse_size(v, &n) || n == 0 || n > PROF_SAMPLE_MAX)
        return "not a size from 1 to 1T (a number with an optional K, M, G or T suffix)";
    prof.sample = n;
    return NULL;
}

/* The size with the largest suffix that divides it: 512K, 4096 is 4K. */
void pgc__prof_show_sample(char *buf, size_t size) {
    static const char suffix[] = "TGMK";
    size_t n = prof.sample;
    for (unsigned i = 0; i < 4; i++) {
        unsigned shift = 40 - 10 * i;
        if ((n & (((size_t)1 << shift) - 1)) == 0) {
            snprintf(buf, size, "%zu%c", n >> shift, suffix[i]);
            return;
        }
    }
    snprintf(buf, size, "%zu", n);
}
