/*
 * alloc_model - a model-based fuzzer of the allocation entry points.
 *
 * The rule: under any sequence of malloc, calloc, realloc, reallocarray,
 * posix_memalign, aligned_alloc, memalign, valloc, pvalloc, C++ new and
 * delete, free, free_sized, free_aligned_sized and the pgc_* names, at sizes
 * of every tier (small pools: 0..512 bytes; medium pools: to 64 KiB; jemalloc:
 * to 4 MiB; with aslimit=1 under an address-space limit, where jemalloc's
 * big blocks grow in place) and alignments of 1
 * to 64 KiB, every block
 *   - is aligned as asked, and to 16 at least (valloc, pvalloc: a page),
 *   - has malloc_usable_size() >= its size, the same all its life, and
 *     pgc_usable_size() says the same,
 *   - comes zeroed from calloc,
 *   - keeps what was written to it until released: a pattern from a seed of
 *     its own (fuzz.h), over its size or, for one block in four, over its
 *     whole usable size; realloc, up or down and across tiers, keeps the
 *     common prefix; a block freed by another thread arrives intact;
 * and the calls that must fail (sizes that overflow or cannot fit, bad
 * alignments) return NULL or the error with errno set, leaving the block
 * they were given as it was. pgc_check() finds every structure sound at the
 * quiet points between rounds.
 *
 * The model: each thread holds its live blocks (address, size, pattern seed,
 * family), checks a block's whole pattern before every release or realloc,
 * and every block at every 8th round and at the end. Threads run in rounds of
 * ROUND_OPS operations; at the end of a round, thread t receives the blocks
 * thread t-1 handed over during it, so frees are remote while the thread that
 * allocated them goes on allocating; every EPOCH_ROUNDS rounds the threads
 * exit and new ones take over their blocks (heaps of dead threads). The
 * operations a thread runs depend on the seed, its index and the blocks it
 * receives, and so on the arguments alone: a failure prints them with the
 * thread and the index of the operation, and reruns the same way.
 *
 * usage: alloc_model [seed=N] [ops=N] [threads=N] [aslimit=1] [plant=N]
 * plant=N corrupts one byte of a live block at thread 0's operation N, which
 * the model must report (tests/fuzz/plant.sh). Built with -DPGC_LIBFUZZER
 * (make fuzz), one thread runs the choices an input's bytes make.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "poolgc.h"
#include "fuzz.h"

/* C23; glibc 2.36's headers do not declare them (poolgc exports them). */
void free_sized(void *p, size_t size);
void free_aligned_sized(void *p, size_t alignment, size_t size);

/* The C++ operators, by their mangled names (poolgc exports them; a C program
 * reaches them so): std::align_val_t passes as a size_t, a reference to
 * std::nothrow_t as a pointer. */
void *_Znwm(size_t);                                 /* new(size) */
void *_Znam(size_t);                                 /* new[](size) */
void *_ZnwmRKSt9nothrow_t(size_t, const void *);     /* new(size, nothrow) */
void *_ZnwmSt11align_val_t(size_t, size_t);          /* new(size, align) */
void *_ZnamSt11align_val_t(size_t, size_t);          /* new[](size, align) */
void _ZdlPv(void *);                                 /* delete(p) */
void _ZdaPv(void *);                                 /* delete[](p) */
void _ZdlPvm(void *, size_t);                        /* delete(p, size) */
void _ZdaPvm(void *, size_t);                        /* delete[](p, size) */
void _ZdlPvSt11align_val_t(void *, size_t);          /* delete(p, align) */
void _ZdaPvSt11align_val_t(void *, size_t);          /* delete[](p, align) */
void _ZdlPvmSt11align_val_t(void *, size_t, size_t); /* delete(p, size, align) */
void _ZdaPvmSt11align_val_t(void *, size_t, size_t); /* delete[](p, size, align) */

#define PROG "alloc_model"
#define MAX_THREADS 16
#define MAX_LIVE 512 /* blocks a thread holds at most */
#define MAX_OUT 64   /* blocks a thread hands over in one round at most */
#define ROUND_OPS 128
#define EPOCH_ROUNDS 16
#define CHECK_ROUNDS 8                    /* every block checked, pgc_check() */
#define LIVE_BYTES_MAX ((size_t)24 << 20) /* usable bytes a thread holds at most */
#define PAGE 4096                         /* valloc's and pvalloc's alignment */
#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

/* How a block must be released (beyond free, which releases them all). */
enum family {
    F_PLAIN,         /* malloc, calloc, realloc: free_sized(p, size) too */
    F_MEMALIGN,      /* posix_memalign, memalign, valloc, pvalloc: free only */
    F_ALIGNED_ALLOC, /* aligned_alloc: free_aligned_sized(p, align, size) too */
    F_NEW,           /* new: delete, sized delete */
    F_NEW_ARRAY,     /* new[]: delete[], sized delete[] */
    F_NEW_ALIGNED,   /* new(align): delete(align), sized delete(align) */
    F_NEW_ARRAY_ALIGNED,
};

typedef struct block {
    unsigned char *p;
    size_t size;   /* as asked: free_sized's */
    size_t len;    /* bytes holding the pattern: size, or the usable size */
    size_t usable; /* malloc_usable_size at allocation */
    size_t align;  /* as asked (families F_MEMALIGN and up), else 0 */
    uint64_t seed; /* of the pattern */
    int family;
    int from_thread; /* which thread allocated it, at which operation */
    long from_op;
} block;

typedef struct worker {
    int index;
    fuzz_rng r;
    long op, ops;     /* the current operation's index; how many to run */
    const char *what; /* the current operation, for messages */
    block live[MAX_LIVE];
    int nlive;
    size_t live_bytes;  /* usable bytes of live[] */
    block out[MAX_OUT]; /* handed over this round, to thread index + 1 */
    int nout;
    long allocs, reallocs, releases, received, failing_calls; /* for the summary */
} worker;

static worker workers[MAX_THREADS];
static int nthreads = 1;
static long plant_op = -1; /* plant=: the operation of thread 0 that corrupts */
static pthread_barrier_t barrier;
static pthread_mutex_t check_lock = PTHREAD_MUTEX_INITIALIZER;

#define FAIL(w, ...) fuzz_fail(PROG, (w)->index, (w)->op, (w)->what, __VA_ARGS__)

/* ---- choices -------------------------------------------------------------- */

/* Sizes where something changes: size classes, tiers, pages, jemalloc's
 * classes, the huge threshold. */
static const size_t edge_sizes[] = {
    0,     1,       7,    8,       15,      16,          17,           31,      32,    33,    48,
    63,    64,      65,   127,     128,     129,         255,          256,     257,   383,   384,
    385,   447,     448,  449,     511,     512,         513,          1023,    1024,  1025,  4095,
    4096,  4097,    8192, 14335,   14336,   14337,       16383,        16384,   16385, 65535, 65536,
    65537, MiB - 1, MiB,  MiB + 1, 2 * MiB, 2 * MiB + 1, 3 * MiB + 17, 4 * MiB,
};
#define EDGE_SIZES (sizeof edge_sizes / sizeof *edge_sizes)

/* A size of any tier, small ones the most often. */
static size_t pick_size(fuzz_rng *r) {
    unsigned k = (unsigned)fuzz_below(r, 100);
    if (k < 50)
        return (size_t)fuzz_below(r, 513); /* pools */
    if (k < 62)
        return edge_sizes[fuzz_below(r, EDGE_SIZES)];
    if (k < 90)
        return 513 + (size_t)fuzz_below(r, 64 * KiB - 512);
    if (k < 98)
        return 64 * KiB + (size_t)fuzz_below(r, MiB - 64 * KiB);
    return MiB + (size_t)fuzz_below(r, 3 * MiB);
}

/* A size near `size` (same class, the next one, double, half), or any. */
static size_t pick_resize(fuzz_rng *r, size_t size) {
    switch (fuzz_below(r, 5)) {
    case 0:
        return size + (size_t)fuzz_below(r, 33);
    case 1:
        return size > 32 ? size - (size_t)fuzz_below(r, 33) : size;
    case 2:
        return size < 2 * MiB ? 2 * size + 1 : size;
    case 3:
        return size / 2;
    default:
        return pick_size(r);
    }
}

/* A power of two from 16 to 64 KiB (8 sometimes). */
static size_t pick_pow2_align(fuzz_rng *r) {
    return fuzz_one_in(r, 16) ? 8 : (size_t)16 << fuzz_below(r, 13);
}

/* Any alignment aligned_alloc and memalign take: also 0, 1 and values that
 * are not powers of two (rounded up). */
static size_t pick_any_align(fuzz_rng *r) {
    switch (fuzz_below(r, 8)) {
    case 0:
        return (size_t)fuzz_below(r, 3);
    case 1:
        return 1 + (size_t)fuzz_below(r, 5000);
    default:
        return pick_pow2_align(r);
    }
}

static size_t pow2_ceil(size_t n) {
    size_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

/* nmemb and size for calloc and reallocarray with nmemb * size == *total
 * (which may be rounded down to make it so). */
static void pick_split(fuzz_rng *r, size_t *total, size_t *nmemb, size_t *size) {
    size_t m = 1 + (size_t)fuzz_below(r, 16);
    if (*total == 0) {
        *nmemb = fuzz_one_in(r, 2) ? 0 : m;
        *size = *nmemb ? 0 : m;
        return;
    }
    if (m > *total)
        m = 1;
    *nmemb = m;
    *size = *total / m;
    *total = *nmemb * *size;
}

/* ---- the model's bookkeeping ----------------------------------------------- */

static void check_block(worker *w, const block *b, const char *when) {
    size_t bad = fuzz_check(b->p, 0, b->len, b->seed);
    if (bad != b->len)
        FAIL(w,
             "%s: block %p (size %zu, pattern over %zu, from thread %d op %ld) differs at byte "
             "%zu: %#x, want %#x",
             when, (void *)b->p, b->size, b->len, b->from_thread, b->from_op, bad, b->p[bad],
             fuzz_byte(b->seed, bad));
}

static void add_live(worker *w, const block *b) {
    w->live[w->nlive++] = *b;
    w->live_bytes += b->usable;
}

/* Take live[i] out of the live set. */
static block take_live(worker *w, int i) {
    block b = w->live[i];
    w->live[i] = w->live[--w->nlive];
    w->live_bytes -= b.usable;
    return b;
}

/* ---- operations ------------------------------------------------------------ */

/* Allocate through one entry point, at a size of any tier. */
static void op_alloc(worker *w) {
    fuzz_rng *r = &w->r;
    static const char *const names[] = {
        "malloc",
        "pgc_malloc",
        "calloc",
        "pgc_calloc",
        "realloc(NULL)",
        "pgc_realloc(NULL)",
        "reallocarray(NULL)",
        "posix_memalign",
        "pgc_posix_memalign",
        "aligned_alloc",
        "pgc_aligned_alloc",
        "memalign",
        "valloc",
        "pvalloc",
        "new",
        "new[]",
        "new(nothrow)",
        "new(align)",
        "new[](align)",
    };
    int e = (int)fuzz_below(r, sizeof names / sizeof *names);
    block b = {
        .size = pick_size(r), .seed = fuzz_bits(r), .from_thread = w->index, .from_op = w->op};
    size_t want_align = 16, min_usable, nmemb, each;
    int zeroed = 0, rc = 0;
    void *p = NULL;
    w->what = names[e];
    while (w->nlive > 0 && w->live_bytes + b.size > LIVE_BYTES_MAX) {
        block old = take_live(w, (int)fuzz_below(r, (uint64_t)w->nlive));
        check_block(w, &old, "before making room");
        free(old.p);
    }
    switch (e) {
    case 0:
        p = malloc(b.size);
        break;
    case 1:
        p = pgc_malloc(b.size);
        break;
    case 2:
    case 3:
        pick_split(r, &b.size, &nmemb, &each);
        p = e == 2 ? calloc(nmemb, each) : pgc_calloc(nmemb, each);
        zeroed = 1;
        break;
    case 4:
        p = realloc(NULL, b.size);
        break;
    case 5:
        p = pgc_realloc(NULL, b.size);
        break;
    case 6:
        pick_split(r, &b.size, &nmemb, &each);
        p = reallocarray(NULL, nmemb, each);
        break;
    case 7:
    case 8:
        b.align = pick_pow2_align(r);
        rc = e == 7 ? posix_memalign(&p, b.align, b.size) : pgc_posix_memalign(&p, b.align, b.size);
        if (rc)
            FAIL(w, "posix_memalign(%zu, %zu) = %d", b.align, b.size, rc);
        b.family = F_MEMALIGN;
        break;
    case 9:
    case 10:
    case 11:
        b.align = pick_any_align(r);
        p = e == 9    ? aligned_alloc(b.align, b.size)
            : e == 10 ? pgc_aligned_alloc(b.align, b.size)
                      : memalign(b.align, b.size);
        b.family = e == 11 ? F_MEMALIGN : F_ALIGNED_ALLOC;
        break;
    case 12:
    case 13:
        b.align = PAGE;
        p = e == 12 ? valloc(b.size) : pvalloc(b.size);
        b.family = F_MEMALIGN;
        break;
    case 14:
        p = _Znwm(b.size);
        b.family = F_NEW;
        break;
    case 15:
        p = _Znam(b.size);
        b.family = F_NEW_ARRAY;
        break;
    case 16: {
        static const char nothrow; /* stands for std::nothrow, never read */
        p = _ZnwmRKSt9nothrow_t(b.size, &nothrow);
        b.family = F_NEW;
        break;
    }
    default:
        b.align = (size_t)16 << fuzz_below(r, 13);
        p = e == 17 ? _ZnwmSt11align_val_t(b.size, b.align) : _ZnamSt11align_val_t(b.size, b.align);
        b.family = e == 17 ? F_NEW_ALIGNED : F_NEW_ARRAY_ALIGNED;
        break;
    }
    if (!p)
        FAIL(w, "%s(size %zu, alignment %zu) returned NULL (errno %d)", names[e], b.size, b.align,
             errno);
    b.p = p;
    if (b.align > want_align)
        want_align = pow2_ceil(b.align);
    if ((uintptr_t)p % want_align)
        FAIL(w, "%s(size %zu, alignment %zu) = %p, not %zu-aligned", names[e], b.size, b.align, p,
             want_align);
    min_usable = b.size;
    if (e == 13) /* pvalloc: whole pages, one at least */
        min_usable = b.size ? (b.size + PAGE - 1) / PAGE * PAGE : PAGE;
    b.usable = malloc_usable_size(p);
    if (b.usable < min_usable || pgc_usable_size(p) != b.usable)
        FAIL(w,
             "%s(size %zu, alignment %zu) = %p: usable size %zu (pgc_usable_size %zu), want "
             ">= %zu",
             names[e], b.size, b.align, p, b.usable, pgc_usable_size(p), min_usable);
    size_t nonzero = zeroed ? fuzz_check_zero(b.p, b.size) : b.size;
    if (nonzero != b.size)
        FAIL(w, "%s(size %zu) = %p: byte %zu is %#x, not 0", names[e], b.size, p, nonzero,
             b.p[nonzero]);
    b.len = fuzz_one_in(r, 4) ? b.usable : b.size;
    fuzz_fill(b.p, 0, b.len, b.seed);
    add_live(w, &b);
    w->allocs++;
}

/* Release a block through one of the calls its family allows. */
static void release(worker *w, block *b) {
    fuzz_rng *r = &w->r;
    int how = (int)fuzz_below(r, 5);
    static const char *const common[] = {"free", "pgc_free", "realloc(p, 0)", "pgc_realloc(p, 0)"};
    check_block(w, b, "before release");
    w->releases++;
    if (how < 4) {
        w->what = common[how];
        if (how == 0)
            free(b->p);
        else if (how == 1)
            pgc_free(b->p);
        else if ((how == 2 ? realloc(b->p, 0) : pgc_realloc(b->p, 0)) != NULL)
            FAIL(w, "%s did not return NULL", common[how]);
        return;
    }
    switch (b->family) { /* the family's own */
    case F_PLAIN:
        w->what = "free_sized";
        free_sized(b->p, b->size);
        break;
    case F_MEMALIGN:
        w->what = "free";
        free(b->p);
        break;
    case F_ALIGNED_ALLOC:
        w->what = "free_aligned_sized";
        free_aligned_sized(b->p, b->align, b->size);
        break;
    case F_NEW:
        w->what = "delete";
        if (fuzz_one_in(r, 2))
            _ZdlPv(b->p);
        else
            _ZdlPvm(b->p, b->size);
        break;
    case F_NEW_ARRAY:
        w->what = "delete[]";
        if (fuzz_one_in(r, 2))
            _ZdaPv(b->p);
        else
            _ZdaPvm(b->p, b->size);
        break;
    case F_NEW_ALIGNED:
        w->what = "delete(align)";
        if (fuzz_one_in(r, 2))
            _ZdlPvSt11align_val_t(b->p, b->align);
        else
            _ZdlPvmSt11align_val_t(b->p, b->size, b->align);
        break;
    default:
        w->what = "delete[](align)";
        if (fuzz_one_in(r, 2))
            _ZdaPvSt11align_val_t(b->p, b->align);
        else
            _ZdaPvmSt11align_val_t(b->p, b->size, b->align);
        break;
    }
}

static void op_release(worker *w) {
    block b = take_live(w, (int)fuzz_below(&w->r, (uint64_t)w->nlive));
    release(w, &b);
}

/* realloc to a size near the old one or of another tier: the common prefix
 * stays, the block becomes a plain one. */
static void op_realloc(worker *w) {
    fuzz_rng *r = &w->r;
    int i = (int)fuzz_below(r, (uint64_t)w->nlive), how = (int)fuzz_below(r, 3);
    block *b = &w->live[i];
    size_t size = pick_resize(r, b->size), nmemb = 1, each = size;
    static const char *const names[] = {"realloc", "pgc_realloc", "reallocarray"};
    w->what = names[how];
    if (size == 0)
        size = 1; /* realloc(p, 0) frees: that is op_release's */
    if (size > b->usable && w->live_bytes + size > LIVE_BYTES_MAX) {
        op_release(w);
        return;
    }
    check_block(w, b, "before realloc");
    if (how == 2)
        pick_split(r, &size, &nmemb, &each);
    unsigned char *q = how == 0   ? realloc(b->p, size)
                       : how == 1 ? pgc_realloc(b->p, size)
                                  : reallocarray(b->p, nmemb, each);
    if (!q)
        FAIL(w, "%s(%p of size %zu, %zu) returned NULL (errno %d)", names[how], (void *)b->p,
             b->size, size, errno);
    if ((uintptr_t)q % 16)
        FAIL(w, "%s(%p of size %zu, usable %zu, from thread %d op %ld, %zu) = %p, not 16-aligned",
             names[how], (void *)b->p, b->size, b->usable, b->from_thread, b->from_op, size,
             (void *)q);
    size_t keep = b->len < size ? b->len : size;
    size_t bad = fuzz_check(q, 0, keep, b->seed);
    if (bad != keep)
        FAIL(w,
             "%s(%p of size %zu, pattern over %zu, %zu) = %p lost byte %zu of the %zu kept "
             "(from thread %d op %ld)",
             names[how], (void *)b->p, b->size, b->len, size, (void *)q, bad, keep, b->from_thread,
             b->from_op);
    size_t usable = malloc_usable_size(q);
    if (usable < size || pgc_usable_size(q) != usable)
        FAIL(w, "%s(.., %zu) = %p: usable size %zu (pgc_usable_size %zu)", names[how], size,
             (void *)q, usable, pgc_usable_size(q));
    w->live_bytes += usable - b->usable;
    b->p = q;
    b->size = size;
    b->usable = usable;
    b->len = fuzz_one_in(r, 4) ? usable : size;
    b->align = 0;
    b->family = F_PLAIN;
    fuzz_fill(q, keep, b->len, b->seed);
    w->reallocs++;
}

/* Check a block and write a new pattern over it. */
static void op_write(worker *w) {
    block *b = &w->live[fuzz_below(&w->r, (uint64_t)w->nlive)];
    w->what = "write";
    check_block(w, b, "before rewriting");
    b->seed = fuzz_bits(&w->r);
    fuzz_fill(b->p, 0, b->len, b->seed);
}

/* A block's usable size does not change in its life. */
static void op_usable(worker *w) {
    block *b = &w->live[fuzz_below(&w->r, (uint64_t)w->nlive)];
    w->what = "malloc_usable_size";
    size_t u = malloc_usable_size(b->p), pu = pgc_usable_size(b->p);
    if (u != b->usable || pu != u)
        FAIL(w,
             "block %p (size %zu, from thread %d op %ld): usable size %zu (pgc_usable_size %zu), "
             "was %zu",
             (void *)b->p, b->size, b->from_thread, b->from_op, u, pu, b->usable);
}

/* Hand a block to the next thread (itself, alone), at the end of the round. */
static void op_hand(worker *w) {
    w->what = "hand over";
    if (w->nout < MAX_OUT)
        w->out[w->nout++] = take_live(w, (int)fuzz_below(&w->r, (uint64_t)w->nlive));
}

/* Calls that must fail: NULL or the error, errno set, the block untouched. */
static void op_fail(worker *w) {
    fuzz_rng *r = &w->r;
    block *b = &w->live[fuzz_below(r, (uint64_t)w->nlive)];
    volatile size_t huge = SIZE_MAX - (size_t)fuzz_below(r, 1 << 16); /* no folding */
    void *p = b, *q = NULL;
    int rc = 0;
    errno = 0;
    w->failing_calls++;
    switch (fuzz_below(r, 7)) {
    case 0:
        w->what = "malloc(too much)";
        q = malloc(huge);
        break;
    case 1:
        w->what = "calloc(overflowing)";
        q = calloc(huge / 2 + 2, 2);
        break;
    case 2:
        w->what = "realloc(p, too much)";
        q = realloc(b->p, huge);
        break;
    case 3:
        w->what = "reallocarray(p, overflowing)";
        q = reallocarray(b->p, huge / 3 + 2, 3);
        break;
    case 4:
        w->what = "aligned_alloc(too much)";
        q = aligned_alloc(64, huge);
        break;
    case 5:
        w->what = "posix_memalign(bad alignment)";
        rc = posix_memalign(&p, fuzz_one_in(r, 2) ? 0 : 8 * (3 + 2 * fuzz_below(r, 100)), 16);
        if (rc != EINVAL || p != b)
            FAIL(w, "returned %d, want EINVAL (%d); memptr %s", rc, EINVAL,
                 p != b ? "changed" : "untouched");
        return;
    default:
        w->what = "posix_memalign(too much)";
        rc = pgc_posix_memalign(&p, 4096, huge);
        if (rc != ENOMEM || p != b)
            FAIL(w, "returned %d, want ENOMEM (%d); memptr %s", rc, ENOMEM,
                 p != b ? "changed" : "untouched");
        return;
    }
    if (q || errno != ENOMEM)
        FAIL(w, "returned %p with errno %d, want NULL with ENOMEM (%d)", q, errno, ENOMEM);
    check_block(w, b, "after the failed call");
}

static void op_trim(worker *w) {
    w->what = "malloc_trim";
    if (fuzz_one_in(&w->r, 2))
        malloc_trim(0);
    else
        pgc_trim((size_t)fuzz_below(&w->r, 1 << 20));
}

/* Thread 0's operation plant=N: flip one bit of a live block behind the
 * model's back, to show the model notices. */
static void plant(worker *w) {
    for (int i = 0; i < w->nlive; i++)
        if (w->live[i].len) {
            block *b = &w->live[i];
            size_t at = (size_t)fuzz_below(&w->r, b->len);
            b->p[at] ^= 0x10;
            fprintf(stderr, PROG ": planted: byte %zu of block %p flipped at op %ld\n", at,
                    (void *)b->p, w->op);
            return;
        }
}

/* One operation, by weight. */
static void step(worker *w) {
    static const struct {
        int weight;
        void (*run)(worker *);
    } ops[] = {
        {300, op_alloc}, {240, op_release}, {170, op_realloc}, {40, op_write},
        {60, op_usable}, {120, op_hand},    {8, op_fail},      {1, op_trim},
    };
    if (w->index == 0 && w->op == plant_op)
        plant(w);
    if (w->nlive == 0) {
        op_alloc(w);
        return;
    }
    if (w->nlive == MAX_LIVE) {
        op_release(w);
        return;
    }
    int total = 0, k = 0;
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        total += ops[i].weight;
    int pick = (int)fuzz_below(&w->r, (uint64_t)total);
    while (pick >= ops[k].weight)
        pick -= ops[k++].weight;
    ops[k].run(w);
}

/* Check every block the thread holds. */
static void check_all(worker *w, const char *when) {
    w->what = when;
    for (int i = 0; i < w->nlive; i++)
        check_block(w, &w->live[i], when);
}

/* Take what thread index - 1 handed over (its out[] is still until the next
 * round): check it, keep it if there is room, else free it here. */
static void receive(worker *w, worker *from) {
    w->what = "receive";
    for (int i = 0; i < from->nout; i++) {
        block *b = &from->out[i];
        check_block(w, b, "received from another thread");
        w->received++;
        if (w->nlive < MAX_LIVE && w->live_bytes + b->usable <= LIVE_BYTES_MAX)
            add_live(w, b);
        else
            release(w, b);
    }
    from->nout = 0;
}

/* ---- threads ----------------------------------------------------------------- */

static long rounds_total, epoch_first_round;

/* The end of a round, every thread together: a check every CHECK_ROUNDS
 * rounds (each thread's blocks, then pgc_check() one thread at a time while
 * no one allocates), then each thread takes what the previous one handed over. */
static void end_round(worker *w, long round) {
    pthread_barrier_wait(&barrier);
    if (round % CHECK_ROUNDS == CHECK_ROUNDS - 1) {
        check_all(w, "round check");
        pthread_mutex_lock(&check_lock);
        pgc_check();
        pthread_mutex_unlock(&check_lock);
        pthread_barrier_wait(&barrier);
    }
    receive(w, &workers[(w->index + nthreads - 1) % nthreads]);
    pthread_barrier_wait(&barrier);
}

static void *run_epoch(void *arg) {
    worker *w = arg;
    for (long round = epoch_first_round;
         round < rounds_total && round < epoch_first_round + EPOCH_ROUNDS; round++) {
        for (int k = 0; k < ROUND_OPS && w->op < w->ops; k++, w->op++)
            step(w);
        end_round(w, round);
    }
    return NULL;
}

/* Set an address-space limit well above what the process uses, so that
 * big blocks take the paths poolgc uses under a limit (jemalloc's blocks
 * placed with room to grow in place: lib/large.c, lib/os.c). */
static void set_as_limit(void) {
    unsigned long long vm_kib = 0;
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %llu kB", &vm_kib) == 1)
            break;
    if (f)
        fclose(f);
    struct rlimit lim;
    getrlimit(RLIMIT_AS, &lim);
    lim.rlim_cur = (rlim_t)(vm_kib * 1024 + ((unsigned long long)16 << 30));
    if (lim.rlim_max != RLIM_INFINITY && lim.rlim_cur > lim.rlim_max)
        lim.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_AS, &lim) != 0) {
        perror(PROG ": setrlimit(RLIMIT_AS)");
        exit(2);
    }
}

#ifndef PGC_LIBFUZZER
int main(int argc, char **argv) {
    fuzz_arg args[] = {
        {"seed", 1, "the PRNG's seed: the run is a function of the arguments"},
        {"ops", 20000, "operations in all, shared among the threads"},
        {"threads", 3, "threads handing blocks to each other (1 to 16)"},
        {"aslimit", 0, "1: run under RLIMIT_AS, blocks of 1 MiB and more then huge ones"},
        {"plant", 0, "N > 0: corrupt a block at thread 0's op N (the model must fail)"},
    };
    fuzz_parse(PROG, argc, argv, args, sizeof args / sizeof *args);
    nthreads = (int)args[2].value;
    if (nthreads < 1 || nthreads > MAX_THREADS) {
        fprintf(stderr, PROG ": threads=%d: 1 to %d\n", nthreads, MAX_THREADS);
        return 2;
    }
    if (args[3].value)
        set_as_limit();
    long per_thread = (long)(args[1].value / (unsigned long long)nthreads);
    plant_op = args[4].value ? (long)args[4].value : -1;
    if (plant_op >= per_thread) {
        fprintf(stderr, PROG ": plant=%ld: thread 0 runs operations 0 to %ld\n", plant_op,
                per_thread - 1);
        return 2;
    }
    rounds_total = (per_thread + ROUND_OPS - 1) / ROUND_OPS;
    for (int t = 0; t < nthreads; t++) {
        workers[t].index = t;
        workers[t].ops = per_thread;
        workers[t].r.state = args[0].value * 0x100000001B3ull + (uint64_t)t;
    }

    pthread_barrier_init(&barrier, NULL, (unsigned)nthreads);
    for (epoch_first_round = 0; epoch_first_round < rounds_total;
         epoch_first_round += EPOCH_ROUNDS) {
        pthread_t tid[MAX_THREADS];
        for (int t = 0; t < nthreads; t++)
            if (pthread_create(&tid[t], NULL, run_epoch, &workers[t]) != 0) {
                perror(PROG ": pthread_create");
                return 2;
            }
        for (int t = 0; t < nthreads; t++)
            pthread_join(tid[t], NULL);
    }
    pthread_barrier_destroy(&barrier);

    /* The end, here on the main thread: the blocks of threads that exited. */
    for (int t = 0; t < nthreads; t++) {
        worker *w = &workers[t];
        check_all(w, "final check");
        w->what = "final release";
        while (w->nlive)
            op_release(w);
        receive(w, &workers[(t + nthreads - 1) % nthreads]);
    }
    pgc_check();
    long allocs = 0, reallocs = 0, releases = 0, received = 0, failing = 0;
    for (int t = 0; t < nthreads; t++) {
        allocs += workers[t].allocs;
        reallocs += workers[t].reallocs;
        releases += workers[t].releases;
        received += workers[t].received;
        failing += workers[t].failing_calls;
    }
    printf("%s: %ld allocations, %ld reallocs, %ld releases, %ld blocks handed to another "
           "thread, %ld calls that must fail\n",
           fuzz_command, allocs, reallocs, releases, received, failing);
    return 0;
}
#else
/* One thread, its choices read from the input; every block released at the
 * end, so that inputs do not depend on each other. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int started;
    worker *w = &workers[0];
    if (!started) {
        started = 1;
        pthread_barrier_init(&barrier, NULL, 1);
        snprintf(fuzz_command, sizeof fuzz_command, "%s", "(libFuzzer input)");
    }
    memset(w, 0, sizeof *w);
    w->r = (fuzz_rng){.state = 1, .data = data, .size = size};
    w->ops = 100000;
    for (long round = 0; !fuzz_exhausted(&w->r); round++) {
        for (int k = 0; k < ROUND_OPS && !fuzz_exhausted(&w->r); k++, w->op++)
            step(w);
        end_round(w, round);
    }
    check_all(w, "final check");
    w->what = "final release";
    while (w->nlive)
        op_release(w);
    receive(w, w);
    pgc_check();
    return 0;
}
#endif
