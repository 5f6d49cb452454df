/*
 * heap - a thread heap's pools (lib/heap.c), through the states written
 * above pgc_pool in lib/internal.h:
 * - a class whose pool runs dry unlists it (FULL set) and takes a new pool;
 * - another thread's free into that full pool clears FULL and puts it on the
 *   owner's returned stack; reclaiming takes it and every remote free back;
 * - a pool that empties while its class has another pool becomes a spare,
 *   and the next class that needs a pool reuses it; the same for a medium
 *   class's wide pool, a spare for medium classes, whose blocks in its
 *   later slots go back to it too;
 * - a pool whose free list runs dry, before it carves more, takes back
 *   the blocks other threads freed into it, or else gives way to the
 *   class's next pool when that has free blocks;
 * - a thread that exits abandons its heap, and the next new thread adopts it
 *   with the pools it still has.
 * pgc__heap_check then finds the heap consistent.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "../check.h"

#define SIZE 512
#define CLS (SIZE / PGC_ALIGNMENT)
#define PER_POOL ((int)(PGC_POOL_SIZE / SIZE))

static void *blocks[PER_POOL + 1];
static pgc_heap *thread_heap;
static void *kept;

static int from, to;

static void *free_some(void *arg) {
    (void)arg;
    for (int i = from; i < to; i++)
        free(blocks[i]);
    return NULL;
}
static void *malloc_and_exit(void *arg) {
    void *p = malloc(48);
    thread_heap = pgc__heap_tls;
    if (arg) { /* the adopting thread: the kept block's pool is its own now */
        free(kept);
        free(p);
    } else {
        kept = p;
    }
    return NULL;
}
static void run(void *(*fn)(void *), void *arg) {
    pthread_t t;
    pthread_create(&t, NULL, fn, arg);
    pthread_join(t, NULL);
}

int main(void) {
    /* A class runs dry: its pool leaves the list and a new pool is taken. */
    blocks[0] = malloc(SIZE);
    if (!pgc__region.base) {
        fprintf(stderr, "note: no pool region here (ulimit -v?); nothing to check\n");
        return 77;
    }
    pgc_heap *heap = pgc__heap_tls;
    pgc_pool *a = pgc_pool_of(blocks[0]);
    CHECK(heap->partial[CLS] == a && a->next == a, "class %d already had pools", CLS);
    uint64_t taken = heap->pools_taken[CLS];
    int n = 1;
    while (n <= PER_POOL && pgc_pool_of(blocks[n - 1]) == a)
        blocks[n++] = malloc(SIZE);
    pgc_pool *b = pgc_pool_of(blocks[n - 1]);
    CHECK(n == PER_POOL + 1 && b != a, "%d blocks from the first pool, want %d", n - 1, PER_POOL);
    CHECK(a->used == PER_POOL && (a->slow_free & PGC_SLOW_FREE_UNLISTED) &&
              atomic_load(&a->remote) == PGC_REMOTE_FULL,
          "dry pool: used %u unlisted %u remote %#lx", a->used,
          (a->slow_free & PGC_SLOW_FREE_UNLISTED), (unsigned long)atomic_load(&a->remote));
    CHECK(heap->current[CLS] == b && heap->pools_taken[CLS] == taken + 1, "new pool not head");

    /* A remote free into the full pool hands it back; reclaim relists it. */
    from = 0, to = 1;
    run(free_some, NULL);
    CHECK(atomic_load(&heap->returned) == a && a->used == PER_POOL, "full pool not returned");
    pgc__heap_reclaim(heap);
    CHECK(atomic_load(&heap->returned) == NULL && !(a->slow_free & PGC_SLOW_FREE_UNLISTED) &&
              a->used == PER_POOL - 1,
          "after reclaim: unlisted %u used %u", (a->slow_free & PGC_SLOW_FREE_UNLISTED), a->used);
    from = 1, to = 3; /* a is listed now: no hand-back */
    run(free_some, NULL);
    CHECK(atomic_load(&heap->returned) == NULL && a->used == PER_POOL - 1, "listed pool returned");
    pgc__heap_reclaim(heap);
    CHECK(a->used == PER_POOL - 3 && atomic_load(&a->remote) == 0, "used %u", a->used);

    /* The new pool empties while a is listed: it becomes a spare. */
    size_t spares = heap->spare_bytes;
    free(blocks[PER_POOL]);
    CHECK(heap->spare_pools[0] == b && b->cls == 0 && heap->spare_bytes == spares + PGC_POOL_SIZE,
          "emptied pool not a spare (spares %zu bytes)", heap->spare_bytes);
    unsigned other = CLS - 1;
    while (other > 1 && heap->partial[other])
        other--;
    void *q = malloc(pgc_class_size(other));
    CHECK(pgc_pool_of(q) == b && b->cls == other && heap->spare_bytes == spares,
          "class %u did not reuse the spare", other);
    free(q); /* b empties again but is its class's only pool: stays listed */
    CHECK(heap->partial[other] == b, "a class's last pool left its list");
    for (int i = 3; i < PER_POOL; i++)
        free(blocks[i]);
    pgc__heap_check(heap);

    /* Medium classes have wide pools, whose later slots' headers are
     * followers; an emptied wide pool is a spare of its width, which the
     * next medium class that needs a pool takes. */
    pgc__heap_reclaim(heap); /* no spares left */
    void *w[5];
    for (int i = 0; i < 5; i++)
        w[i] = malloc(16384); /* four a pool */
    pgc_pool *wa = pgc_pool_of(w[0]), *wb = pgc_pool_of(w[4]);
    CHECK(wa != wb && wa->slots == PGC_WIDE_SLOTS && pgc_pool_of(w[3]) == wa &&
              pgc_slot_pool(w[3]) != wa && pgc_slot_pool(w[3])->owner == NULL &&
              pgc_slot_pool(w[3])->lead == wa,
          "16 KiB blocks: pools %p and %p, the fourth block's slot header %p", (void *)wa,
          (void *)wb, (void *)pgc_slot_pool(w[3]));
    free(w[3]); /* a follower's block: wa is listed again */
    CHECK(wa->used == 3 && !(wa->slow_free & PGC_SLOW_FREE_UNLISTED), "wa: used %u", wa->used);
    free(w[4]);
    CHECK(heap->spare_pools[1] == wb && heap->spare_bytes == PGC_WIDE_POOL_SIZE &&
              heap->spare_pools[0] == NULL,
          "emptied wide pool not a wide spare (spares %zu bytes)", heap->spare_bytes);
    void *wq = malloc(20000);
    CHECK(pgc_pool_of(wq) == wb && wb->cls == pgc_size_class(20000) && heap->spare_bytes == 0,
          "another medium class did not reuse the wide spare");
    free(wq);
    for (int i = 0; i < 3; i++)
        free(w[i]);
    pgc__heap_check(heap);

    /* A dry free list takes back what other threads freed before more of
     * the pool is carved. */
    enum { CARVED_MAX = 64 };
    void *c[CARVED_MAX];
    int nc = 0;
    c[nc++] = malloc(208);
    pgc_pool *cp = pgc_pool_of(c[0]);
    while (cp->free && nc < CARVED_MAX)
        c[nc++] = malloc(208);
    uint32_t carved = cp->next_offset;
    CHECK(!cp->free && carved <= cp->max_offset, "208-byte pool: %d blocks, list %p, carved %u", nc,
          (void *)cp->free, carved);
    blocks[0] = c[nc / 2];
    from = 0, to = 1;
    run(free_some, NULL);
    void *back = malloc(208);
    CHECK(back == c[nc / 2] && cp->next_offset == carved,
          "dry list: got %p, not the block freed by another thread %p (carved %u, was %u)", back,
          c[nc / 2], cp->next_offset, carved);
    c[nc / 2] = back;
    for (int i = 0; i < nc; i++)
        free(c[i]);
    pgc__heap_check(heap);

    /* A dry head whose class has free blocks in its next pool uses those
     * before it carves more: pool ra ran dry, rb took over, one block of
     * ra came free, and rb's carved blocks are all in use. */
    enum { R_SIZE = 304, R_MAX = 2 * (int)(PGC_POOL_SIZE / R_SIZE) };
    void *r[R_MAX];
    int nr = 0;
    r[nr++] = malloc(R_SIZE);
    pgc_pool *ra = pgc_pool_of(r[0]), *rb = ra;
    while (rb == ra && nr < R_MAX) {
        r[nr] = malloc(R_SIZE);
        rb = pgc_pool_of(r[nr++]);
    }
    while (rb->free && nr < R_MAX)
        r[nr++] = malloc(R_SIZE);
    uint32_t rb_carved = rb->next_offset;
    CHECK(rb != ra && heap->partial[pgc_size_class(R_SIZE)] == rb && !rb->free &&
              rb_carved <= rb->max_offset,
          "304-byte pools %p and %p: %d blocks, rb carved %u", (void *)ra, (void *)rb, nr,
          rb_carved);
    free(r[1]); /* ra listed again, behind rb, with one free block */
    void *again = malloc(R_SIZE);
    CHECK(again == r[1] && rb->next_offset == rb_carved &&
              heap->current[pgc_size_class(R_SIZE)] == ra,
          "dry head: got %p, not the free block %p of the next pool (rb carved %u, was %u)", again,
          r[1], rb->next_offset, rb_carved);
    for (int i = 0; i < nr; i++)
        free(r[i]);
    pgc__heap_check(heap);

    /* Thread exit abandons the heap; the next thread adopts it. */
    run(malloc_and_exit, NULL);
    pgc_heap *abandoned = thread_heap;
    CHECK(abandoned != heap && abandoned->state == PGC_HEAP_ABANDONED, "heap not abandoned");
    CHECK(pgc_pool_of(kept)->owner == abandoned, "the kept block's pool left the heap");
    run(malloc_and_exit, (void *)1);
    CHECK(thread_heap == abandoned, "new thread made heap %p, not adopted %p", (void *)thread_heap,
          (void *)abandoned);
    return check_done();
}
