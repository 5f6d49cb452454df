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
        b = nb;
    }
    b->next = pool->free;
    pool->free = first;
    pool->next_offset = off;
    return 1;
}

/* Take every block other threads freed into this pool back onto its free
 * list (nothing while the pool is unlisted: its remote word is the FULL bit
 * alone then). The walk is bounded by what the pool holds: a longer list has
 * a cycle, which only a double free that slipped past free's check makes. */
void pgc__pool_reclaim_remote(pgc_pool *pool) {
    uintptr_t word = atomic_load_explicit(&pool->remote, memory_order_relaxed);
    if (word == 0 || word == PGC_REMOTE_FULL)
        return;
    pgc_block *head = (pgc_block *)atomic_exchange_explicit(&pool->remote, 0, memory_order_acquire);
    uint32_t n = 1, capacity = (uint32_t)(pgc_pool_bytes(pool) / pool->block_size);
    pgc_block *tail = head;
    while (tail->next) {
        tail = tail->next;
        if (++n > capacity)
            pgc__message_fatal("poolgc: free(): double free in pool %p (%u-byte blocks): its list "
                               "of blocks freed by other threads loops",
                               (void *)pgc_pool_data(pool), pool->block_size);
    }
    tail->next = pool->free;
    pool->free = head;
    pool->used -= n;
}

/* The pool's invariants (internal.h), for a pool of either tier: it is its
 * own lead, its class, width and block size agree, whole blocks are carved,
 * the free list stays inside the carved blocks, starts each on a block
 * boundary, has no cycle, and with `used` accounts for every carved block. */
void pgc__pool_check(const pgc_pool *pool) {
    pgc_verify(pool->cls >= 1 && pool->cls <= PGC_NUM_CLASSES);
    pgc_verify(pool->block_size == pgc_class_size(pool->cls));
    pgc_verify(pool->lead == pool && pool->slots == pgc_class_slots(pool->cls));
    pgc_verify(pool->max_offset == pgc_pool_bytes(pool) - pool->block_size);
    pgc_verify(pool->next_offset <= pool->max_offset + pool->block_size);
    pgc_verify(pool->next_offset % pool->block_size == 0); /* whole blocks carved */
    uintptr_t data = (uintptr_t)pgc_pool_data(pool);
    uint32_t carved = pool->next_offset / pool->block_size;
    uint32_t listed = 0;
    for (const pgc_block *b = pool->free; b; b = b->next) {
        uintptr_t offset = (uintptr_t)b - data;
        pgc_verify(offset < pool->next_offset && offset % pool->block_size == 0);
        pgc_verify(++listed <= carved); /* more than carved: a cycle */
    }
    pgc_verify(pool->used + listed == carved);
}
