/*
 * internal.h - the data structures every part of poolgc shares.
 *
 * Requests with an alignment up to PGC_ALIGNMENT are served from pools, the
 * way CPython's pymalloc does it, but with one set of pools per thread
 * (numbers: the constants below, on 64-bit Linux), in two tiers of size
 * classes that share everything else (heaps, arenas, pools, remote frees):
 *
 *   small   1 .. PGC_SMALL_MAX        pymalloc's: PGC_SMALL_CLASSES classes,
 *                                     one every PGC_ALIGNMENT bytes
 *   medium  PGC_SMALL_MAX + 1 ..      PGC_MEDIUM_CLASSES classes spaced by the
 *           PGC_MEDIUM_LIMIT          blocks a pool holds (PGC_MEDIUM_BLOCKS),
 *                                     off with POOLGC_MEDIUM_MAX=0
 *
 *   region (reserved, PROT_NONE until used; grows and shrinks at its end)
 *   +-----------+-----------+-----------+----  ...  ----+
 *   | arena 0   | arena 1   | arena 2   |               |  PGC_ARENA_SIZE each
 *   +-----------+-----------+-----------+----  ...  ----+
 *        |
 *        v  PGC_SLOTS_PER_ARENA slots of PGC_POOL_SIZE, each aligned to it
 *   +---------+--------+--------+-- ... --+
 *   | headers | pool 1 | pool 2 |         |   slot 0: a header per slot,
 *   +---------+--------+--------+-- ... --+   PGC_POOL_HEADER_SIZE each, side
 *                                             by side
 *                  |
 *                  v  one size class per pool, blocks only
 *   +-------+-------+-------+-- ... --+
 *   | block | block | block |         |   small: 32 .. 1024 blocks
 *   +-------+-------+-------+-- ... --+   medium: 113 .. 2
 *
 * An arena holds pools of one width: small pools of one slot each
 * (PGC_POOLS_PER_ARENA of them), or medium pools of w = PGC_WIDE_SLOTS or
 * PGC_WIDER_SLOTS slots, which start at the slots that are multiples of w
 * (PGC_WIDE_POOLS_PER_ARENA, PGC_WIDER_POOLS_PER_ARENA; slots 1 .. w - 1
 * stay unused). A wide pool's header is its first slot's; the headers of
 * its other slots, its followers, have no owner and name it as their lead.
 *
 * Pool headers live together at the start of their arena, not at the start
 * of their pool as in pymalloc: pool-aligned headers all fall in the same
 * few cache sets, and a program with a few dozen busy pools then missed the
 * L1 cache on every malloc and free (a third slower than mimalloc on a
 * 3000-object churn).
 *
 * - "Is p a pool block?" is one subtraction and one compare against the
 *   region; the header of its slot is found from p's arena and slot
 *   (pgc_slot_pool), and its pool's header is that one's lead (pgc_pool_of),
 *   a load from the line the free fast path then reads the owner from.
 *   (Sending a follower's frees to the slow path instead, on the owner
 *   test, made that branch unpredictable: bench/larson.c, whose blocks up
 *   to 1000 bytes are 3/4 in later slots, 31% slower, bench/medium.c 8-12%;
 *   small pools gained 0-4%.)
 * - A pool belongs to one thread heap at a time (pool->owner). Only the owner
 *   touches pool->free and the list links; other threads return blocks with
 *   an atomic push onto pool->remote.
 * - Arenas and the pools they hand out are shared, under one lock (region.c).
 * - Everything else (sizes above the medium tier, large alignments, requests
 *   when the region is exhausted) goes to jemalloc (large.c).
 */
#ifndef POOLGC_INTERNAL_H
#define POOLGC_INTERNAL_H

#include "config.h" /* PGC_DEBUG_LEVEL */

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "poolgc.h"

#define PGC_API __attribute__((visibility("default")))
#define PGC_INTERNAL __attribute__((visibility("hidden")))
#define pgc_likely(x) __builtin_expect(!!(x), 1)
#define pgc_unlikely(x) __builtin_expect(!!(x), 0)
#define PGC_NOINLINE __attribute__((noinline))
#define PGC_COLD __attribute__((cold, noinline))

/* ---- assertions (./configure --enable-debug) ---------------------------- */

/* PGC_DEBUG_LEVEL 0: none (the default build). 1: cheap assertions on the
 * slow paths. 2: also the structure checkers (pgc__pool_check,
 * pgc__heap_check, pgc__region_check, pgc__collect_check) wherever a slow
 * path changes those structures. A failed assertion prints one line naming
 * it, its file and line, through message.c, then aborts. */
#ifndef PGC_DEBUG_LEVEL
#define PGC_DEBUG_LEVEL 0
#endif
PGC_INTERNAL void pgc__message_assert_fail(const char *what, const char *file, int line)
    __attribute__((noreturn, cold));
/* Always checked: the structure checkers use it. */
#define pgc_verify(cond)                                                                           \
    (pgc_likely(cond) ? (void)0 : pgc__message_assert_fail(#cond, __FILE__, __LINE__))
#define pgc_assert(cond) ((void)(PGC_DEBUG_LEVEL >= 1 ? pgc_verify(cond) : (void)0))
/* Run a structure checker at debug level 2. */
#define pgc_debug_check(call)                                                                      \
    do {                                                                                           \
        if (PGC_DEBUG_LEVEL >= 2)                                                                  \
            call;                                                                                  \
    } while (0)

/* ---- sizes, all derived from these -------------------------------------- */

#define PGC_ALIGNMENT_SHIFT 4
#define PGC_ALIGNMENT (1u << PGC_ALIGNMENT_SHIFT)         /* 16: glibc's max_align_t */
#define PGC_SMALL_MAX 512                                 /* largest small request: pymalloc's */
#define PGC_SMALL_CLASSES (PGC_SMALL_MAX / PGC_ALIGNMENT) /* 32 classes: 16..512 */

#define PGC_POOL_SHIFT 14
#define PGC_POOL_SIZE ((size_t)1 << PGC_POOL_SHIFT) /* 16 KiB */
#define PGC_ARENA_SHIFT 20
#define PGC_ARENA_SIZE ((size_t)1 << PGC_ARENA_SHIFT)        /* 1 MiB */
#define PGC_SLOTS_PER_ARENA (PGC_ARENA_SIZE / PGC_POOL_SIZE) /* 64 */
#define PGC_POOLS_PER_ARENA (PGC_SLOTS_PER_ARENA - 1)        /* slot 0: headers */
/* Medium pools span PGC_WIDE_SLOTS slots (up to 32 KiB blocks) or
 * PGC_WIDER_SLOTS (larger ones), in arenas of their own width. The widths,
 * small to wider, are 1 << (2 * w) slots for w = 0 .. PGC_POOL_WIDTHS - 1. */
#define PGC_WIDE_SLOTS 4
#define PGC_WIDE_POOL_SIZE (PGC_WIDE_SLOTS * PGC_POOL_SIZE) /* 64 KiB */
#define PGC_WIDE_POOLS_PER_ARENA (PGC_SLOTS_PER_ARENA / PGC_WIDE_SLOTS - 1)
#define PGC_WIDER_SLOTS 16
#define PGC_WIDER_POOL_SIZE (PGC_WIDER_SLOTS * PGC_POOL_SIZE) /* 256 KiB */
#define PGC_WIDER_POOLS_PER_ARENA (PGC_SLOTS_PER_ARENA / PGC_WIDER_SLOTS - 1)
#define PGC_POOL_WIDTHS 3

#define PGC_PAGE_SIZE ((size_t)4096)
#define PGC_HEAP_SPARE_BYTES ((size_t)128 << 10) /* empty pools a heap keeps, in bytes */
#define PGC_THP_DEFAULT 0 /* POOLGC_THP: no huge pages unless asked (region.c) */
/* Default pool region: address space only (PROT_NONE, MAP_NORESERVE) until
 * arenas are carved from it. POOLGC_REGION overrides it. */
#define PGC_REGION_DEFAULT ((size_t)64 << 30)

/* The medium tier: requests above PGC_SMALL_MAX up to PGC_MEDIUM_LIMIT (or
 * the lower POOLGC_MEDIUM_MAX), from wide pools (PGC_WIDE_POOL_SIZE) up to
 * 32 KiB and wider ones (PGC_WIDER_POOL_SIZE) above. A medium class is
 * named here by the blocks one pool of it holds, n; its block size is the
 * largest multiple of PGC_ALIGNMENT that fits n times in a pool
 * (PGC_MEDIUM_SIZE, PGC_MEDIUM_WIDER_SIZE): 576, 640, ... 32768 bytes in
 * wide pools, then 37440 .. 65536 in wider ones.
 *
 * Why wide pools: with 16 KiB pools of 2 to 28 blocks (and a limit of
 * 8 KiB), a pool ran dry or came back on almost every third malloc and
 * free of a medium churn, and a 4.3 KiB block (a database page and its
 * header) took a 5456-byte one. bench/medium.c: 123.4 million instructions
 * then, 94.2 with wide pools; 8-32 KiB requests went to jemalloc, whose
 * extents and thread cache cost 2.6 times as much (bench/medium.c
 * max=32768), and so did 32-64 KiB ones (bench/mixed.c: 94.4 million
 * instructions with them in jemalloc, 74.6 with wider pools; mimalloc
 * 71.7).
 *
 * Waste, internal and tail together: a pool full of the worst request of a
 * class (one byte above the class below) leaves unused at most 1/8 of the
 * pool in every class of n >= 7 blocks (up to 9360 bytes, and 37440), where
 * the lists below are as dense as that needs. A class of fewer blocks
 * cannot do better than 1/(n + 1): 14.3%, 16.7%, 20.0%, 25.0% and 33.4% for
 * the last five of wide pools (10912, 13104, 16384, 21840, 32768 bytes),
 * and 14.3%, 16.7% and 20.0% for the last three of wider ones (43680,
 * 52416, 65536). Powers of two from 1024 up are classes of their own,
 * without waste, and so is 4368 (15 blocks), sqlite3's page of 4096 bytes
 * with its header: bench/sqlite_index.sql peaked at 59.9 MiB with it, 61.7
 * without (glibc 58.0). tests/unit/size_class.c checks all of this. */
#define PGC_MEDIUM_BLOCKS(X)                                                                       \
    X(113), X(102), X(91), X(80), X(71), X(63), X(56), X(50), X(45), X(40), X(36), X(32), X(28),   \
        X(25), X(22), X(20), X(18), X(16), X(15), X(14), X(13), X(12), X(11), X(10), X(9), X(8),   \
        X(7), X(6), X(5), X(4), X(3), X(2)
#define PGC_MEDIUM_WIDER_BLOCKS(X) X(7), X(6), X(5), X(4)
#define PGC_MEDIUM_SIZE(blocks) ((PGC_WIDE_POOL_SIZE / (blocks)) & ~(size_t)(PGC_ALIGNMENT - 1))
#define PGC_MEDIUM_WIDER_SIZE(blocks)                                                              \
    ((PGC_WIDER_POOL_SIZE / (blocks)) & ~(size_t)(PGC_ALIGNMENT - 1))
/* Entries of the two lists (the compiler checks): wide, and all. */
#define PGC_MEDIUM_WIDE_CLASSES 32
#define PGC_MEDIUM_CLASSES 36
/* The largest class, the last of the list: four blocks a wider pool, 64 KiB. */
#define PGC_MEDIUM_LIMIT PGC_MEDIUM_WIDER_SIZE(4)
#define PGC_NUM_CLASSES (PGC_SMALL_CLASSES + PGC_MEDIUM_CLASSES) /* 68: 1..68 */

/* size_class.c: the block size of each medium class (class
 * PGC_SMALL_CLASSES + 1 + i is entry i), and the class of every 16-byte step
 * of sizes up to PGC_MEDIUM_LIMIT (entry (n - 1) >> PGC_ALIGNMENT_SHIFT: the
 * smallest class that holds n bytes), which pgc__size_class_init fills at
 * start-up (pgc__init_ensure), before any heap exists. */
PGC_INTERNAL extern const uint32_t pgc__size_class_medium[PGC_MEDIUM_CLASSES];
PGC_INTERNAL extern uint8_t pgc__size_class_of[PGC_MEDIUM_LIMIT >> PGC_ALIGNMENT_SHIFT];
PGC_INTERNAL void pgc__size_class_init(void);

/* Size class of a request of n <= PGC_SMALL_MAX bytes: 1..32 for block sizes
 * 16..512; malloc(0) maps to index 0, which heaps alias to class 1. In
 * 32 bits: on x86-64 the result then indexes without a zero-extension (one
 * instruction fewer on the malloc fast path). */
static inline unsigned pgc_class_index(size_t n) {
    return ((unsigned)n + PGC_ALIGNMENT - 1) >> PGC_ALIGNMENT_SHIFT;
}
/* Size class of a request of PGC_SMALL_MAX < n <= PGC_MEDIUM_LIMIT bytes:
 * PGC_SMALL_CLASSES + 1 .. PGC_NUM_CLASSES, one load from the table. */
static inline unsigned pgc_medium_class(size_t n) {
    return pgc__size_class_of[(n - 1) >> PGC_ALIGNMENT_SHIFT];
}
/* Size class of any request of n <= PGC_MEDIUM_LIMIT bytes (0: class 1). */
static inline unsigned pgc_size_class(size_t n) {
    if (n <= PGC_SMALL_MAX)
        return n ? pgc_class_index(n) : 1;
    return pgc_medium_class(n);
}
/* Block size of class cls, 0 .. PGC_NUM_CLASSES (class 0: 0 bytes). */
static inline size_t pgc_class_size(unsigned cls) {
    if (cls <= PGC_SMALL_CLASSES)
        return (size_t)cls << PGC_ALIGNMENT_SHIFT;
    return pgc__size_class_medium[cls - PGC_SMALL_CLASSES - 1];
}
/* Slots a pool of class cls spans: 1 for the small tier, PGC_WIDE_SLOTS or
 * PGC_WIDER_SLOTS for the medium tier. */
static inline unsigned pgc_class_slots(unsigned cls) {
    if (cls <= PGC_SMALL_CLASSES)
        return 1;
    return cls <= PGC_SMALL_CLASSES + PGC_MEDIUM_WIDE_CLASSES ? PGC_WIDE_SLOTS : PGC_WIDER_SLOTS;
}
/* The width index (0 .. PGC_POOL_WIDTHS - 1) of pools `slots` wide. */
static inline unsigned pgc_width_index(unsigned slots) {
    return (unsigned)__builtin_ctz(slots) / 2;
}

/* ---- blocks and pools --------------------------------------------------- */

/* A free block. Its second word holds the freed mark while it is on a free
 * list (carving and every free write it), and every path that hands a block
 * out checks it there, then clears it. A block freed twice is on its list
 * twice (the list loops), so the second time it is handed out it has lost
 * the mark: malloc aborts before the block is handed out twice
 * (pgc_pool_take), and an empty pool's blocks are checked for the mark
 * before it leaves its class (pgc__pool_check_empty). The owner's free does
 * not read the block: a block freed long after its last use is cold, and
 * that load would stall the free (5-25% of bench/churn's time, run to run).
 * Blocks are at least 16 bytes. */
typedef struct pgc_block {
    struct pgc_block *next;
    uintptr_t freed_mark;
} pgc_block;

/* The freed mark of the block at p: a value a program does not store by
 * chance in its own block (the bitwise complement of the block's address). */
static inline uintptr_t pgc_freed_mark(const void *p) {
    return ~(uintptr_t)p;
}

struct pgc_heap;

/* Bit 0 of pool->remote: the pool is full and off its owner's lists. The
 * thread whose remote free clears it must hand the pool back to the owner
 * (heap->returned), so full pools need no scan to be found again. */
#define PGC_REMOTE_FULL ((uintptr_t)1)
/* Bits 48 and up of pool->remote: how many blocks its list holds, so that
 * the owner takes them back without walking the list, whose blocks are in
 * the freeing threads' caches (bench/prodcons spent 30% of its time in that
 * walk, one cache miss per block). Below them, the list's first block: the
 * region lies below 2^PGC_REMOTE_COUNT_SHIFT (pgc__region_init), and a pool
 * holds at most 1024 blocks. */
#define PGC_REMOTE_COUNT_SHIFT 48
#define PGC_REMOTE_BLOCKS(word)                                                                    \
    ((pgc_block *)((word) & ((((uintptr_t)1 << PGC_REMOTE_COUNT_SHIFT) - 1) & ~PGC_REMOTE_FULL)))
#define PGC_REMOTE_COUNT(word) ((uint32_t)((word) >> PGC_REMOTE_COUNT_SHIFT))

/* pool->slow_free: the reasons the owner's free of a block of this pool
 * continues on the slow path, after the fast path's push; 0 for most pools.
 * Set and cleared with pgc_pool_slow_set and pgc_pool_slow_clear, which
 * keep PGC_SLOW_FREE_ANY set with any reason: the free fast path tests
 * `used` and slow_free as one signed word (pool->used_slow), negative then. */
#define PGC_SLOW_FREE_UNLISTED 1u     /* full and off the heap's class list */
#define PGC_SLOW_FREE_PROF 4u         /* POOLGC_PROF counts frees into it (prof.c) */
#define PGC_SLOW_FREE_ANY 0x80000000u /* with any reason: used_slow's sign bit */

/*
 * The states of a pool, and what moves it between them:
 *
 *   never carved   past its arena's next_carve; its header is garbage
 *        | region.c hands it out (pgc__region_take_pool), heap.c inits it
 *        v
 *   listed         on its owner's circular class list (heap->partial[cls]);
 *                  the list's head is also heap->current[cls], the pool the
 *                  malloc fast path takes from ("current"). UNLISTED clear,
 *                  FULL bit clear.
 *        | refill finds it dry (no free block, no never-used space): one
 *        | CAS sets FULL on an empty remote word
 *        v
 *   unlisted       off every list, slow_free has UNLISTED, remote FULL. Leaves by:
 *                  - a remote free, whose CAS clears FULL and pushes the pool
 *                    on the owner's returned stack: "returned";
 *                  - the owner's own free, whose CAS clears FULL: listed
 *                    again, at the tail.
 *   returned       on heap->returned (linked by returned_next), UNLISTED,
 *                  FULL clear; the owner takes the stack at its next refill:
 *                  listed again, or spare if nothing in it is in use.
 *   spare          empty (used 0), kept by its heap on heap->spare_pools (cls
 *                  0, PGC_HEAP_SPARE_BYTES at most) for the next
 *                  pool it needs, of any class of its width: listed again
 *                  when taken.
 *   free           on its arena's free list (owner NULL), after a heap gave
 *                  it back (pgc__region_give_pool); taken before carving.
 *
 * A heap's last listed pool of a class stays listed when it empties.
 * Abandoned heaps (threads that exited) keep their pools in these states.
 *
 * Counting, for a pool that has an owner (only the owner may count):
 *
 *   next_offset / block_size  ==  used + |free list|
 *   |remote list|            <=  used
 *
 * (blocks on the remote list are still counted in `used` until the owner
 * takes them back). For an arena, with slot 0 holding the headers, whose
 * pools span `width` slots each:
 *
 *   nfree  ==  |free pools|  +  (PGC_SLOTS_PER_ARENA - next_carve) / width
 */
typedef struct pgc_pool {
    /* --- first cache line: the owner's, written on every malloc and free --- */
    pgc_block *free; /* returned and carved blocks, owner only */
    /* The owner's free fast path decrements used_slow and takes the slow
     * path when it is 0 or less: the pool emptied, a reason is set
     * (PGC_SLOW_FREE_ANY is its sign bit), or `used` was 0 already (a
     * double free). One test instead of two. */
    union {
        struct {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            uint32_t used;      /* blocks handed out, as the owner counts them */
            uint32_t slow_free; /* PGC_SLOW_FREE_*: why the owner's frees take the slow path */
#else
            uint32_t slow_free;
            uint32_t used;
#endif
        };
        int64_t used_slow;
    };
    uint32_t block_size;   /* class size in bytes */
    uint32_t cls;          /* size class 1..PGC_NUM_CLASSES */
    uint32_t next_offset;  /* bytes from the pool's first block to never-used space */
    uint32_t max_offset;   /* last offset a block may start at */
    struct pgc_pool *next; /* heap class list (or arena free-pool list) */
    struct pgc_pool *prev;
    uint32_t slots; /* slots the pool spans: 1, 4 or 16 (0: a follower) */
    /* --- second cache line: what other threads read and write. Kept apart so
     * that a consumer thread's frees do not fight the producer's mallocs over
     * one line. The lead is here, beside the owner, which the free fast
     * path reads next. */
    _Alignas(64) struct pgc_heap *owner; /* the heap allocating from this pool; NULL:
                                          * none, or a follower */
    _Atomic uintptr_t remote;            /* blocks freed by other threads | FULL bit */
    struct pgc_pool *returned_next;      /* link on owner->returned (by a remote freer) */
    struct pgc_pool *lead; /* the pool this slot is part of: itself, but for a follower */
    /* Set with the class, read by every free (pgc_pool_block_start): kept,
     * not derived from slots and block_size (a load each instead of a shift
     * and a division), on the line both the owner's and other threads'
     * frees read. */
    uint32_t offset_mask;  /* bytes the pool spans - 1: a block's offset is p & this */
    uint64_t block_starts; /* UINT64_MAX / block_size + 1 */
} pgc_pool;

/* Headers take two cache lines each, side by side in slot 0 of their arena. */
#define PGC_POOL_HEADER_SIZE ((size_t)128)
_Static_assert(sizeof(pgc_pool) <= PGC_POOL_HEADER_SIZE, "pool header outgrew its slot");
_Static_assert(PGC_SLOTS_PER_ARENA *PGC_POOL_HEADER_SIZE <= PGC_POOL_SIZE,
               "headers overflow slot 0");

/* The header of the slot that block p lies in: its pool's header, unless p
 * is in a wide pool's later slots (a follower, whose lead is the pool). */
static inline pgc_pool *pgc_slot_pool(const void *p) {
    uintptr_t a = (uintptr_t)p;
    uintptr_t arena = a & ~(uintptr_t)(PGC_ARENA_SIZE - 1);
    uintptr_t slot = (a >> PGC_POOL_SHIFT) & (PGC_SLOTS_PER_ARENA - 1);
    return (pgc_pool *)(arena + slot * PGC_POOL_HEADER_SIZE);
}

/* The header of the pool that block p lies in. */
static inline pgc_pool *pgc_pool_of(const void *p) {
    return pgc_slot_pool(p)->lead;
}

/* 1 when p is where one of pool's blocks starts (p lies in the pool): its
 * offset in the pool is a multiple of the block size. Lemire's test of
 * divisibility by a constant, exact for offsets below 2^32: n is a multiple
 * of d when n * ceil(2^64 / d), modulo 2^64, is below ceil(2^64 / d). Six
 * instructions, from the header line every free reads anyway; a
 * pointer into a block, freed, would otherwise put that block's inside on
 * the free list and hand it out over the block still in use. */
static inline int pgc_pool_block_start(const pgc_pool *pool, const void *p) {
    uint64_t offset = (uintptr_t)p & pool->offset_mask;
    return offset * pool->block_starts < pool->block_starts;
}

/* Bytes of blocks a pool spans. */
static inline size_t pgc_pool_bytes(const pgc_pool *pool) {
    return (size_t)pool->slots << PGC_POOL_SHIFT;
}

/* The first block of a pool. */
static inline char *pgc_pool_data(const pgc_pool *pool) {
    uintptr_t h = (uintptr_t)pool;
    uintptr_t arena = h & ~(uintptr_t)(PGC_ARENA_SIZE - 1);
    uintptr_t slot = (h - arena) / PGC_POOL_HEADER_SIZE;
    return (char *)(arena + (slot << PGC_POOL_SHIFT));
}

/* ---- thread heaps ------------------------------------------------------- */

enum pgc_heap_state {
    PGC_HEAP_OWNED,     /* a live thread allocates from it */
    PGC_HEAP_ABANDONED, /* its thread exited; the next new thread adopts it */
    PGC_HEAP_ORPHANED,  /* its thread did not survive a fork: it may have been
                         * mid-update, so no thread adopts it (frees into its
                         * pools still work: they are remote frees) */
};

/* Heaps sit side by side (heap.c), each in cache lines of its own: a
 * thread's counters at the end of its heap must not share a line with the
 * next thread's current[] (1712 bytes, unaligned, put heap A's
 * jemalloc_requests beside heap B's current[0] and current[1]). */
typedef struct pgc_heap {
    /* current[cls]: the pool malloc(n) takes a block from, cls its class
     * (pgc_class_index, then pgc_medium_class). Entry 0 (malloc(0)) aliases
     * entry 1, so the fast path needs no zero test. */
    _Alignas(64) pgc_pool *current[PGC_NUM_CLASSES + 1];
    /* Per class, a circular list of pools with free space; current is its head. */
    pgc_pool *partial[PGC_NUM_CLASSES + 1];
    /* Full pools that received remote frees (pushed by the freeing thread). */
    _Atomic(pgc_pool *) returned;
    enum pgc_heap_state state;
    struct pgc_heap *next_heap;      /* all heaps, ever (heaps are never freed) */
    struct pgc_heap *next_abandoned; /* on the abandoned list */
    /* Empty pools kept for the next pool this heap needs, of any class of
     * their width (cls 0, linked by next, by width index: pgc_width_index;
     * PGC_HEAP_SPARE_BYTES at most, in all): spares the region lock and
     * arena churn when a program frees a structure and builds the next
     * one. */
    pgc_pool *spare_pools[PGC_POOL_WIDTHS];
    size_t spare_bytes;
    /* The arena this heap takes its small pools from first (region.c,
     * opaque here), so that two threads' small pools, and their headers
     * side by side in slot 0, are not in one arena: bench/threads.c (2
     * threads) 9-15% faster. Wide pools keep
     * pymalloc's fullest-arena rule: homes for them too made threads that
     * come and go (bench/spawn.c) 30% slower, each emptied home arena going
     * back to the OS; larson gained 9% with them, 5% without. */
    void *arena_home;
    /* POOLGC_PROF: what the heap profiler knows of this heap's classes
     * (prof.h); NULL when not profiling. */
    struct pgc_prof_heap *prof;
    /* counters, owner only */
    uint64_t pools_taken[PGC_NUM_CLASSES + 1]; /* pools started for a class */
    uint64_t jemalloc_requests;                /* requests sent to jemalloc */
} pgc_heap;

/* The heap of a thread that has not allocated yet, and of one whose exit hook
 * has run: all its current pools are an empty static pool, so the fast path
 * falls through to the slow path without testing for them. */
PGC_INTERNAL extern pgc_heap pgc__heap_none;
PGC_INTERNAL extern pgc_heap pgc__heap_exited;
/* Requests sent to jemalloc by threads without a heap of their own (no pool
 * region, an exiting thread, a nested call in a slow path): one atomic
 * counter, touched only on those paths. */
PGC_INTERNAL extern _Atomic uint64_t pgc__heap_jemalloc_requests_no_heap;
PGC_INTERNAL extern __thread pgc_heap *pgc__heap_tls;

/* ---- the region (region.c) ---------------------------------------------- */

typedef struct pgc_region {
    uintptr_t base; /* first arena; 0 when pools are unavailable */
    size_t size;    /* bytes reserved now: grows and shrinks at the end (region.c) */
} pgc_region;
PGC_INTERNAL extern pgc_region pgc__region;

static inline int pgc_in_region(const void *p) {
    return (uintptr_t)p - pgc__region.base < pgc__region.size;
}

PGC_INTERNAL int pgc__region_init(size_t size);
/* Give the address space reserved but never carved back to the OS (after a
 * mapping failed with ENOMEM). Any thread, any lock held. 1: some went back. */
PGC_INTERNAL int pgc__region_shrink(void);
/* A pool of `slots` slots (1, PGC_WIDE_SLOTS or PGC_WIDER_SLOTS), its
 * header's lead and slots set (and its followers'); NULL: region exhausted.
 * home: the taker's home arena for this width (heap->arena_home), which it
 * takes pools from first, so that threads do not share arenas (NULL: the
 * fullest arena, pymalloc's rule). */
PGC_INTERNAL pgc_pool *pgc__region_take_pool(unsigned slots, void **home);
/* The taker of home (a heap whose thread exits) no longer claims its arena:
 * other heaps may make it their home. */
PGC_INTERNAL void pgc__region_leave_home(void **home);
PGC_INTERNAL void pgc__region_give_pool(pgc_pool *pool);
PGC_INTERNAL int pgc__region_trim(void); /* purge cached empty arenas */
PGC_INTERNAL void pgc__region_lock(void);
PGC_INTERNAL void pgc__region_unlock(void);
PGC_INTERNAL void pgc__region_after_fork_child(void);

typedef struct pgc_region_stats {
    size_t arenas_mapped;   /* arenas holding pools now */
    size_t arenas_peak;     /* most arenas mapped at once */
    size_t arenas_released; /* times an empty arena went back to the OS */
    size_t arenas_kept;     /* empty arenas whose pages are kept for reuse now */
    size_t arenas_reserved; /* arenas the region holds now, carved or not */
} pgc_region_stats;
PGC_INTERNAL void pgc__region_stats(pgc_region_stats *out);
/* Call fn on every pool that belongs to a heap (region lock held). */
/* Abort with a message unless the arena lists keep their invariants. */
PGC_INTERNAL void pgc__region_check(void);
PGC_INTERNAL void pgc__region_each_pool(void (*fn)(pgc_pool *, void *), void *arg);

/* ---- pools (pool.c) ----------------------------------------------------- */

PGC_INTERNAL void pgc__pool_init(pgc_pool *pool, pgc_heap *owner, unsigned cls);
PGC_INTERNAL int pgc__pool_extend(pgc_pool *pool); /* carve fresh blocks */
PGC_INTERNAL void pgc__pool_reclaim_remote(pgc_pool *pool);
/* Abort with a message unless pool keeps its invariants (owner thread). */
PGC_INTERNAL void pgc__pool_check(const pgc_pool *pool);
/* Abort, naming the block freed twice, unless every block of pool (empty:
 * used 0) carries the freed mark; the pool may leave its class when this
 * returns. */
PGC_INTERNAL void pgc__pool_check_empty(const pgc_pool *pool);
/* Abort: block, at the head of pool's free list, lost its freed mark. (It
 * does not return; not declared noreturn, so that the fast path reaches it
 * by a jump and keeps no stack frame.) */
PGC_INTERNAL pgc_block *pgc__pool_mark_lost(const pgc_pool *pool, const pgc_block *block)
    __attribute__((cold));

/* Hand out the head of pool's free list (not empty), owner only: every
 * malloc from a pool ends here. The mark test costs no cache miss (the
 * block's next is in the same line), and stops a double free before its
 * block is handed out a second time. The new head's line is fetched now,
 * for the next malloc of the class: blocks other threads freed sit in
 * their caches, and the fetch then overlaps the program's work
 * (bench/prodcons 0.73-0.80 of the time in three sets of 9-11 runs;
 * larson, churn, threads, medium, mixed, spawn within noise; one
 * instruction). */
static inline __attribute__((always_inline)) pgc_block *pgc_pool_take(pgc_pool *pool) {
    pgc_block *block = pool->free;
    if (pgc_unlikely(block->freed_mark != pgc_freed_mark(block)))
        return pgc__pool_mark_lost(pool, block);
    pgc_block *next = block->next;
    pool->free = next;
    __builtin_prefetch(next, 1); /* NULL too: a prefetch never faults */
    block->freed_mark = 0;
    pool->used_slow++; /* the word the free fast path decrements: one width, no stall */
    return block;
}

/* --pool->used_slow <= 0, for the free fast path: one decrement of memory
 * and its flags. GCC 12 compiles the C (below) to a load, a subtraction, a
 * store and a test: three instructions more a free. */
static inline __attribute__((always_inline)) int pgc_pool_used_drop(pgc_pool *pool) {
#if defined(__x86_64__) && defined(__GCC_ASM_FLAG_OUTPUTS__)
    int slow;
    __asm__("decq %0" : "+m"(pool->used_slow), "=@ccle"(slow));
    return slow;
#else
    return --pool->used_slow <= 0;
#endif
}

/* Add or remove a reason for the owner's frees into pool to take the slow
 * path (PGC_SLOW_FREE_*), keeping PGC_SLOW_FREE_ANY with any reason. */
static inline void pgc_pool_slow_set(pgc_pool *pool, uint32_t reason) {
    pool->slow_free |= reason | PGC_SLOW_FREE_ANY;
}
static inline void pgc_pool_slow_clear(pgc_pool *pool, uint32_t reason) {
    uint32_t left = pool->slow_free & ~(reason | PGC_SLOW_FREE_ANY);
    pool->slow_free = left ? left | PGC_SLOW_FREE_ANY : 0;
}

/* ---- heaps (heap.c) ----------------------------------------------------- */

PGC_INTERNAL void pgc__heap_setup(void);
PGC_INTERNAL void *pgc__heap_malloc_slow(pgc_heap *heap, size_t size);
PGC_INTERNAL void pgc__heap_free_local_slow(pgc_heap *heap, pgc_pool *pool);
PGC_INTERNAL void pgc__heap_free_remote(pgc_pool *pool, pgc_block *block);
PGC_INTERNAL pgc_heap *pgc__heap_for_thread(void); /* NULL when pools are unusable */
PGC_INTERNAL void pgc__heap_thread_exit(void *heap);
/* Abort with a message unless heap's lists keep their invariants (its own
 * thread, or with the heaps lock held for an abandoned heap). */
PGC_INTERNAL void pgc__heap_check(const pgc_heap *heap);
PGC_INTERNAL void pgc__heap_reclaim(pgc_heap *heap);
PGC_INTERNAL void pgc__heap_reclaim_abandoned(void);
PGC_INTERNAL void pgc__heap_list_lock(void);
PGC_INTERNAL void pgc__heap_list_unlock(void);
PGC_INTERNAL void pgc__heap_after_fork_child(void);
PGC_INTERNAL uint64_t pgc__heap_pools_taken(unsigned cls);
PGC_INTERNAL uint64_t pgc__heap_jemalloc_requests(void);

/* ---- system calls that map memory (os.c) -------------------------------- */

/* mmap (anonymous, private: MAP_FAILED and errno on failure, errno kept on
 * success), mprotect, madvise, munmap; all but munmap fail on purpose under
 * POOLGC_FAULT_MMAP in fault-injection builds, except on a thread inside
 * pgc__os_fault_hold(1) .. (-1) (a no-op in other builds). */
PGC_INTERNAL void *pgc__os_map(void *addr, size_t len, int prot, int flags);
PGC_INTERNAL int pgc__os_protect(void *addr, size_t len, int prot);
PGC_INTERNAL int pgc__os_advise(void *addr, size_t len, int advice);
PGC_INTERNAL int pgc__os_unmap(void *addr, size_t len);
/* RLIMIT_AS in bytes (SIZE_MAX: none), read again after a refused mapping. */
PGC_INTERNAL size_t pgc__os_as_limit(void);
/* The far zone (os.c): its base (placed at the first call; 0: none);
 * under a limit, a mapping with room after it to grow to the limit (NULL:
 * no slot for it; MAP_FAILED: no address space); an unmapped range from
 * the base up, handed out once (NULL: none left), the end of those ranges
 * (0: none), and whether an address is in one. */
PGC_INTERNAL uintptr_t pgc__os_far_base(void);
PGC_INTERNAL void *pgc__os_map_far(size_t len, int prot, int flags);
PGC_INTERNAL void *pgc__os_far_range(size_t len, size_t alignment);
PGC_INTERNAL uintptr_t pgc__os_far_ranged_end(void);
PGC_INTERNAL int pgc__os_far_ranged(const void *addr);
PGC_INTERNAL unsigned long pgc__os_calls(void);  /* calls counted (fault builds; else 0) */
PGC_INTERNAL unsigned long pgc__os_faults(void); /* calls failed on purpose */
/* Fault-injection builds: POOLGC_FAULT_MMAP's value, N or N:K (-1: not
 * one), and as the options listing shows it. */
PGC_INTERNAL int pgc__os_fault_parse(const char *value);
PGC_INTERNAL void pgc__os_fault_hold(int delta);
PGC_INTERNAL void pgc__os_fault_show(char *buf, size_t size);

/* ---- start-up, options (init.c, options.c) ------------------------------ */

enum pgc_stats_mode { PGC_STATS_OFF, PGC_STATS_TEXT, PGC_STATS_JSON };

typedef struct pgc_options {
    enum pgc_stats_mode stats; /* POOLGC_STATS: report at exit */
    char stats_file[256];      /* POOLGC_STATS_FILE: report there (%p: pid) */
    char stats_program[256];   /* POOLGC_STATS_PROGRAM: report only in this program */
    int verbose;               /* POOLGC_VERBOSE: start-up decisions */
    int debug;                 /* POOLGC_DEBUG: check frees (double free) */
    size_t region_size;        /* POOLGC_REGION: bytes of address space */
    size_t medium_max;         /* POOLGC_MEDIUM_MAX: largest medium request (0: none) */
    size_t thp;                /* POOLGC_THP: pool bytes from which huge pages (0: never) */
} pgc_options;
PGC_INTERNAL extern pgc_options pgc__options;

/* 1 when the pools serve a request of n bytes (alignment up to
 * PGC_ALIGNMENT), if they can: the small tier, and the medium tier up to
 * POOLGC_MEDIUM_MAX. */
static inline int pgc_pooled_size(size_t n) {
    return n <= PGC_SMALL_MAX || n <= pgc__options.medium_max;
}

PGC_INTERNAL void pgc__options_read(void);
PGC_INTERNAL void pgc__init_ensure(void);

/* ---- under valgrind (valgrind.c) ----------------------------------------- */

/* 1: a valgrind tool that replaces malloc runs us; every request then goes
 * to its allocator (there is no pool region), through these. */
PGC_INTERNAL extern int pgc__valgrind_aside;
PGC_INTERNAL int pgc__valgrind_init(void); /* at start-up: sets pgc__valgrind_aside */
PGC_INTERNAL void *pgc__valgrind_malloc(size_t size, size_t alignment, int zero);
PGC_INTERNAL void *pgc__valgrind_realloc(void *p, size_t size);
PGC_INTERNAL void pgc__valgrind_free(void *p);
PGC_INTERNAL size_t pgc__valgrind_usable_size(const void *p);
PGC_INTERNAL void pgc__valgrind_fork_prepare(void);
PGC_INTERNAL void pgc__valgrind_fork_parent(void);
PGC_INTERNAL void pgc__valgrind_fork_child(void);

/* ---- the large path (large.c) ------------------------------------------- */

/* fork (init.c): waits for a jemalloc start-up under way. */
PGC_INTERNAL void pgc__large_fork_prepare(void);
PGC_INTERNAL void pgc__large_fork_parent(void);
PGC_INTERNAL void pgc__large_fork_child(void);
/* jemalloc's own fork handlers, which poolgc runs after all its locks. */
PGC_INTERNAL void pgc__large_jemalloc_fork_prepare(void);
PGC_INTERNAL void pgc__large_jemalloc_fork_parent(void);
PGC_INTERNAL void pgc__large_jemalloc_fork_child(void);

PGC_INTERNAL void *pgc__large_malloc(size_t size, size_t alignment, int zero);
PGC_INTERNAL void *pgc__large_malloc_plain(size_t size); /* malloc's case */
PGC_INTERNAL void *pgc__large_realloc(void *p, size_t size);
PGC_INTERNAL void pgc__large_free(void *p);
PGC_INTERNAL size_t pgc__large_usable_size(const void *p);
PGC_INTERNAL int pgc__large_trim(void);
PGC_INTERNAL void pgc__large_tick(void); /* purges jemalloc's free pages, at most 1/s */
/* The pools' mapped memory reached a new peak (region.c): jemalloc's free
 * pages may go back. Call without the region lock. */
PGC_INTERNAL void pgc__large_pools_grew(size_t pool_bytes);
PGC_INTERNAL size_t pgc__large_bytes_allocated(void);

/* ---- front end (alloc.c) ------------------------------------------------ */

PGC_INTERNAL void *pgc__alloc_memalign(size_t alignment, size_t size);

/* ---- messages (message.c): the only output path; never allocates -------- */

#define PGC_MESSAGE_MAX 512                /* longest line, newline included */
PGC_INTERNAL void pgc__message_init(void); /* keep a copy of stderr */
/* One line (a newline is added) on stderr, formatted like printf. */
PGC_INTERNAL void pgc__message(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
PGC_INTERNAL void pgc__message_vline(const char *fmt, va_list ap);
/* The same, then abort(): misuse the library detected. */
PGC_INTERNAL void pgc__message_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn, cold));
/* Raw text to fd (stderr falls back on its start-up copy); keeps errno. */
PGC_INTERNAL void pgc__message_write(int fd, const char *buf, size_t len);

/* ---- statistics (stats.c) ------------------------------------------------ */

PGC_INTERNAL void pgc__stats_at_exit(void);
/* argv[0] as the program started (init.c's constructor), named in reports. */
PGC_INTERNAL void pgc__stats_remember_program(const char *argv0);

/* A consistent picture of the allocator for reports and mallinfo (stats.c). */
typedef struct pgc_class_stats {
    size_t pools;         /* pools of this class held by heaps */
    size_t blocks_in_use; /* blocks handed out and not yet taken back */
    size_t free_blocks;   /* blocks those pools could still hand out */
    uint64_t pools_taken; /* pools started for this class since start-up */
} pgc_class_stats;

typedef struct pgc_snapshot {
    pgc_class_stats classes[PGC_NUM_CLASSES + 1]; /* index 1..PGC_NUM_CLASSES */
    pgc_region_stats region;
    size_t pool_bytes_in_use;   /* bytes in blocks handed out */
    size_t pool_bytes_free;     /* bytes in free blocks of held pools */
    size_t jemalloc_bytes;      /* bytes jemalloc has handed out */
    uint64_t jemalloc_requests; /* requests sent to jemalloc, by every thread */
} pgc_snapshot;
PGC_INTERNAL void pgc__stats_snapshot(pgc_snapshot *out);

#endif /* POOLGC_INTERNAL_H */
