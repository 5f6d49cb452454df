/*
 * huge.c - blocks of PGC_HUGE_MIN bytes and more while an address-space
 * limit (RLIMIT_AS: ulimit -v, setrlimit, prlimit) is set. Each is a
 * mapping of its own, as glibc's mmapped chunks are:
 *
 *   mapping (a whole number of pages)
 *   +-------------+------+-------------------------------------+
 *   | length      | slot |  data (16-aligned)                  |
 *   +-------------+------+-------------------------------------+
 *   the mapping's   its index in `slots`
 *
 * Why, under a limit only: realloc grows such a block with mremap - in
 * place, or moved by the kernel without a copy - so the old and the new
 * block never take address space together, and a doubling buffer reaches
 * half the limit, as under glibc; jemalloc's realloc of a large extent it
 * cannot extend allocates the new one and copies. And a block takes its
 * size rounded to a page, where jemalloc rounds to its size classes (four
 * per doubling: a 330 MiB request takes 384). Without a limit jemalloc
 * serves these sizes: it keeps freed extents for reuse, which a program that
 * churns big blocks wants, and address space is plentiful.
 *
 * Which pointers are huge blocks: `slots` holds the data address of each,
 * at the index its header names, so "is p huge?" reads the word before p
 * and compares one slot (any pointer free() may see has readable words
 * before it: glibc's and jemalloc's blocks have headers or neighbours there).
 * Slots are set and cleared with atomics, no lock, so fork needs no
 * handler; a block that mremap moves keeps its slot. large.c asks only
 * about pointers that are not jemalloc's, so jemalloc's blocks pay nothing.
 * When every slot is taken, jemalloc serves the request.
 *
 * "Under a limit" is read once (getrlimit), and again whenever a mapping
 * fails for want of memory (pgc__huge_limit_changed, from os.c): a program that lowers its limit at run time gets huge blocks
 * from its first refused mapping on, with no system call per request.
 */
#include <errno.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "internal.h"

typedef struct header {
    size_t length; /* of the mapping */
    size_t slot;   /* index in slots */
} header;
_Static_assert(sizeof(header) % PGC_ALIGNMENT == 0, "huge data must stay 16-aligned");

#define PGC_HUGE_SLOTS 4096 /* a power of two: 4 GiB of PGC_HUGE_MIN blocks */

static _Atomic uintptr_t slots[PGC_HUGE_SLOTS];
static _Atomic size_t next_slot; /* where the search for a free one starts */
static _Atomic int limited = -1; /* RLIMIT_AS is set: 1, 0, or -1 not read yet */

void pgc__huge_limit_changed(void) {
    struct rlimit lim;
    int now = getrlimit(RLIMIT_AS, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY;
    atomic_store_explicit(&limited, now, memory_order_relaxed);
}

int pgc__huge_wanted(size_t size) {
    if (size < PGC_HUGE_MIN)
        return 0;
    if (pgc_unlikely(atomic_load_explicit(&limited, memory_order_relaxed) < 0))
        pgc__huge_limit_changed();
    return atomic_load_explicit(&limited, memory_order_relaxed) > 0;
}

static header *header_of(const void *p) {
    return (header *)((char *)p - sizeof(header));
}

int pgc__huge_owns(const void *p) {
    if (!p)
        return 0;
    size_t i = header_of(p)->slot & (PGC_HUGE_SLOTS - 1);
    return atomic_load_explicit(&slots[i], memory_order_relaxed) == (uintptr_t)p;
}

/* A free slot, now holding p; PGC_HUGE_SLOTS if none. */
static size_t slot_take(uintptr_t p) {
    size_t start = atomic_fetch_add_explicit(&next_slot, 1, memory_order_relaxed);
    for (size_t n = 0; n < PGC_HUGE_SLOTS; n++) {
        size_t i = (start + n) & (PGC_HUGE_SLOTS - 1);
        uintptr_t v = 0;
        if (atomic_compare_exchange_strong_explicit(&slots[i], &v, p, memory_order_relaxed,
                                                    memory_order_relaxed))
            return i;
    }
    return PGC_HUGE_SLOTS;
}

/* The mapping's length for size bytes of data; 0 if it overflows. */
static size_t mapping_length(size_t size) {
    size_t len;
    if (__builtin_add_overflow(size, sizeof(header) + PGC_PAGE_SIZE - 1, &len))
        return 0;
    return len & ~(PGC_PAGE_SIZE - 1);
}

void *pgc__huge_malloc(size_t size) {
    size_t len = mapping_length(size);
    if (!len)
        return NULL;
    header *h = pgc__os_map(NULL, len, PROT_READ | PROT_WRITE, 0);
    if (h == MAP_FAILED)
        return NULL;
    char *p = (char *)(h + 1);
    h->length = len;
    h->slot = slot_take((uintptr_t)p);
    if (h->slot == PGC_HUGE_SLOTS) {
        pgc__os_unmap(h, len);
        return NULL;
    }
    return p;
}

void *pgc__huge_realloc(void *p, size_t size) {
    header *h = header_of(p);
    size_t len = mapping_length(size);
    if (!len) {
        errno = ENOMEM;
        return NULL;
    }
    if (len == h->length)
        return p;
    header *n = pgc__os_remap(h, h->length, len);
    if (n == MAP_FAILED)
        return NULL;
    n->length = len;
    atomic_store_explicit(&slots[n->slot], (uintptr_t)(n + 1), memory_order_relaxed);
    return n + 1;
}

void pgc__huge_free(void *p) {
    header *h = header_of(p);
    atomic_store_explicit(&slots[h->slot], 0, memory_order_relaxed);
    pgc__os_unmap(h, h->length);
}

size_t pgc__huge_usable_size(const void *p) {
    return header_of(p)->length - sizeof(header);
}
