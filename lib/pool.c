/*
 * pool.c - one pool: blocks of one size class, of either tier (small: a
 * PGC_POOL_SIZE slot of 32 to 1024 blocks; medium: PGC_WIDE_POOL_SIZE of 113
 * down to 2, or PGC_WIDER_POOL_SIZE of 7 down to 4).
 *
 *   +-------+-------+-------+---------------------------+
 *   | block | block | block |  never used (next_offset) |
 *   +-------+-------+-------+---------------------------+
 *   (the header lives in its arena's slot 0, see internal.h)
 *
 * As in pymalloc, blocks are carved from the never-used tail only when the
 * free list runs dry, a page at a time, so a pool touches no page before it
 * needs it. Blocks freed by the owner go on `free`; blocks freed by other
 * threads are pushed on `remote` and taken back here in one exchange.
 * Only the owning thread calls these functions.
 */
#include <stddef.h>

#include "internal.h"

/* pool: a pool as the region hands it out, of cls's width (its lead and
 * slots set). */
void pgc__pool_init(pgc_pool *pool, pgc_heap *owner, unsigned cls) {
    size_t size = pgc_class_size(cls);
    pgc_assert(pool->lead == pool && pool->slots == pgc_class_slots(cls));
    pool->free = NULL;
    pool->used = 0;
    pool->slow_free = 0;
    pool->owner = owner;
    atomic_store_explicit(&pool->remote, 0, memory_order_relaxed);
    pool->block_size = (uint32_t)size;
    pool->offset_mask = (uint32_t)(pgc_pool_bytes(pool) - 1);
    pool->block_starts = UINT64_MAX / size + 1;
    pool->cls = cls;
    pool->next_offset = 0;
    pool->max_offset = (uint32_t)(pgc_pool_bytes(pool) - size);
    pool->next = pool->prev = pool->returned_next = NULL;
}

/* Carve the next block, and those after it that start before the end of
 * the page it ends in, onto the free list: carving writes into no page the
 * first block does not reach (a block of a page or more comes alone, or
 * with one that starts in its last page). Returns 0 when the pool has no
 * never-used space left. */
int pgc__pool_extend(pgc_pool *pool) {
    uint32_t off = pool->next_offset;
    if (off > pool->max_offset)
        return 0;
    uint32_t size = pool->block_size;
    uint32_t page_end = (uint32_t)((off + size + PGC_PAGE_SIZE - 1) & ~(PGC_PAGE_SIZE - 1));
    uint32_t end = page_end - 1 < pool->max_offset ? page_end - 1 : pool->max_offset;
    char *base = pgc_pool_data(pool);
    pgc_block *first = (pgc_block *)(base + off), *b = first;
    for (off += size; off <= end; off += size) {
        pgc_block *nb = (pgc_block *)(base + off);
        b->next = nb;
        b->freed_mark = pgc_freed_mark(b);
        b = nb;
    }
    b->next = pool->free;
    b->freed_mark = pgc_freed_mark(b);
    pool->free = first;
    pool->next_offset = off;
    return 1;
}

/* A double free that no check caught yet made the list of blocks other
 * threads freed into pool longer than the blocks in use, or a loop. */
static PGC_COLD __attribute__((noreturn)) void remote_double_free(const pgc_pool *pool) {
    pgc__message_fatal("poolgc: free(): double free in pool %p (%u-byte blocks): its list of "
                       "blocks freed by other threads loops",
                       (void *)pgc_pool_data(pool), pool->block_size);
}

/* Take every block other threads freed into this pool back onto its free
 * list (nothing while the pool is unlisted: its remote word is the FULL bit
 * alone then), with the count the remote word carries. When the free list
 * is empty, as when the pool ran dry, the remote list becomes it without a
 * walk; a loop in it (a block freed twice) is then caught when that block
 * comes off the free list a second time without its mark (pgc_pool_take),
 * or when the pool looks empty (pgc__pool_check_empty). Otherwise the list
 * is walked to its tail, which must be its count-th block. */
void pgc__pool_reclaim_remote(pgc_pool *pool) {
    uintptr_t word = atomic_load_explicit(&pool->remote, memory_order_relaxed);
    if (word == 0 || word == PGC_REMOTE_FULL)
        return;
    word = atomic_exchange_explicit(&pool->remote, 0, memory_order_acquire);
    pgc_block *head = PGC_REMOTE_BLOCKS(word);
    uint32_t n = PGC_REMOTE_COUNT(word);
    if (n > pool->used)
        remote_double_free(pool);
    if (pool->free) {
        pgc_block *tail = head;
        for (uint32_t walked = 1; tail->next; walked++) {
            if (walked == n)
                remote_double_free(pool);
            tail = tail->next;
        }
        tail->next = pool->free;
    }
    pool->free = head;
    pool->used -= n;
}

/* The block at the head of the free list lost its mark: freed twice (and
 * handed out once since, which cleared it), or written after its free. */
pgc_block *pgc__pool_mark_lost(const pgc_pool *pool, const pgc_block *block) {
    pgc__message_fatal("poolgc: malloc(): double free of %p (%u-byte block), or a write to it "
                       "after its free",
                       (const void *)block, pool->block_size);
}

/* The first block that a walk from head meets twice (the list loops). */
static const pgc_block *loop_entry(const pgc_block *head) {
    const pgc_block *slow = head, *fast = head;
    do {
        slow = slow->next;
        fast = fast->next->next;
    } while (slow != fast);
    for (slow = head; slow != fast; slow = slow->next)
        fast = fast->next;
    return slow;
}

/* A free list loops (a block was pushed on it twice): is it walked longer
 * than the pool carved blocks? The walk stops at a pointer outside the
 * carved blocks too (a program wrote into a free block). */
static int list_loops(const pgc_pool *pool) {
    uintptr_t data = (uintptr_t)pgc_pool_data(pool);
    uint32_t carved = pool->next_offset / pool->block_size, listed = 0;
    for (const pgc_block *b = pool->free; b; b = b->next) {
        if ((uintptr_t)b - data >= pool->next_offset)
            return 0;
        if (++listed > carved)
            return 1;
    }
    return 0;
}

static PGC_COLD void unmarked_in_empty(const pgc_pool *pool) {
    const pgc_block *block = (const pgc_block *)pgc_pool_data(pool);
    while (block->freed_mark == pgc_freed_mark(block))
        block = (const pgc_block *)((const char *)block + pool->block_size);
    if (list_loops(pool))
        pgc__message_fatal("poolgc: double free of %p (%u-byte block), found when its pool "
                           "emptied",
                           (const void *)loop_entry(pool->free), pool->block_size);
    pgc__message_fatal("poolgc: double free or write after free of %p (%u-byte block), found "
                       "when its pool emptied",
                       (const void *)block, pool->block_size);
}

/* Every block of an empty pool is free, so carries the mark. One that does
 * not is in use (a double free made the count reach 0 early) or was written
 * after its free. The scan adds the marks in address order and compares
 * the sum with that of the marks every block should carry, ~address, in
 * closed form: two instructions a block. A block without its mark changes
 * the sum (several could only cancel with data chosen to). Not a walk of
 * the list: that goes through the pool in the order of the frees, a cache
 * miss a block (bench/frag, which frees everything at the end: +17% time).
 * When a double free made the list loop, the block where it loops is the
 * one freed twice (its second free linked it to the head of then). */
void pgc__pool_check_empty(const pgc_pool *pool) {
    const char *data = pgc_pool_data(pool);
    size_t size = pool->block_size, n = pool->next_offset / size;
    const char *mark = data + offsetof(pgc_block, freed_mark);
    uintptr_t sum = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4, mark += 4 * size)
        sum += *(const uintptr_t *)mark + *(const uintptr_t *)(mark + size) +
               *(const uintptr_t *)(mark + 2 * size) + *(const uintptr_t *)(mark + 3 * size);
    for (; i < n; i++, mark += size)
        sum += *(const uintptr_t *)mark;
    /* sum over blocks of ~(data + i * size) == -(n * (data + 1) + size * n(n-1)/2) */
    uintptr_t expected = -(n * ((uintptr_t)data + 1) + size * (n * (n - 1) / 2));
    if (pgc_unlikely(sum != expected))
        unmarked_in_empty(pool);
}

/* The pool's invariants (internal.h), for a pool of either tier: it is its
 * own lead, its class, width, block size and the constants free's check
 * reads (pgc_pool_block_start) agree, whole blocks are carved,
 * the free list stays inside the carved blocks, starts each on a block
 * boundary, carries the freed mark, has no cycle, and with `used` accounts
 * for every carved block. (A double free makes a block lose its mark or
 * the list loop: those two messages name the block and the likely cause.) */
void pgc__pool_check(const pgc_pool *pool) {
    pgc_verify(pool->cls >= 1 && pool->cls <= PGC_NUM_CLASSES);
    pgc_verify(pool->block_size == pgc_class_size(pool->cls));
    pgc_verify(pool->lead == pool && pool->slots == pgc_class_slots(pool->cls));
    pgc_verify(pool->max_offset == pgc_pool_bytes(pool) - pool->block_size);
    pgc_verify(pool->offset_mask == pgc_pool_bytes(pool) - 1);
    pgc_verify(pool->block_starts == UINT64_MAX / pool->block_size + 1);
    pgc_verify(pool->next_offset <= pool->max_offset + pool->block_size);
    pgc_verify(pool->next_offset % pool->block_size == 0); /* whole blocks carved */
    /* no reason, or reasons with their sign bit (the free fast path's test) */
    pgc_verify(pool->slow_free == 0 ||
               ((pool->slow_free & PGC_SLOW_FREE_ANY) && (pool->slow_free & ~PGC_SLOW_FREE_ANY)));
    uintptr_t data = (uintptr_t)pgc_pool_data(pool);
    uint32_t carved = pool->next_offset / pool->block_size;
    uint32_t listed = 0;
    for (const pgc_block *b = pool->free; b; b = b->next) {
        uintptr_t offset = (uintptr_t)b - data;
        pgc_verify(offset < pool->next_offset && offset % pool->block_size == 0);
        /* A program's double free breaks these two: say so. */
        if (b->freed_mark != pgc_freed_mark(b))
            pgc__message_fatal("poolgc: internal check failed: free block %p (%u-byte block) "
                               "lost its freed mark: a double free, or a write after free",
                               (const void *)b, pool->block_size);
        if (++listed > carved)
            pgc__message_fatal("poolgc: internal check failed: a free list loops at %p (%u-byte "
                               "block): a double free, or a write after free",
                               (const void *)loop_entry(pool->free), pool->block_size);
    }
    pgc_verify(pool->used + listed == carved);
}
