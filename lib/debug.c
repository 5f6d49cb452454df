/*
 * debug.c - POOLGC_DEBUG, the debug allocator (after CPython's
 * PYTHONMALLOC=debug and glibc's MALLOC_CHECK_=3). How calls get here:
 * debug.h. Every block the program gets is carved from a real block of the
 * pools or of jemalloc, whichever its real size calls for:
 *
 *   real block
 *   +--------------+--------+---------------------+-----------------+
 *   | padding      | header | the program's       | guard bytes     |
 *   | (alignment   | 16 B   | `size` bytes        | GUARD_BYTE, at  |
 *   | > 16 only)   |        |                     | least GUARD_MIN |
 *   +--------------+--------+---------------------+-----------------+
 *                           ^ the program's pointer, 16-aligned
 *
 * - the header holds the size asked for, the distance back to the real
 *   block, a magic number derived from the pointer, the state (live or
 *   freed) and the call that made the block (malloc, calloc, realloc,
 *   memalign): a free, realloc or malloc_usable_size of a pointer whose
 *   header does not check out is an invalid (interior, foreign) pointer; of a
 *   freed one, a double free;
 * - malloc'd bytes are CLEAN_BYTE (0xCD, as CPython's), calloc'd zero;
 * - the guard bytes, up to the real block's end (at most GUARD_CAP), are
 *   checked at free and realloc: an overflow;
 * - a freed block is filled with DEAD_BYTE and goes to the quarantine, a
 *   FIFO of at most QUARANTINE_BLOCKS blocks and QUARANTINE_BYTES bytes
 *   under one lock; the block that leaves it is checked to be all DEAD_BYTE
 *   and guard bytes still (a write after free), then freed for real. At
 *   exit every block still in quarantine is checked, and the blocks still
 *   in use are summed by size class, one line per class.
 * Every finding is one line through message.c, then abort().
 *
 * realloc always moves the block (the old one goes to the quarantine), and
 * malloc_usable_size answers the size asked for, so that neither hides a
 * bug. Sizes: a real block is the size plus 16 (plus the alignment) plus
 * GUARD_MIN, so a 32-byte request takes a 64-byte pool block and requests
 * from 481 bytes go to jemalloc.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "alloc_inline.h"
#include "debug.h"

int pgc__debug_on = -1;
__thread int pgc__debug_inside;
__thread pgc_heap *pgc__debug_thread_heap;

#define HEADER_SIZE ((size_t)16)
#define GUARD_MIN ((size_t)16)
#define GUARD_CAP ((size_t)4096) /* guard bytes checked at most */
#define CLEAN_BYTE 0xCD          /* malloc'd, never written */
#define DEAD_BYTE 0xDD           /* freed */
#define GUARD_BYTE 0xFD          /* past the end */
#define QUARANTINE_BLOCKS 1024
#define QUARANTINE_BYTES ((size_t)16 << 20)
#define MAGIC 0xD5B1u

enum { STATE_LIVE = 0x4c, STATE_FREED = 0x46 };
enum { CALL_MALLOC, CALL_CALLOC, CALL_REALLOC, CALL_MEMALIGN, NCALLS };
static const char *const call_names[NCALLS] = {"malloc", "calloc", "realloc", "memalign"};

typedef struct header {
    uint64_t size;     /* bytes the program asked for */
    uint32_t offset16; /* (program's pointer - real block) / 16 */
    uint16_t magic;    /* magic_of(program's pointer) */
    uint8_t state;     /* STATE_LIVE or STATE_FREED */
    uint8_t call;      /* CALL_*: which call made the block */
} header;
_Static_assert(sizeof(header) == HEADER_SIZE, "the header is 16 bytes");

static uint16_t magic_of(const void *p) {
    return (uint16_t)(MAGIC ^ ((uintptr_t)p >> 4));
}

static header *header_of(const void *p) {
    return (header *)p - 1;
}

/* ---- the real allocator ------------------------------------------------------ */

/* Call the real allocator: with pgc__debug_inside set the hooks let calls
 * through, and the thread's real heap is its pgc__heap_tls meanwhile (the
 * sentinel again after; a thread's first call makes its real heap). */
static void enter(void) {
    pgc__debug_inside = 1;
    if (pgc__heap_tls == &pgc__heap_debug)
        pgc__heap_tls = pgc__debug_thread_heap;
}

static void leave(void) {
    pgc_heap *now = pgc__heap_tls;
    if (now != &pgc__heap_none && now != &pgc__heap_exited && pgc__debug_on == 1) {
        pgc__debug_thread_heap = now;
        pgc__heap_tls = &pgc__heap_debug;
    }
    pgc__debug_inside = 0;
}

/* Before the options are read, a call may come here: read them. */
static int debug_is_on(void) {
    if (pgc_unlikely(pgc__debug_on < 0))
        pgc__init_ensure();
    return pgc__debug_on == 1;
}

static size_t real_usable(const void *q) {
    return pgc_in_region(q) ? pgc_pool_of(q)->block_size : pgc__large_usable_size(q);
}

/* Is p not poolgc's (glibc's, from before poolgc was loaded)? */
static int foreign(const void *p) {
    return !pgc_in_region(p) && !pgc__large_owns(p);
}

/* ---- findings ------------------------------------------------------------- */

static PGC_COLD void invalid(const char *fn, const void *p) {
    pgc__message_fatal("poolgc: %s: invalid pointer %p (not a block poolgc handed out)", fn, p);
}

/* An interior pointer of a pool block whose header checks out. */
static PGC_COLD void interior(const char *fn, const void *p, const char *user) {
    const header *h = header_of(user);
    pgc__message_fatal("poolgc: %s: invalid pointer %p (byte %zu of the %zu-byte block %p, from "
                       "%s)",
                       fn, p, (size_t)((const char *)p - user), (size_t)h->size, (void *)user,
                       call_names[h->call]);
}

static int header_ok(const void *p) {
    const header *h = header_of(p);
    return h->magic == magic_of(p) && (h->state == STATE_LIVE || h->state == STATE_FREED) &&
           h->call < NCALLS;
}

/* The first byte of [p, p + n) that is not c, or n. */
static size_t first_not(const unsigned char *p, size_t n, unsigned char c) {
    uint64_t word = 0x0101010101010101ull * c;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        if (v != word)
            break;
    }
    for (; i < n; i++)
        if (p[i] != c)
            return i;
    return n;
}

/* The guard bytes after the block at p: up to its real block's end, at
 * most GUARD_CAP. */
static size_t guard_len(const char *p, const header *h) {
    const char *real = p - (size_t)h->offset16 * 16;
    size_t end = real_usable(real) - (size_t)(p - real);
    size_t n = end - h->size;
    return n < GUARD_CAP ? n : GUARD_CAP;
}

/* The header of a live block p, or abort. fn: the call, for the message. */
static header *check_live(const char *fn, const void *p) {
    const char *c = p;
    if (pgc_in_region(p)) {
        /* Pool blocks carry unaligned blocks only: the header opens the
         * real block. */
        const pgc_pool *pool = pgc_pool_of(p);
        size_t off = (size_t)(c - pgc_pool_data(pool));
        if (pool->owner == NULL || off >= pool->next_offset)
            invalid(fn, p);
        const char *block = c - off % pool->block_size;
        const char *user = block + HEADER_SIZE;
        if (c != user) {
            if (c > user && header_ok(user) && header_of(user)->state == STATE_LIVE)
                interior(fn, p, user);
            invalid(fn, p);
        }
        /* Out of the quarantine and freed for real: the pool's freed mark. */
        if (((const pgc_block *)block)->freed_mark == pgc_freed_mark(block))
            pgc__message_fatal("poolgc: %s: double free of %p (freed a while ago)", fn, p);
    } else if ((uintptr_t)p % PGC_ALIGNMENT != 0 ||
               ((uintptr_t)p % PGC_PAGE_SIZE < HEADER_SIZE && !pgc__large_owns(c - HEADER_SIZE))) {
        invalid(fn, p); /* not 16-aligned, or its header on a page that is not ours */
    }
    header *h = header_of(p);
    if (!header_ok(p))
        invalid(fn, p);
    if (h->state == STATE_FREED)
        pgc__message_fatal("poolgc: %s: double free of %p (%zu-byte block from %s)", fn, p,
                           (size_t)h->size, call_names[h->call]);
    size_t g = guard_len(p, h);
    size_t bad = first_not((const unsigned char *)c + h->size, g, GUARD_BYTE);
    if (bad < g)
        pgc__message_fatal("poolgc: %s: buffer overflow: the %zu-byte block %p (from %s) was "
                           "written at byte %zu, past its end",
                           fn, (size_t)h->size, p, call_names[h->call], (size_t)h->size + bad);
    return h;
}

/* A block leaving the quarantine (or still in it at exit): all DEAD_BYTE
 * and guard bytes, or abort. */
static void check_dead(const char *p, size_t size) {
    const header *h = header_of(p);
    if (h->magic != magic_of(p) || h->state != STATE_FREED || h->size != size)
        pgc__message_fatal("poolgc: write after free: the header of the %zu-byte block %p was "
                           "written after it was freed",
                           size, (void *)p);
    size_t bad = first_not((const unsigned char *)p, size, DEAD_BYTE);
    if (bad == size) {
        size_t g = guard_len(p, h);
        bad = size + first_not((const unsigned char *)p + size, g, GUARD_BYTE);
        if (bad == size + g)
            return;
    }
    pgc__message_fatal("poolgc: write after free: the %zu-byte block %p (from %s) was written at "
                       "byte %zu after it was freed",
                       size, (void *)p, call_names[h->call], bad);
}

/* ---- blocks in use, by size class -------------------------------------------- */

/* Up to PGC_SMALL_MAX: the pool classes (16-byte steps); above, powers of
 * two up to 2^63. */
#define SMALL_CLASSES (PGC_SMALL_MAX / PGC_ALIGNMENT)
#define LOG_SMALL_MAX 9 /* 2^9 = PGC_SMALL_MAX */
#define NCLASSES (SMALL_CLASSES + 1 + 64 - LOG_SMALL_MAX)
_Static_assert((size_t)1 << LOG_SMALL_MAX == PGC_SMALL_MAX, "LOG_SMALL_MAX");

static _Atomic uint64_t live_blocks[NCLASSES][NCALLS];
static _Atomic uint64_t live_bytes[NCLASSES];

static unsigned class_of(size_t size) {
    if (size <= PGC_SMALL_MAX)
        return size ? (unsigned)((size + PGC_ALIGNMENT - 1) / PGC_ALIGNMENT) : 1;
    unsigned log = 64 - (unsigned)__builtin_clzl(size - 1); /* 2^(log-1) < size <= 2^log */
    return SMALL_CLASSES + (log - LOG_SMALL_MAX);
}

/* The smallest and largest size of class c. */
static void class_range(unsigned c, size_t *lo, size_t *hi) {
    if (c <= SMALL_CLASSES) {
        *lo = c == 1 ? 0 : (size_t)(c - 1) * PGC_ALIGNMENT + 1;
        *hi = (size_t)c * PGC_ALIGNMENT;
    } else {
        unsigned log = c - SMALL_CLASSES + LOG_SMALL_MAX;
        *lo = ((size_t)1 << (log - 1)) + 1;
        *hi = log == 64 ? SIZE_MAX : (size_t)1 << log;
    }
}

static void count(size_t size, unsigned call, int delta) {
    unsigned c = class_of(size);
    atomic_fetch_add_explicit(&live_blocks[c][call], (uint64_t)(int64_t)delta,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&live_bytes[c], (uint64_t)((int64_t)delta * (int64_t)size),
                              memory_order_relaxed);
}

/* ---- the quarantine ---------------------------------------------------------- */

typedef struct entry {
    char *p;
    size_t size;
} entry;

static pthread_mutex_t quarantine_lock = PTHREAD_MUTEX_INITIALIZER;
/* A ring, the oldest at q_first; one slot more than it keeps, for the block
 * pushed in before the oldest is taken out. */
static entry quarantine[QUARANTINE_BLOCKS + 1];
static size_t q_first, q_count, q_bytes;

/* A block leaves the quarantine: checked, then freed for real. */
static void retire(char *p, size_t size) {
    check_dead(p, size);
    size_t offset = (size_t)header_of(p)->offset16 * 16;
    enter();
    pgc_free_fast(p - offset);
    leave();
}

/* Take a freed block in, and retire the oldest while there are too many
 * (outside the lock: a retired block may take the real free's slow path). */
static void quarantine_push(char *p, size_t size) {
    if (size > QUARANTINE_BYTES) {
        retire(p, size);
        return;
    }
    pthread_mutex_lock(&quarantine_lock);
    quarantine[(q_first + q_count) % (QUARANTINE_BLOCKS + 1)] = (entry){p, size};
    q_count++;
    q_bytes += size;
    while (q_count > QUARANTINE_BLOCKS || q_bytes > QUARANTINE_BYTES) {
        entry out = quarantine[q_first];
        q_first = (q_first + 1) % (QUARANTINE_BLOCKS + 1);
        q_count--;
        q_bytes -= out.size;
        pthread_mutex_unlock(&quarantine_lock);
        retire(out.p, out.size);
        pthread_mutex_lock(&quarantine_lock);
    }
    pthread_mutex_unlock(&quarantine_lock);
}

/* ---- the calls --------------------------------------------------------------- */

/* A block of `size` bytes aligned to `alignment` (16 when less). */
static void *debug_alloc(size_t size, size_t alignment, unsigned call) {
    size_t pad = alignment > PGC_ALIGNMENT ? alignment : HEADER_SIZE;
    size_t bytes;
    if (__builtin_add_overflow(size, pad + GUARD_MIN, &bytes) || bytes > PTRDIFF_MAX ||
        pad / 16 > UINT32_MAX) {
        errno = ENOMEM;
        return NULL;
    }
    enter();
    char *real =
        alignment > PGC_ALIGNMENT ? pgc__large_malloc(bytes, alignment, 0) : pgc_malloc_fast(bytes);
    leave();
    if (!real)
        return NULL;
    char *p = real + pad;
    header *h = header_of(p);
    *h = (header){.size = size,
                  .offset16 = (uint32_t)(pad / 16),
                  .magic = magic_of(p),
                  .state = STATE_LIVE,
                  .call = (uint8_t)call};
    memset(p, call == CALL_CALLOC ? 0 : CLEAN_BYTE, size);
    memset(p + size, GUARD_BYTE, guard_len(p, h));
    count(size, call, 1);
    return p;
}

static void debug_release(char *p, header *h) {
    int saved = errno;
    count(h->size, h->call, -1);
    h->state = STATE_FREED;
    memset(p, DEAD_BYTE, h->size);
    quarantine_push(p, h->size);
    errno = saved;
}

void *pgc__debug_malloc(size_t size) {
    if (!debug_is_on()) {
        pgc__debug_inside = 1;
        void *p = pgc_malloc_fast(size);
        pgc__debug_inside = 0;
        return p;
    }
    return debug_alloc(size, 0, CALL_MALLOC);
}

void *pgc__debug_calloc(size_t nmemb, size_t size) {
    size_t bytes;
    if (__builtin_mul_overflow(nmemb, size, &bytes)) {
        errno = ENOMEM;
        return NULL;
    }
    if (!debug_is_on()) {
        pgc__debug_inside = 1;
        void *p = pgc_calloc(nmemb, size);
        pgc__debug_inside = 0;
        return p;
    }
    return debug_alloc(bytes, 0, CALL_CALLOC);
}

void *pgc__debug_memalign(size_t alignment, size_t size) {
    if (!debug_is_on()) {
        pgc__debug_inside = 1;
        void *p = pgc__alloc_memalign(alignment, size);
        pgc__debug_inside = 0;
        return p;
    }
    /* glibc 2.36's _mid_memalign, as pgc__alloc_memalign */
    if (alignment > SIZE_MAX / 2 + 1) {
        errno = EINVAL;
        return NULL;
    }
    if (alignment & (alignment - 1))
        alignment = (size_t)1 << (64 - __builtin_clzl(alignment));
    return debug_alloc(size, alignment, CALL_MEMALIGN);
}

/* A call the debug allocator passes on: options not read yet (and found
 * off), or a pointer that is not poolgc's. */
static int pass_through(const void *p) {
    return !debug_is_on() || (p && foreign(p));
}

void pgc__debug_free(void *p) {
    if (!p)
        return;
    if (pass_through(p)) {
        pgc__debug_inside = 1;
        pgc_free_fast(p);
        pgc__debug_inside = 0;
        return;
    }
    debug_release(p, check_live("free()", p));
}

void *pgc__debug_realloc(void *p, size_t size) {
    if (debug_is_on() && p && foreign(p) && size) {
        /* A foreign block becomes a checked one. */
        char *q = debug_alloc(size, 0, CALL_REALLOC);
        if (q) {
            size_t old = pgc__large_usable_size(p);
            memcpy(q, p, old < size ? old : size);
            pgc__debug_free(p);
        }
        return q;
    }
    if (pass_through(p)) {
        pgc__debug_inside = 1;
        void *q = pgc_realloc(p, size);
        pgc__debug_inside = 0;
        return q;
    }
    if (!p)
        return debug_alloc(size, 0, CALL_REALLOC);
    header *h = check_live("realloc()", p);
    if (size == 0) { /* glibc: free and return NULL */
        debug_release(p, h);
        return NULL;
    }
    void *q = debug_alloc(size, 0, CALL_REALLOC);
    if (q) {
        memcpy(q, p, h->size < size ? h->size : size);
        debug_release(p, h);
    }
    return q;
}

size_t pgc__debug_usable_size(const void *p) {
    if (!p)
        return 0;
    if (pass_through(p)) {
        pgc__debug_inside = 1;
        size_t n = pgc_usable_size(p);
        pgc__debug_inside = 0;
        return n;
    }
    return check_live("malloc_usable_size()", p)->size;
}

/* ---- exit and fork ------------------------------------------------------------ */

void pgc__debug_at_exit(void) {
    if (pgc__debug_on != 1)
        return;
    pthread_mutex_lock(&quarantine_lock);
    for (size_t i = 0; i < q_count; i++) {
        const entry *e = &quarantine[(q_first + i) % (QUARANTINE_BLOCKS + 1)];
        check_dead(e->p, e->size);
    }
    pthread_mutex_unlock(&quarantine_lock);

    uint64_t blocks = 0, bytes = 0;
    for (unsigned c = 1; c < NCLASSES; c++) {
        bytes += atomic_load_explicit(&live_bytes[c], memory_order_relaxed);
        for (unsigned k = 0; k < NCALLS; k++)
            blocks += atomic_load_explicit(&live_blocks[c][k], memory_order_relaxed);
    }
    if (!blocks)
        return;
    pgc__message("poolgc: leak summary: %llu blocks still in use at exit (%llu bytes)",
                 (unsigned long long)blocks, (unsigned long long)bytes);
    for (unsigned c = 1; c < NCLASSES; c++) {
        char calls[128];
        size_t len = 0;
        uint64_t n = 0;
        for (unsigned k = 0; k < NCALLS; k++) {
            uint64_t m = atomic_load_explicit(&live_blocks[c][k], memory_order_relaxed);
            if (!m)
                continue;
            n += m;
            int w = snprintf(calls + len, sizeof calls - len, "%s%llu from %s", len ? ", " : "",
                             (unsigned long long)m, call_names[k]);
            if (w > 0 && (size_t)w < sizeof calls - len)
                len += (size_t)w;
        }
        if (!n)
            continue;
        size_t lo, hi;
        class_range(c, &lo, &hi);
        pgc__message("poolgc: leak summary: %zu..%zu bytes: %llu in use (%llu bytes): %s", lo, hi,
                     (unsigned long long)n,
                     (unsigned long long)atomic_load_explicit(&live_bytes[c], memory_order_relaxed),
                     calls);
    }
}

void pgc__debug_fork_prepare(void) {
    pthread_mutex_lock(&quarantine_lock);
}

void pgc__debug_fork_parent(void) {
    pthread_mutex_unlock(&quarantine_lock);
}

void pgc__debug_fork_child(void) {
    pthread_mutex_init(&quarantine_lock, NULL);
}
