/*
 * pool - one pool in isolation (lib/pool.c): for every class of both tiers,
 * pgc__pool_extend carves blocks a page at a time (the first call carves no
 * block that starts past the page the first block ends in: one page for a
 * small class, one or two blocks for a medium class of a page or more),
 * until the pool is exhausted; together the blocks tile the pool's slot (or
 * the 4 or 16 slots of a medium class's wide pool) exactly: 16-aligned, in
 * bounds, distinct, each mapping back to its pool, from any of its slots.
 * Every carved block carries the freed mark (malloc checks it). Blocks
 * pushed on the remote list (pgc__heap_free_remote; the remote word counts
 * them) come back with pgc__pool_reclaim_remote, onto a free list that has
 * blocks or an empty one, and `used` drops by as many; pgc__pool_check
 * then finds the counts consistent, and pgc__pool_check_empty finds every
 * block free. pgc_pool_block_start holds at every offset of the pool that
 * is a multiple of the class size, and at no other (free's check).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"
#include "../check.h"

static size_t list_length(const pgc_block *b) {
    size_t n = 0;
    for (; b; b = b->next)
        n++;
    return n;
}

int main(void) {
    /* An arena-aligned mapping from mmap (not from malloc: that is us): slot
     * 0 holds the headers; the pool starts at slot PGC_WIDER_SLOTS, where the
     * region can put a pool of any width, and is as wide as its class's
     * pools. */
    char *raw =
        mmap(NULL, 2 * PGC_ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    uintptr_t arena = ((uintptr_t)raw + PGC_ARENA_SIZE - 1) & ~(uintptr_t)(PGC_ARENA_SIZE - 1);
    pgc_pool *pool = (pgc_pool *)(arena + PGC_WIDER_SLOTS * PGC_POOL_HEADER_SIZE);
    char *data = pgc_pool_data(pool);
    CHECK(data == (char *)arena + PGC_WIDER_SLOTS * PGC_POOL_SIZE, "pool data at %p, want %p",
          (void *)data, (void *)(arena + PGC_WIDER_SLOTS * PGC_POOL_SIZE));
    static unsigned char seen[PGC_WIDER_POOL_SIZE];

    for (unsigned cls = 1; cls <= PGC_NUM_CLASSES; cls++) {
        size_t size = pgc_class_size(cls);
        unsigned slots = pgc_class_slots(cls);
        size_t bytes = (size_t)slots * PGC_POOL_SIZE;
        memset(pool, 0xcc, PGC_WIDER_SLOTS * PGC_POOL_HEADER_SIZE);
        memset(data, 0xcc, bytes);
        /* The headers as the region hands the pool out (region.c). */
        for (unsigned f = 0; f < slots; f++) {
            pool[f].lead = pool;
            pool[f].owner = NULL;
        }
        pool->slots = slots;
        pgc__pool_init(pool, NULL, cls);
        CHECK(pool->block_size == size && pool->cls == cls && pool->free == NULL && pool->used == 0,
              "class %u: pool_init left block_size %u cls %u free %p used %u", cls,
              pool->block_size, pool->cls, (void *)pool->free, pool->used);

        CHECK(pgc__pool_extend(pool) == 1, "class %u: first extend failed", cls);
        size_t first_pages = (size + PGC_PAGE_SIZE - 1) / PGC_PAGE_SIZE * PGC_PAGE_SIZE;
        for (pgc_block *b = pool->free; b; b = b->next)
            CHECK((size_t)((char *)b - data) < first_pages,
                  "class %u: first extend carved block at offset %td, past the first block's "
                  "pages",
                  cls, (char *)b - data);
        int calls = 1;
        while (pgc__pool_extend(pool))
            if (++calls > 100)
                break;
        size_t wrong = 0;
        for (size_t off = 0; off < bytes; off++)
            wrong += pgc_pool_block_start(pool, data + off) != (off % size == 0);
        CHECK(wrong == 0, "class %u (%zu bytes): block_start wrong at %zu offsets", cls, size,
              wrong);
        CHECK(calls <= (int)(bytes / PGC_PAGE_SIZE) + 1,
              "class %u: %d extend calls for a %zu KiB pool", cls, calls, bytes >> 10);

        size_t want = bytes / size;
        size_t got = list_length(pool->free);
        CHECK(got == want, "class %u (%zu bytes): %zu blocks carved, want %zu", cls, size, got,
              want);
        memset(seen, 0, sizeof seen);
        for (pgc_block *b = pool->free; b; b = b->next) {
            size_t off = (size_t)((char *)b - data);
            CHECK(off + size <= bytes, "class %u: block at offset %zu out of bounds", cls, off);
            CHECK(off % PGC_ALIGNMENT == 0 && off % size == 0,
                  "class %u: block at offset %zu misplaced", cls, off);
            CHECK(pgc_pool_of(b) == pool && pgc_pool_of((char *)b + size - 1) == pool,
                  "class %u: block at offset %zu maps to another pool", cls, off);
            CHECK(b->freed_mark == pgc_freed_mark(b), "class %u: block at offset %zu has no mark",
                  cls, off);
            if (off < bytes) {
                CHECK(!seen[off], "class %u: block at offset %zu carved twice", cls, off);
                seen[off] = 1;
            }
        }

        /* Take two blocks (a pool of the 32 KiB class holds no more), free
         * them as another thread does, collect: onto the free list's other
         * blocks (walked to the tail), then onto an empty free list (the
         * remote list becomes it). */
        for (int dry = 0; dry < 2; dry++) {
            pgc_block *a = pool->free, *b = a->next, *rest = NULL;
            pool->free = b->next;
            pool->used = 2;
            if (dry) {
                rest = pool->free;
                pool->free = NULL;
            }
            pgc__heap_free_remote(pool, b);
            pgc__heap_free_remote(pool, a);
            uintptr_t word = atomic_load(&pool->remote);
            CHECK(PGC_REMOTE_BLOCKS(word) == a && PGC_REMOTE_COUNT(word) == 2,
                  "class %u: remote word %#lx after 2 remote frees", cls, (unsigned long)word);
            size_t before = list_length(pool->free);
            pgc__pool_reclaim_remote(pool);
            CHECK(pool->used == 0, "class %u: used = %u after collecting 2 remote frees", cls,
                  pool->used);
            CHECK(list_length(pool->free) == before + 2, "class %u: free list %zu, want %zu", cls,
                  list_length(pool->free), before + 2);
            CHECK(atomic_load(&pool->remote) == 0, "class %u: remote list not emptied", cls);
            if (dry) { /* the rest back behind them */
                pgc_block *tail = pool->free;
                while (tail->next)
                    tail = tail->next;
                tail->next = rest;
            }
        }
        pgc__pool_check(pool);
        pgc__pool_check_empty(pool); /* aborts if it finds a block in use */
    }
    munmap(raw, 2 * PGC_ARENA_SIZE);
    return check_done();
}
