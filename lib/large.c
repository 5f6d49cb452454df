/*
 * large.c - the large path: everything the pools do not serve goes to
 * jemalloc through its non-standard API (mallocx, rallocx, sallocx, dallocx),
 * which no interposer shadows.
 *
 * Embedded build (the default): jemalloc is linked in with its names renamed
 * pgc__je_* (lib/jemalloc-embed.sh), and its mmap/munmap calls come here, so
 * a page map records every page jemalloc got from the OS. A pointer outside
 * the pool region and outside those pages is not ours - typically glibc's,
 * from before we were loaded or from a RTLD_DEEPBIND library - and goes back
 * to glibc instead of crashing inside jemalloc. The page map is two levels:
 * 1 GiB of address space per leaf bitmap of 4 KiB pages (32 KiB each),
 * mapped when jemalloc first maps memory in that gigabyte.
 *
 * Under an address-space limit (RLIMIT_AS). jemalloc serves every block the
 * pools do not, at every size and under every limit; poolgc only decides
 * where jemalloc's mappings go, so that a program gets what glibc gives it:
 * the largest block, the blocks left after a failure, a buffer doubled by
 * realloc up to half the limit. Two costs of jemalloc 5.3 set the rules:
 * - Its radix tree takes a 2 MiB leaf for each gigabyte of address space in
 *   which it has extents (in a 4 MiB or larger base block). Under 400 MiB
 *   the largest block glibc gives is 397 MiB, jemalloc's nearest class 384
 *   (four per doubling), which fits only while everything else takes less
 *   than 16 MiB: with the kernel placing its extents, one more leaf half of
 *   the time, and 320 MiB. So its mappings go to its home: the far zone's
 *   first gigabyte (os.c), from the top down, where the page map shows free
 *   pages (home_map); up to 32 MiB each, larger ones where the kernel puts
 *   them.
 * - A copy. jemalloc grows a large block in place from extents after it it
 *   already has (large_ralloc_no_move -> pa_expand -> pac_expand_impl), or
 *   moves it, holding the old and the new block at once (1.5 times the new
 *   size; glibc's mremap never does). What else it does depends on
 *   opt.retain, fixed when it starts:
 *   - retain:false (it started under a limit: CONF below): it asks its
 *     extent alloc hook for the pages right after the block (new_addr), an
 *     mmap hint there, which pgc__je_mmap makes exact (MAP_FIXED_NOREPLACE).
 *     A mapping of an eighth of the limit or more goes to a slot of the far
 *     zone (from its base, the limit apart, os.c), with the room after it
 *     free: such a block grows in place up to the whole limit, in any arena,
 *     with jemalloc's own hooks. The first slots share the home's leaf.
 *   - retain:true (the default: it started before the program set the
 *     limit): it keeps every extent it has mapped as address space, which
 *     counts toward the limit, and grows a block only into such retained
 *     space. At the first big request (PGC_BIG_MIN, 1 MiB, and more) under
 *     a limit, arena 0 gets poolgc's extent hooks and big requests go
 *     there (big_flags): retained space is kept unmapped (commit maps
 *     pages, decommit unmaps them), a freed extent is unmapped (or, in the
 *     far range, decommitted and kept), and the arena gets one retained
 *     range at the far zone's base: twice the limit (at most 512 MiB while
 *     the limit is under 768 MiB: within the home's gigabyte), made by a
 *     request it cannot commit, which jemalloc keeps as retained. Blocks
 *     are carved from it and grow in place into it. Arena 0 rather than an
 *     arena of its own: that would take a base block of 2 MiB (of the 16),
 *     and arena 0's is jemalloc's first. A big request made before the
 *     limit was known (it is read again at a refused mapping) is refused
 *     at the mapping that finds it (big_blind), and asked again there.
 * The blocks are jemalloc's either way: its size classes, extents, realloc,
 * purging and reuse. The hooks and the placement are the layer that maps
 * pages; poolgc has no allocator of large blocks of its own (huge blocks as
 * glibc's, mappings grown with mremap, would be one). Under ulimit -v
 * 409600 and with setrlimit to the same in the program, against glibc in
 * the same run (tests/stress/limit_*.sh): largest block 383 MiB (glibc
 * 397), 1 MiB blocks after a failed request 384 (396), doubling realloc
 * 256 (256), and 256 (256) at 300 MiB too, where a copy would stop at 128.
 * Under other limits the largest block is the class below what glibc
 * gives: 255 MiB at 300 (glibc 297), 895 at 1 GiB (1021).
 *
 * Shared build (--with-jemalloc=shared): libjemalloc.so.2 is linked as is,
 * and every pointer outside the pool region is taken to be jemalloc's.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "debug.h"
#include "internal.h"
#include "prof.h"

#define MALLOCX_LG_ALIGN(la) ((int)(la))
#define MALLOCX_ZERO ((int)0x40)
#define JEMALLOC_SLAB_MAX ((size_t)14336) /* largest small class, 4 KiB pages */
#define PGC_BIG_MIN ((size_t)1 << 20)     /* big blocks: arena 0's, under a limit (see top) */

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000 /* Linux 4.17; older kernels take it as a hint */
#endif

#ifdef POOLGC_JEMALLOC_EMBEDDED
#define JE(name) pgc__je_##name
#else
#define JE(name) name
#endif

void *JE(mallocx)(size_t size, int flags);
void *JE(malloc)(size_t size);
void JE(free)(void *ptr);
void *JE(rallocx)(void *ptr, size_t size, int flags);
size_t JE(sallocx)(const void *ptr, int flags);
void JE(dallocx)(void *ptr, int flags);
int JE(mallctl)(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);
int JE(mallctlnametomib)(const char *name, size_t *mibp, size_t *miblenp);
int JE(mallctlbymib)(const size_t *mib, size_t miblen, void *oldp, size_t *oldlenp, void *newp,
                     size_t newlen);

/* glibc's own allocator, for pointers that are not ours. */
extern void __libc_free(void *);
extern void *__libc_realloc(void *, size_t);

#ifdef POOLGC_JEMALLOC_EMBEDDED
/* How the embedded jemalloc is tuned for its role (see poolgc(3)). It
 * serves only what the pools do not (above the medium limit, 64 KiB; the
 * figures below were measured when it was 8 KiB), so few requests, larger
 * ones. Figures: 2-core machine, peers in the same run.
 * - dss:disabled: never touch brk, which programs and glibc own;
 * - dirty_decay_ms:-1: jemalloc itself never purges freed pages by time.
 *   With decay on (any time from 1 s to 5 min), churn of 5-25 MiB blocks
 *   faulted in every page of every block, 10x slower than glibc: a freed
 *   extent of one size is not coalesced to serve the next size, and decay
 *   purges it before it fits. The bound on freed pages below
 *   (large_freed) purges instead, when a block is freed, and purge_if_due
 *   purges all freed pages at most once a second while the program calls.
 * - oversize_threshold:33554432 (HUGE_MIN): blocks of 32 MiB and more go to
 *   jemalloc's huge arena, which purges them when they are freed (its
 *   dirty_decay_ms set to 0: huge_decay_zero), as glibc unmaps a block
 *   above its mmap threshold (32 MiB at most); and so does a block of 1 MiB
 *   or more larger than every block freed so far (huge_flags), as glibc's
 *   threshold rises to the size of the blocks freed. A buffer grown to
 *   512 MiB by malloc, copy and free (bench/huge.c shape=1) ended with
 *   1050 MiB resident without this, 559 with it (glibc 526, jemalloc 535);
 *   its peak was 1026 MiB, now 790 (glibc 769); grown by 8 steps per
 *   doubling, 3594 MiB peak and 10 s before, now 996 MiB and 3 s (glibc
 *   970, 2.8 s). (Debian's jemalloc has the huge arena from 8 MiB and
 *   purges everything in it at once: 5-25 MiB churn then page-faults every
 *   page, 7 s where glibc takes 1 s; here 0.24 s.)
 * - tcache:false: a thread gets its thread cache at its TCACHE_AFTER-th
 *   request (count_request), not at its first: jemalloc destroys a thread's
 *   cache when the thread exits and then, when no thread is left bound to
 *   the thread's arena, purges every freed page of that arena
 *   (tcache_destroy). Threads started and ended in rounds (bench/spawn.c)
 *   took 3.5 s and 1.4 million page faults, now 0.94 s and 13 thousand
 *   (mimalloc 1.01 s, tcmalloc 0.93 s); mstress 0.18 s, 29 thousand
 *   faults, now 0.10 s, 2.8 thousand (mimalloc 0.11 s, 3.6 thousand).
 *   Without a cache for any thread, jemalloc's blocks of 8-128 KiB cost
 *   twice the time (bench/medium.c at 8-128 KiB, 2 threads: 0.81 s, with
 *   caches 0.38 s).
 * - tcache_max:131072: thread caches keep blocks up to 128 KiB (32 KiB by
 *   default); small ones never reach jemalloc here, and the mixed-size
 *   benchmark (up to 1 MiB) ran in 0.35 s instead of 0.50 s for 1 MB more.
 * - narenas:<online CPUs> (choose_conf; jemalloc's default is 4 per CPU,
 *   for small requests, which the pools take here): the memory threads
 *   free is shared by fewer arenas. Thread rounds (spawn, 2 CPUs) peaked at
 *   67 MiB with 8 arenas, 52 with 2 (1 arena: 42 MiB but 20% slower, and
 *   blocks of 8-128 KiB in 2 threads 0.51 s instead of 0.29).
 * - retain:false, only when jemalloc starts under an address-space limit
 *   (RLIMIT_AS): freed extents are unmapped when purged, not kept as address
 *   space, and extents are mapped at their size, not in growing chunks.
 *   Under ulimit -v 409600, after 300 MiB of 256 KiB blocks were freed, the
 *   largest block was 48 MiB with retain, 381 without (glibc: 397); without
 *   a limit, retain:false cost the mixed-size benchmark 20% (274 mmaps
 *   instead of 33) and 15% more memory. (See the top of this file for
 *   what poolgc does under a limit either way.)
 * MALLOC_CONF still applies on top of this. */
#define CONF                                                                                       \
    "dss:disabled,oversize_threshold:33554432,dirty_decay_ms:-1,muzzy_decay_ms:0,tcache:false,"    \
    "tcache_max:131072"
const char *pgc__je_malloc_conf = CONF;

/* jemalloc reads pgc__je_malloc_conf once, when it starts: called before
 * each request until then. */
static PGC_COLD void choose_conf(void) {
    static char conf[sizeof CONF ",narenas:4294967295,retain:false"];
    size_t n = sizeof CONF - 1;
    memcpy(conf, CONF, n);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus > 0) { /* ",narenas:<cpus>", without stdio */
        char digits[12] = {0};
        int k = 0;
        unsigned long c = (unsigned long)cpus;
        do
            digits[k++] = (char)('0' + c % 10);
        while ((c /= 10) && k < 10);
        memcpy(conf + n, ",narenas:", 9);
        n += 9;
        while (k)
            conf[n++] = digits[--k];
    }
    struct rlimit lim;
    if (getrlimit(RLIMIT_AS, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) {
        memcpy(conf + n, ",retain:false", 13);
        n += 13;
    }
    conf[n] = 0;
    pgc__je_malloc_conf = conf;
}

/* ---- which pages are jemalloc's ----------------------------------------- */

#define ADDRESS_BITS 47
#define LEAF_SHIFT 30 /* 1 GiB per leaf */
#define TOP_ENTRIES ((size_t)1 << (ADDRESS_BITS - LEAF_SHIFT))
#define LEAF_PAGES ((size_t)1 << (LEAF_SHIFT - 12)) /* bits per leaf */

typedef _Atomic uint64_t leaf_word;
static _Atomic(leaf_word *) *_Atomic page_top; /* TOP_ENTRIES leaves, mapped at first use */

static leaf_word *leaf_for(uintptr_t addr, int create) {
    if (!page_top) {
        if (!create)
            return NULL;
        void *m =
            pgc__os_map(NULL, TOP_ENTRIES * sizeof(void *), PROT_READ | PROT_WRITE, MAP_NORESERVE);
        if (m == MAP_FAILED)
            return NULL;
        _Atomic(leaf_word *) *expected = NULL;
        if (!atomic_compare_exchange_strong(&page_top, &expected, m))
            pgc__os_unmap(m, TOP_ENTRIES * sizeof(void *));
    }
    _Atomic(leaf_word *) *slot = &page_top[addr >> LEAF_SHIFT];
    leaf_word *leaf = atomic_load_explicit(slot, memory_order_acquire);
    if (!leaf && create) {
        void *m = pgc__os_map(NULL, LEAF_PAGES / 8, PROT_READ | PROT_WRITE, 0);
        if (m == MAP_FAILED)
            return NULL;
        leaf_word *expected = NULL;
        if (atomic_compare_exchange_strong(slot, &expected, (leaf_word *)m)) {
            leaf = m;
        } else {
            pgc__os_unmap(m, LEAF_PAGES / 8);
            leaf = expected;
        }
    }
    return leaf;
}

/* Set or clear the bits of the pages in [addr, addr + len). Setting
 * returns -1 when a leaf could not be mapped (some bits may be set). */
static int mark_pages(uintptr_t addr, size_t len, int owned) {
    int ok = 0;
    uintptr_t end = addr + len;
    while (addr < end) {
        uintptr_t leaf_end = (addr | (((uintptr_t)1 << LEAF_SHIFT) - 1)) + 1;
        uintptr_t stop = end < leaf_end ? end : leaf_end;
        leaf_word *leaf = leaf_for(addr, owned);
        if (leaf) {
            size_t first = (addr >> 12) & (LEAF_PAGES - 1);
            size_t last = ((stop - 1) >> 12) & (LEAF_PAGES - 1);
            for (size_t page = first; page <= last;) {
                size_t bit = page & 63, n = last - page + 1;
                uint64_t mask =
                    n >= 64 - bit ? ~(uint64_t)0 << bit : (((uint64_t)1 << n) - 1) << bit;
                if (owned)
                    atomic_fetch_or_explicit(&leaf[page >> 6], mask, memory_order_release);
                else
                    atomic_fetch_and_explicit(&leaf[page >> 6], ~mask, memory_order_release);
                page += 64 - bit;
            }
        } else if (owned) {
            ok = -1;
        }
        addr = stop;
    }
    return ok;
}

/* On every large free: two dependent loads and a bit test. */
static inline int jemalloc_owns(const void *p) {
    uintptr_t addr = (uintptr_t)p;
    _Atomic(leaf_word *) *top = atomic_load_explicit(&page_top, memory_order_acquire);
    if (pgc_unlikely(!top || (addr >> ADDRESS_BITS)))
        return 0;
    leaf_word *leaf = atomic_load_explicit(&top[addr >> LEAF_SHIFT], memory_order_acquire);
    if (pgc_unlikely(!leaf))
        return 0;
    size_t page = (addr >> 12) & (LEAF_PAGES - 1);
    return (atomic_load_explicit(&leaf[page >> 6], memory_order_relaxed) >> (page & 63)) & 1;
}

/* ---- jemalloc's home: the far zone's first gigabyte -------------------- */

#define HOME_SIZE ((uintptr_t)1 << 30)  /* a leaf of the page map and of jemalloc's tree */
#define HOME_MAP_MAX ((size_t)32 << 20) /* larger mappings go where the kernel puts them */
#define HOME_TRIES 4                    /* places tried that turn out taken, at most */

/* The highest run of n clear bits of leaf in [low, top) that starts at a
 * multiple of align: 1 and its first bit, or 0. A word at a time where a
 * word is all clear or all set. */
static int home_find(leaf_word *leaf, size_t low, size_t top, size_t n, size_t align,
                     size_t *first) {
    size_t run = 0; /* clear bits in [p, p + run) */
    for (size_t p = top; p > low;) {
        size_t w = (p - 1) >> 6;
        uint64_t word = atomic_load_explicit(&leaf[w], memory_order_relaxed);
        if (p == (w + 1) << 6 && w << 6 >= low && (word == 0 || word == ~(uint64_t)0)) {
            run = word ? 0 : run + 64;
            p -= 64;
        } else {
            p--;
            run = (word >> (p & 63)) & 1 ? 0 : run + 1;
        }
        if (run >= n) {
            size_t f = (p + run - n) & ~(align - 1);
            if (f >= p) {
                *first = f;
                return 1;
            }
        }
    }
    return 0;
}

/* Map len bytes for jemalloc in its home, as high in it as they fit between
 * its pages (which the page map knows) and above arena 0's far range, 2 MiB
 * aligned when len is a multiple of that (jemalloc's base blocks); else
 * where the kernel chooses. */
static void *home_map(size_t len, int prot, int flags) {
    uintptr_t home = len <= HOME_MAP_MAX ? pgc__os_far_base() : 0;
    leaf_word *leaf = home ? leaf_for(home, 1) : NULL;
    if (leaf) {
        uintptr_t ranged = pgc__os_far_ranged_end();
        size_t low = ranged > home ? (ranged - home + PGC_PAGE_SIZE - 1) >> 12 : 0;
        size_t n = len >> 12, align = len % ((size_t)2 << 20) ? 1 : ((size_t)2 << 20) >> 12;
        size_t top = HOME_SIZE >> 12, first;
        for (int tries = 0; tries < HOME_TRIES && home_find(leaf, low, top, n, align, &first);
             tries++) {
            int saved = errno;
            void *p =
                pgc__os_map((void *)(home + (first << 12)), len, prot, flags | MAP_FIXED_NOREPLACE);
            if (p != MAP_FAILED || errno != EEXIST)
                return p; /* there (or where a kernel without the flag put it), or no room */
            errno = saved;
            top = first + n - 1; /* something not jemalloc's is there: lower */
        }
    }
    return pgc__os_map(NULL, len, prot, flags);
}

static int jemalloc_retains; /* opt.retain, read when jemalloc started */

/* Set while this thread asks jemalloc's own arenas for a block of
 * PGC_BIG_MIN bytes or more with no limit known, jemalloc retaining. */
static __thread int big_blind;

/* jemalloc's mmap and munmap (renamed to these at build time). jemalloc
 * maps only anonymous memory (fd -1). pgc__os_map retries a mapping refused
 * for want of address space once the pool region has given some back.
 * jemalloc gives an address only to grow an extent in place (or, with
 * MAP_FIXED, to change its protection), and takes the answer only if it is
 * that address: the hint is made exact, so nothing is mapped elsewhere just
 * to be unmapped. The others go to jemalloc's home, or (big ones, under a
 * limit, when jemalloc does not retain) to a slot of the far zone: see the
 * top of this file. */
void *pgc__je_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
void *pgc__je_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
    (void)fd, (void)off; /* always -1 and 0 */
    size_t limit = pgc__os_as_limit();
    void *p = NULL;
    if (addr)
        p = pgc__os_map(addr, len, prot, flags | (flags & MAP_FIXED ? 0 : MAP_FIXED_NOREPLACE));
    else if (len >= PGC_BIG_MIN && limit != SIZE_MAX && !jemalloc_retains)
        p = pgc__os_map_far(len, prot, flags);
    if (!p)
        p = home_map(len, prot, flags);
    if (p == MAP_FAILED)
        return p;
    if (pgc_unlikely(big_blind) && len >= PGC_BIG_MIN && pgc__os_as_limit() != SIZE_MAX) {
        /* A mapping found a limit, set since jemalloc started (it failed
         * once). A big block where jemalloc would put it would leave address
         * space retained there for good: refused, and the request is asked
         * again of arena 0 and its hooks (pgc__large_malloc's retry). */
        pgc__os_unmap(p, len);
        errno = ENOMEM;
        return MAP_FAILED;
    }
    if (mark_pages((uintptr_t)p, len, 1) != 0) {
        /* Pages not marked would pass for glibc's: refuse the mapping. */
        mark_pages((uintptr_t)p, len, 0);
        pgc__os_unmap(p, len);
        errno = ENOMEM;
        p = MAP_FAILED;
    }
    return p;
}

int pgc__je_munmap(void *addr, size_t len);
int pgc__je_munmap(void *addr, size_t len) {
    mark_pages((uintptr_t)addr, len, 0);
    return pgc__os_unmap(addr, len);
}

/* ---- arena 0 under a limit set after jemalloc started ------------------- */

/* jemalloc 5.3's extent hooks (jemalloc_typedefs.h). */
typedef struct extent_hooks_s extent_hooks_t;
struct extent_hooks_s {
    void *(*alloc)(extent_hooks_t *, void *, size_t, size_t, bool *, bool *, unsigned);
    bool (*dalloc)(extent_hooks_t *, void *, size_t, bool, unsigned);
    void (*destroy)(extent_hooks_t *, void *, size_t, bool, unsigned);
    bool (*commit)(extent_hooks_t *, void *, size_t, size_t, size_t, unsigned);
    bool (*decommit)(extent_hooks_t *, void *, size_t, size_t, size_t, unsigned);
    bool (*purge_lazy)(extent_hooks_t *, void *, size_t, size_t, size_t, unsigned);
    bool (*purge_forced)(extent_hooks_t *, void *, size_t, size_t, size_t, unsigned);
    bool (*split)(extent_hooks_t *, void *, size_t, size_t, size_t, bool, unsigned);
    bool (*merge)(extent_hooks_t *, void *, size_t, void *, size_t, bool, unsigned);
};

#define MALLOCX_ARENA(a) ((int)(((unsigned)(a) + 1) << 20))
#define MALLOCX_TCACHE_NONE ((int)1 << 8)
#define BIG_FLAGS (MALLOCX_ARENA(0) | MALLOCX_TCACHE_NONE)
#define FAR_RANGE_MAX ((size_t)1 << 40) /* arena 0's far range at most */

static _Atomic int hooks_state;  /* arena 0's hooks: 0 jemalloc's, 1 ours, -1 refused */
static __thread int far_priming; /* this thread is making the far range */
static pthread_mutex_t hooks_lock = PTHREAD_MUTEX_INITIALIZER;

/* Map len bytes as jemalloc's pages at addr exactly, or (addr NULL) in
 * jemalloc's home (os.c), aligned: the address, or NULL. More than the
 * limit fails without a system call. */
static void *hooks_map(void *addr, size_t len, size_t alignment) {
    if (len > pgc__os_as_limit())
        return NULL;
    const int prot = PROT_READ | PROT_WRITE;
    char *p = addr ? pgc__os_map(addr, len, prot, MAP_NORESERVE | MAP_FIXED_NOREPLACE)
                   : home_map(len, prot, MAP_NORESERVE);
    if (p == MAP_FAILED)
        return NULL;
    if (addr && p != addr) {
        pgc__os_unmap(p, len); /* a kernel without MAP_FIXED_NOREPLACE put it elsewhere */
        return NULL;
    }
    if ((uintptr_t)p & (alignment - 1)) { /* over-map and trim, as jemalloc does */
        size_t over = len + alignment - PGC_PAGE_SIZE;
        pgc__os_unmap(p, len);
        if (over < len || (p = pgc__os_map(NULL, over, prot, MAP_NORESERVE)) == MAP_FAILED)
            return NULL;
        size_t lead = (size_t)(-(uintptr_t)p & (alignment - 1));
        if (lead)
            pgc__os_unmap(p, lead);
        if (over - lead > len)
            pgc__os_unmap(p + lead + len, over - lead - len);
        p += lead;
    }
    if (mark_pages((uintptr_t)p, len, 1) != 0) {
        mark_pages((uintptr_t)p, len, 0);
        pgc__os_unmap(p, len);
        return NULL;
    }
    return p;
}

static void hooks_unmap(void *addr, size_t len) {
    mark_pages((uintptr_t)addr, len, 0);
    pgc__os_unmap(addr, len);
}

/* A new extent. jemalloc (retaining) asks for address space to carve
 * extents from, uncommitted: refused, so that it maps each extent alone,
 * committed, where the kernel chooses - but when it makes the far range. A
 * given address (asked only without retain) is mapped there or refused. */
static void *hooks_alloc(extent_hooks_t *hooks, void *new_addr, size_t size, size_t alignment,
                         bool *zero, bool *commit, unsigned ind) {
    (void)hooks, (void)ind;
    void *addr;
    if (!*commit)
        addr = far_priming && !new_addr ? pgc__os_far_range(size, alignment) : NULL;
    else
        addr = hooks_map(new_addr, size, alignment);
    if (addr)
        *zero = true; /* fresh pages, or none yet (committing maps fresh ones) */
    return addr;
}

/* A freed extent, purged: in the far range jemalloc keeps it (and
 * decommits it: no address space); anywhere else it is unmapped for good. */
static bool hooks_dalloc(extent_hooks_t *hooks, void *addr, size_t size, bool committed,
                         unsigned ind) {
    (void)hooks, (void)ind;
    if (pgc__os_far_ranged(addr))
        return true;
    if (committed)
        hooks_unmap(addr, size);
    return false;
}

static bool hooks_commit(extent_hooks_t *hooks, void *addr, size_t size, size_t offset,
                         size_t length, unsigned ind) {
    (void)hooks, (void)size, (void)ind;
    return hooks_map((char *)addr + offset, length, PGC_PAGE_SIZE) == NULL;
}

static bool hooks_decommit(extent_hooks_t *hooks, void *addr, size_t size, size_t offset,
                           size_t length, unsigned ind) {
    (void)hooks, (void)size, (void)ind;
    hooks_unmap((char *)addr + offset, length);
    return false;
}

static bool hooks_purge(extent_hooks_t *hooks, void *addr, size_t size, size_t offset,
                        size_t length, unsigned ind) {
    (void)hooks, (void)size, (void)ind;
    return pgc__os_advise((char *)addr + offset, length, MADV_DONTNEED) != 0;
}

static bool hooks_split(extent_hooks_t *hooks, void *addr, size_t size, size_t size_a,
                        size_t size_b, bool committed, unsigned ind) {
    (void)hooks, (void)addr, (void)size, (void)size_a, (void)size_b, (void)committed, (void)ind;
    return false; /* pages split freely */
}

/* Pages merge freely, but not across the far range's edge: each side is
 * freed its own way. */
static bool hooks_merge(extent_hooks_t *hooks, void *addr_a, size_t size_a, void *addr_b,
                        size_t size_b, bool committed, unsigned ind) {
    (void)hooks, (void)size_a, (void)size_b, (void)committed, (void)ind;
    return pgc__os_far_ranged(addr_a) != pgc__os_far_ranged(addr_b);
}

/* No destroy (arena 0 lives as long as the process), no lazy purge. */
static extent_hooks_t limit_hooks = {hooks_alloc,  hooks_dalloc,   NULL,
                                     hooks_commit, hooks_decommit, NULL,
                                     hooks_purge,  hooks_split,    hooks_merge};

/* The request that makes arena 0's far range: twice the limit, but at most
 * 512 MiB under a limit of up to 768 MiB, so that the range (its size
 * class and a page, rounded up: 640 MiB) leaves a good part of the home
 * above it, in the same leaf of jemalloc's radix tree. */
static size_t far_range_request(size_t limit) {
    const size_t cap = (size_t)512 << 20;
    if (limit <= cap / 2 * 3)
        return 2 * limit < cap ? 2 * limit : cap;
    return limit < FAR_RANGE_MAX / 2 ? 2 * limit : FAR_RANGE_MAX;
}

/* Give arena 0 poolgc's hooks and its far range, once: a request it cannot
 * commit (more than the limit), which jemalloc keeps as retained address
 * space, uncommitted, for blocks to be carved from and grow into. 1 if
 * arena 0 has the hooks. */
static PGC_COLD int hooks_install(void) {
    int state = atomic_load_explicit(&hooks_state, memory_order_acquire);
    if (state || pthread_mutex_trylock(&hooks_lock) != 0)
        return state > 0; /* (another thread is installing them: not yet) */
    if (!(state = atomic_load_explicit(&hooks_state, memory_order_acquire))) {
        int saved = errno;
        extent_hooks_t *hooks = &limit_hooks;
        state = JE(mallctl)("arena.0.extent_hooks", NULL, NULL, &hooks, sizeof hooks) ? -1 : 1;
        if (state > 0) {
            far_priming = 1;
            void *p = JE(mallocx)(far_range_request(pgc__os_as_limit()), BIG_FLAGS);
            far_priming = 0;
            if (p) { /* the request was under the limit: retained once purged */
                JE(dallocx)(p, MALLOCX_TCACHE_NONE);
                JE(mallctl)("arena.0.purge", NULL, NULL, NULL, 0);
            }
        }
        atomic_store_explicit(&hooks_state, state, memory_order_release);
        errno = saved;
    }
    pthread_mutex_unlock(&hooks_lock);
    return state > 0;
}

/* The mallocx flags that send a request of `size` bytes to arena 0 and its
 * hooks; 0: where jemalloc would put it. */
static inline int big_flags(size_t size) {
    if (pgc_likely(size < PGC_BIG_MIN) || !jemalloc_retains || pgc__os_as_limit() == SIZE_MAX ||
        !hooks_install())
        return 0;
    return BIG_FLAGS;
}

static int jemalloc_started(void) {
    return page_top != NULL;
}
#else
static int jemalloc_owns(const void *p) {
    (void)p;
    return 1;
}
static int jemalloc_started(void) {
    return 1;
}
static int big_flags(size_t size) {
    (void)size;
    return 0;
}
static void choose_conf(void) { /* libjemalloc.so.2 reads its own configuration */
}
#endif

/* Mark (or unmark: size 0) this thread's request of `size` bytes to
 * jemalloc's own arenas as blind (see pgc__je_mmap). */
static inline void big_blind_set(size_t size) {
#ifdef POOLGC_JEMALLOC_EMBEDDED
    big_blind = size >= PGC_BIG_MIN && jemalloc_retains && pgc__os_as_limit() == SIZE_MAX;
#else
    (void)size;
#endif
}

/* glibc's usable size, read from its chunk header (size field before the
 * block; bit 1 marks an mmapped chunk, whose overhead is two words). */
static size_t glibc_usable_size(const void *p) {
    size_t field = ((const size_t *)p)[-1];
    size_t chunk = field & ~(size_t)7;
    return chunk - ((field & 2) ? 2 : 1) * sizeof(size_t);
}

/* ---- the bound on freed pages ------------------------------------------ */

#ifdef POOLGC_JEMALLOC_EMBEDDED
/* jemalloc keeps the pages of freed blocks (dirty, dirty_decay_ms:-1,
 * CONF) for reuse. They are bounded when blocks are freed, deterministically
 * (no timer, no thread):
 * - The huge arena purges a block when it is freed (its dirty_decay_ms is
 *   0: set when it first gets a block, huge_decay_zero; the other arenas
 *   keep -1). It gets the blocks of HUGE_MIN bytes or more
 *   (oversize_threshold), and those of PGC_BIG_MIN or more above
 *   huge_threshold, which rises to the size of each larger block freed, up
 *   to HUGE_MIN: glibc's dynamic mmap threshold. A block of a size the
 *   program has freed before is kept for reuse (churn), a block larger
 *   than any freed so far goes back when it is freed (a buffer grown step
 *   by step, a block used once). Not under an address-space limit: the
 *   huge arena's retained address space would be lost to arena 0.
 * - Each thread counts the bytes of the blocks it frees (freed_here, from
 *   jemalloc's own count of them, free_counted); at every CHECK_BYTES of
 *   them it reads jemalloc's statistics (an epoch: it merges every arena's,
 *   about 100 thousand instructions; at every 16 MiB that was 10% of
 *   bench/mixed's, at 64 MiB 2%) and purges every arena when the dirty
 *   pages are over DIRTY_MIN and over DIRTY_MULT times the pages in use and
 *   the block just freed (a program that has freed most of what it had,
 *   as glibc trims the top of its heap); or, while the program grows (pages in use at
 *   their highest yet, and in use plus dirty up by GROWTH since the last
 *   check), when they are over DIRTY_MIN and over a DIRTY_DIV-th of the
 *   pages in use: freed blocks too small for what the program asks now.
 *   (Before the dynamic threshold, this rule alone took a buffer grown by
 *   copies, 8 steps per doubling to 512 MiB, from 741 MiB resident at the
 *   end to 559; glibc 526. It still covers blocks that grew in place.)
 *   A purge is of every freed page: churn of 5-25 MiB blocks needs two to
 *   three times its blocks in use as dirty pages to be reused without page
 *   faults (four live: 0.23 s; with a purge at twice the pages in use
 *   2.4 s; glibc 1.0 s), hence the generous DIRTY_MULT.
 * So when a free returns, jemalloc's dirty pages are within
 * max(DIRTY_MIN, DIRTY_MULT * (in use + that block)) plus CHECK_BYTES per
 * thread (tests/stress/freed_memory_bound.c). purge_if_due still purges
 * everything once a second while the program keeps calling, and
 * pgc__large_pools_grew when the pools grow past their peak while jemalloc
 * holds freed pages it no longer uses. */
#define HUGE_MIN ((size_t)32 << 20)
#define CHECK_BYTES ((size_t)64 << 20)
#define DIRTY_MIN ((size_t)64 << 20)
#define DIRTY_MULT 8
#define DIRTY_DIV 4
#define GROWTH CHECK_BYTES
static __thread size_t freed_here; /* bytes freed by this thread since its last check */
static _Atomic int huge_decay_set; /* the huge arena purges at once: 1 */
static unsigned huge_arena;        /* its index (opt.narenas), read at start-up; 0: none */
static _Atomic size_t huge_threshold = PGC_BIG_MIN; /* larger requests go there */
static _Atomic int dirty_checking;                  /* a thread is reading the statistics */
static size_t footprint_then;                       /* pages in use or dirty at the last check */
static size_t active_high;                          /* the most pages in use seen at a check */

/* "<prefix><i><suffix>" into name (32 bytes at least), without stdio. */
static const char *arena_ctl(char *name, const char *prefix, unsigned i, const char *suffix) {
    char digits[12];
    int k = 0;
    size_t n = 0;
    do
        digits[k++] = (char)('0' + i % 10);
    while (i /= 10);
    while (*prefix)
        name[n++] = *prefix++;
    while (k)
        name[n++] = digits[--k];
    while (*suffix)
        name[n++] = *suffix++;
    name[n] = 0;
    return name;
}

/* The huge arena (the first after the automatic ones) purges at once. Called
 * after a block that may be its was allocated (huge_allocated), before that
 * block can be freed; until the arena exists, again at each such block. */
static PGC_COLD void huge_decay_zero(void) {
    int expected = 0;
    if (!atomic_compare_exchange_strong(&huge_decay_set, &expected, 1))
        return;
    int saved = errno;
    ssize_t zero = 0;
    char name[40];
    if (!huge_arena)
        return; /* none (MALLOC_CONF=oversize_threshold:0): stays set */
    if (JE(mallctl)(arena_ctl(name, "arena.", huge_arena, ".dirty_decay_ms"), NULL, NULL, &zero,
                    sizeof zero) != 0)
        atomic_store(&huge_decay_set, 0); /* no huge arena yet: again at the next block */
    errno = saved;
}

static inline void huge_allocated(size_t size) {
    if (pgc_unlikely(size >= HUGE_MIN) &&
        !atomic_load_explicit(&huge_decay_set, memory_order_relaxed))
        huge_decay_zero();
}

/* The mallocx flags that send a request of `size` bytes (PGC_BIG_MIN or
 * more) to the huge arena, as glibc maps a block above its dynamic mmap
 * threshold: sizes above huge_threshold, which rises to the size of each
 * larger block freed (up to HUGE_MIN, where jemalloc sends blocks there
 * itself). A buffer grown step by step, or a block used once, goes back
 * when it is freed; blocks of sizes freed before are kept for reuse. 0:
 * where jemalloc would put it. */
static inline int huge_flags(size_t size) {
    if (!huge_arena || size >= HUGE_MIN ||
        size <= atomic_load_explicit(&huge_threshold, memory_order_relaxed))
        return 0;
    /* Not under an address-space limit, even one set since (a system call
     * per block larger than any freed before): the address space the huge
     * arena keeps (retain) would be lost to arena 0 (see the top). */
    struct rlimit lim;
    if (!jemalloc_retains || pgc__os_as_limit() != SIZE_MAX ||
        (getrlimit(RLIMIT_AS, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY))
        return 0;
    return MALLOCX_ARENA(huge_arena) | MALLOCX_TCACHE_NONE;
}

/* A block of `usable` bytes (PGC_BIG_MIN or more) was freed. */
static inline void huge_threshold_raise(size_t usable) {
    size_t t = atomic_load_explicit(&huge_threshold, memory_order_relaxed);
    while (usable > t && usable < HUGE_MIN &&
           !atomic_compare_exchange_weak_explicit(&huge_threshold, &t, usable, memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
}

/* The statistics cost: an epoch merges every arena's, about 180 thousand
 * instructions (bench/huge.c, 5-25 MiB blocks: a check every four frees,
 * 65% of the run's instructions). So a check first bounds the freed pages
 * without them: those at the last read (dirty_then) plus the bytes every
 * thread's checks counted freed since (freed_unread), with the pages in use
 * read from each arena's own counter (experimental.arenas.<i>.pactivep, a
 * pointer read once per arena). Only when the rule could hold at that bound
 * are the statistics read. The bound is the one the rule always had: the
 * frees other threads have not yet counted, under CHECK_BYTES each. */
#define ACTIVE_ARENAS_MAX 256
static _Atomic size_t freed_unread;             /* bytes checks counted since the last read */
static size_t dirty_then;                       /* freed pages at the last read (0 after a purge) */
static size_t *arena_active[ACTIVE_ARENAS_MAX]; /* arena i's pages in use, once it exists */
static size_t active_mib[4], active_miblen;     /* experimental.arenas.<i>.pactivep */

/* jemalloc's pages in use and freed, every arena's merged (an epoch first).
 * 0: no statistics. Called by the thread that set dirty_checking. */
static int stats_read(size_t *active, size_t *dirty) {
    size_t counted = atomic_load_explicit(&freed_unread, memory_order_relaxed);
    uint64_t epoch = 1;
    size_t len = sizeof *dirty;
    JE(mallctl)("epoch", &epoch, &(size_t){sizeof epoch}, &epoch, sizeof epoch);
    /* 4096: MALLCTL_ARENAS_ALL, every arena merged; in pages */
    if (JE(mallctl)("stats.arenas.4096.pdirty", dirty, &len, NULL, 0) != 0 ||
        JE(mallctl)("stats.arenas.4096.pactive", active, &len, NULL, 0) != 0)
        return 0;
    atomic_fetch_sub_explicit(&freed_unread, counted, memory_order_relaxed);
    dirty_then = *dirty;
    return 1;
}

/* jemalloc's pages in use, summed from each arena's counter, without an
 * epoch: arenas 0 .. huge_arena (poolgc creates no others). 0: unknown (no
 * huge arena, or more arenas than ACTIVE_ARENAS_MAX). By the thread that
 * set dirty_checking. */
static int active_read(size_t *active) {
    unsigned arenas = huge_arena + 1;
    if (!huge_arena || arenas > ACTIVE_ARENAS_MAX)
        return 0;
    if (!active_miblen) {
        size_t n = 4;
        if (JE(mallctlnametomib)("experimental.arenas.0.pactivep", active_mib, &n) != 0)
            return 0;
        active_miblen = n;
    }
    size_t sum = 0;
    for (unsigned i = 0; i < arenas; i++) {
        if (!arena_active[i]) {
            size_t *p = NULL, len = sizeof p;
            active_mib[2] = i;
            if (JE(mallctlbymib)(active_mib, active_miblen, &p, &len, NULL, 0) != 0 || !p)
                continue; /* not created yet: no pages */
            arena_active[i] = p;
        }
        sum += __atomic_load_n(arena_active[i], __ATOMIC_RELAXED);
    }
    *active = sum;
    return 1;
}

/* The rule above: 1 when jemalloc's freed pages (`dirty`) should go back,
 * with `active` pages in use and a block of `freed` bytes just freed. Only
 * ever truer for more freed pages, so a bound on them may be tested. */
static int purge_due(size_t active, size_t dirty, size_t freed) {
    size_t min = DIRTY_MIN / PGC_PAGE_SIZE;
    size_t held = active + freed / PGC_PAGE_SIZE; /* the block freed may be replaced */
    int grew = active + dirty > footprint_then + GROWTH / PGC_PAGE_SIZE && active > active_high;
    return dirty > min && (dirty > held * DIRTY_MULT || (grew && dirty > active / DIRTY_DIV));
}

static PGC_NOINLINE void dirty_check(size_t freed) {
    atomic_fetch_add_explicit(&freed_unread, freed_here, memory_order_relaxed);
    freed_here = 0;
    int expected = 0;
    if (!atomic_compare_exchange_strong(&dirty_checking, &expected, 1))
        return; /* another thread checks */
    int saved = errno;
    size_t dirty = 0, active = 0;
    size_t unread = atomic_load_explicit(&freed_unread, memory_order_relaxed) / PGC_PAGE_SIZE;
    if (active_read(&active) && !purge_due(active, dirty_then + unread, freed)) {
        if (active > active_high)
            active_high = active;
    } else if (stats_read(&active, &dirty)) {
        size_t footprint = active + dirty;
        if (purge_due(active, dirty, freed)) {
            JE(mallctl)("arena.4096.purge", NULL, NULL, NULL, 0);
            footprint = active;
            dirty_then = 0;
        }
        footprint_then = footprint;
        if (active > active_high)
            active_high = active;
    }
    errno = saved;
    atomic_store(&dirty_checking, 0);
}

/* jemalloc's count of the bytes this thread freed (thread.deallocatedp, kept
 * for its own statistics): the size of a block freed is the count's step,
 * without a size lookup (sallocx: 45 instructions a free). NULL until the
 * thread's first large free, or when jemalloc keeps no statistics. */
static __thread const uint64_t *deallocated;
static __thread int deallocated_asked;

static PGC_NOINLINE PGC_COLD const uint64_t *deallocated_counter(void) {
    uint64_t *p = NULL;
    size_t len = sizeof p;
    deallocated_asked = 1;
    if (JE(mallctl)("thread.deallocatedp", &p, &len, NULL, 0) == 0)
        deallocated = p;
    return deallocated;
}

/* Free jemalloc's block p; returns its usable size. */
static inline size_t free_counted(void *p) {
    const uint64_t *count = deallocated;
    if (pgc_unlikely(!count) && (deallocated_asked || !(count = deallocated_counter()))) {
        size_t usable = JE(sallocx)(p, 0);
        JE(free)(p);
        return usable;
    }
    uint64_t before = *count;
    JE(free)(p); /* the fast path dallocx lacks */
    return (size_t)(*count - before);
}

/* Set by every block given back to jemalloc, cleared by each look of
 * pgc__large_pools_grew: its statistics (an epoch, about 180 thousand
 * instructions) are read only when a free since the last look may have
 * added freed pages. */
static _Atomic int freed_since_look;

/* This thread gave jemalloc back a block (or part of one) of `size` bytes. */
static inline void large_freed(size_t size) {
    if (!atomic_load_explicit(&freed_since_look, memory_order_relaxed))
        atomic_store_explicit(&freed_since_look, 1, memory_order_relaxed);
    if (pgc_unlikely((freed_here += size) >= CHECK_BYTES))
        dirty_check(size);
}
#endif

/* ---- requests the OS could never satisfy -------------------------------- */

/* Under overcommit mode 0, glibc's malloc of more than RAM + swap fails with
 * ENOMEM; jemalloc maps with MAP_NORESERVE and would succeed. Keep glibc's
 * answer. Read lazily, only for requests of a gigabyte or more. */
static int larger_than_memory(size_t size) {
    static size_t limit; /* 0: unknown; SIZE_MAX: no limit */
    if (size < ((size_t)1 << 30))
        return 0;
    if (!limit) {
        size_t l = SIZE_MAX;
        char mode = '0';
        int fd = open("/proc/sys/vm/overcommit_memory", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            if (read(fd, &mode, 1) != 1)
                mode = '0';
            close(fd);
        }
        struct sysinfo si;
        if (mode == '0' && sysinfo(&si) == 0)
            l = ((size_t)si.totalram + (size_t)si.totalswap) * si.mem_unit;
        limit = l;
    }
    return size > limit;
}

/* jemalloc refused a request: give back what holds address space but no
 * data - the pool region's never-carved tail, jemalloc's freed pages (which
 * it unmaps: retain:false) - so that a retry may fit under an address-space
 * limit (RLIMIT_AS). Returns 1: worth one retry. */
static PGC_COLD int give_back_address_space(void) {
    int saved = errno;
    int gave = pgc__region_shrink();
    if (jemalloc_started()) {
        JE(mallctl)("arena.4096.purge", NULL, NULL, NULL, 0); /* 4096: MALLCTL_ARENAS_ALL */
        gave = 1;
    }
    errno = saved;
    return gave;
}

/* A thread gets a jemalloc thread cache (tcache) at its TCACHE_AFTER-th
 * request, not at its first (CONF: tcache:false). jemalloc destroys a
 * thread's cache when the thread exits, and then, when no other thread is
 * bound to the thread's arena, purges every freed page of that arena
 * (tcache_destroy): a program that starts short-lived threads (a thread per
 * connection, mimalloc-bench's mstress) page-faulted in every large block
 * again after each wave of threads. A thread that makes few requests gains
 * little from a cache; one that makes many keeps its cache. */
#ifdef POOLGC_JEMALLOC_EMBEDDED
#define TCACHE_AFTER 1024
static __thread unsigned large_requests; /* this thread's, up to TCACHE_AFTER */

static PGC_NOINLINE PGC_COLD void tcache_enable(void) {
    int saved = errno;
    bool on = true;
    JE(mallctl)("thread.tcache.enabled", NULL, NULL, &on, sizeof on);
    errno = saved;
}

static inline void count_request(void) {
    if (pgc_unlikely(large_requests < TCACHE_AFTER) && ++large_requests == TCACHE_AFTER)
        tcache_enable();
}
#else
static inline void count_request(void) {}
#endif

/* malloc's large path: once jemalloc has started (it clobbers errno only
 * then), a request below PGC_BIG_MIN goes straight to its malloc; one it
 * refuses (setting errno, put back here) goes the long way, which retries. */
void *pgc__large_malloc_plain(size_t size) {
    if (pgc_debug_takes())
        return pgc__debug_malloc(size); /* POOLGC_DEBUG (debug.h) */
#ifdef POOLGC_JEMALLOC_EMBEDDED
    if (pgc_likely(size < PGC_BIG_MIN && atomic_load_explicit(&page_top, memory_order_relaxed))) {
        int *err = &errno, saved = *err;
        count_request();
        void *p = JE(malloc)(size);
        if (pgc_likely(p != NULL)) {
            pgc_prof_on_large_malloc(p, size);
            return p;
        }
        *err = saved;
    }
#endif
    return pgc__large_malloc(size, 0, 0);
}

static inline void *jemalloc_alloc(size_t size, size_t alignment, int zero) {
#ifdef POOLGC_JEMALLOC_EMBEDDED
    /* jemalloc 5.3's malloc has a fast path that mallocx lacks (20% of the
     * mixed-size benchmark). Its classes from 16 bytes up are 16-aligned. */
    if (alignment <= PGC_ALIGNMENT && !zero && size >= PGC_ALIGNMENT)
        return JE(malloc)(size);
#endif
    /* 16-byte alignment at every size, as glibc gives (jemalloc's smallest
     * classes are 8-aligned; reached when the region is full). */
    if (alignment < PGC_ALIGNMENT)
        alignment = PGC_ALIGNMENT;
    int flags = MALLOCX_LG_ALIGN(__builtin_ctzl(alignment)) | (zero ? MALLOCX_ZERO : 0);
    return JE(mallocx)(size ? size : 1, flags);
}

/* jemalloc's first request starts it. jemalloc 5.3 does not survive a
 * mapping that fails meanwhile (pages_boot writes to a page it did not get;
 * a0 is used unchecked), so fault injection leaves those mappings alone. */
static _Atomic int jemalloc_booted;
/* Held while jemalloc starts, and by fork (init.c): jemalloc registers its
 * own fork handlers in the middle of its start-up, so a child forked before
 * that would find jemalloc's start-up lock held for ever. */
static pthread_mutex_t boot_lock = PTHREAD_MUTEX_INITIALIZER;

/* jemalloc's fork handlers. The embedded jemalloc registers them with
 * pthread_atfork while it starts, holding the boot lock; jemalloc-embed.sh
 * routes that call here, and init.c's handlers run them after every lock of
 * poolgc's, the boot lock included (and first in the parent and the child).
 * Registered with glibc, which runs the prepare handlers last registered
 * first, they ran before poolgc's: fork took jemalloc's locks, then waited
 * for the boot lock, held by the thread starting jemalloc, which waited for
 * jemalloc's locks (tests/stress/fork_jemalloc_boot hung in 2 runs of 3,
 * tests/stress/fork_threaded now and then). The shared build's jemalloc
 * registers its own, at load time, before poolgc's: these stay NULL. */
static void (*_Atomic jemalloc_fork_prepare)(void);
static void (*_Atomic jemalloc_fork_parent)(void);
static void (*_Atomic jemalloc_fork_child)(void);

int pgc__je_pthread_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void));
int pgc__je_pthread_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void)) {
    atomic_store(&jemalloc_fork_parent, parent);
    atomic_store(&jemalloc_fork_child, child);
    atomic_store(&jemalloc_fork_prepare, prepare);
    return 0;
}

static void run_handler(void (*_Atomic *handler)(void)) {
    void (*h)(void) = atomic_load(handler);
    if (h)
        h();
}
void pgc__large_jemalloc_fork_prepare(void) {
    run_handler(&jemalloc_fork_prepare);
}
void pgc__large_jemalloc_fork_parent(void) {
    run_handler(&jemalloc_fork_parent);
}
void pgc__large_jemalloc_fork_child(void) {
    run_handler(&jemalloc_fork_child);
}

void pgc__large_fork_prepare(void) {
    pthread_mutex_lock(&boot_lock);
}
void pgc__large_fork_parent(void) {
    pthread_mutex_unlock(&boot_lock);
}
void pgc__large_fork_child(void) {
    pthread_mutex_init(&boot_lock, NULL);
#ifdef POOLGC_JEMALLOC_EMBEDDED
    atomic_store(&dirty_checking, 0); /* a thread fork stopped mid-check is gone */
#endif
}

static PGC_COLD void *jemalloc_boot(size_t size, size_t alignment, int zero) {
    pthread_mutex_lock(&boot_lock);
    choose_conf();
    pgc__os_fault_hold(1);
    void *p = jemalloc_alloc(size, alignment, zero);
    pgc__os_fault_hold(-1);
#ifdef POOLGC_JEMALLOC_EMBEDDED
    bool retain = false;
    size_t len = sizeof retain, oversize = 0;
    unsigned narenas = 0;
    if (p && JE(mallctl)("opt.retain", &retain, &len, NULL, 0) == 0)
        jemalloc_retains = retain;
    len = sizeof oversize;
    if (p && JE(mallctl)("opt.oversize_threshold", &oversize, &len, NULL, 0) == 0 && oversize &&
        JE(mallctl)("opt.narenas", &narenas, &(size_t){sizeof narenas}, NULL, 0) == 0)
        huge_arena = narenas; /* the first arena after the automatic ones */
#endif
    if (p)
        atomic_store_explicit(&jemalloc_booted, 1, memory_order_release);
    pthread_mutex_unlock(&boot_lock);
    return p;
}

/* A request to jemalloc: to arena 0 and its hooks when big_flags says so,
 * else where jemalloc puts it. */
static void *large_alloc(size_t size, size_t alignment, int zero) {
    count_request();
    if (pgc_likely(size < PGC_BIG_MIN))
        return jemalloc_alloc(size, alignment, zero);
    int flags = big_flags(size);
    if (flags != 0) {
        if (alignment < PGC_ALIGNMENT)
            alignment = PGC_ALIGNMENT;
        flags |= MALLOCX_LG_ALIGN(__builtin_ctzl(alignment)) | (zero ? MALLOCX_ZERO : 0);
        return JE(mallocx)(size, flags);
    }
    big_blind_set(size);
    void *p;
#ifdef POOLGC_JEMALLOC_EMBEDDED
    if ((flags = huge_flags(size)) != 0) {
        if (alignment < PGC_ALIGNMENT)
            alignment = PGC_ALIGNMENT;
        flags |= MALLOCX_LG_ALIGN(__builtin_ctzl(alignment)) | (zero ? MALLOCX_ZERO : 0);
        p = JE(mallocx)(size, flags);
        if (p && !atomic_load_explicit(&huge_decay_set, memory_order_relaxed))
            huge_decay_zero();
    } else
#endif
        p = jemalloc_alloc(size, alignment, zero);
    big_blind_set(0);
    return p;
}

void *pgc__large_malloc(size_t size, size_t alignment, int zero) {
    /* What glibc refuses with ENOMEM: a block and its alignment padding
     * (glibc asks for size + alignment) past PTRDIFF_MAX, or past RAM + swap. */
    size_t need;
    if (pgc_unlikely(__builtin_add_overflow(size, alignment, &need) || need > PTRDIFF_MAX ||
                     larger_than_memory(need))) {
        errno = ENOMEM;
        return NULL;
    }
    if (pgc_unlikely(pgc__valgrind_aside))
        return pgc__valgrind_malloc(size, alignment, zero);
    /* Success leaves errno alone: jemalloc's start-up clobbers it. */
    int *err = &errno, saved = *err;
    void *p = NULL;
    if (pgc_unlikely(!atomic_load_explicit(&jemalloc_booted, memory_order_acquire)))
        p = jemalloc_boot(size, alignment, zero);
    if (!p)
        p = large_alloc(size, alignment, zero);
    if (pgc_unlikely(p == NULL) && give_back_address_space())
        p = large_alloc(size, alignment, zero);
#ifdef POOLGC_JEMALLOC_EMBEDDED
    if (p)
        huge_allocated(size);
#endif
    *err = pgc_likely(p != NULL) ? saved : ENOMEM;
    pgc_prof_on_large_malloc(p, size);
    return p;
}

/* rallocx's flags for a block growing to `size` bytes in jemalloc's own
 * arenas: to the huge arena if it moves, past huge_threshold. */
static inline int growth_flags(size_t size) {
#ifdef POOLGC_JEMALLOC_EMBEDDED
    if (size >= PGC_BIG_MIN)
        return huge_flags(size);
#else
    (void)size;
#endif
    return 0;
}

/* The rest of pgc__large_realloc, whose common case (the block keeps its
 * size: a string builder's append) then saves no registers: jemalloc
 * resizes or moves block p, of `usable` bytes, to `size`. */
static PGC_NOINLINE void *realloc_resized(void *p, size_t size, size_t usable) {
    int saved = errno;
    pgc_prof_on_large_free(p); /* for the profiler, a free and a malloc */
    /* Growing big under a limit, jemalloc retaining: into arena 0 and its
     * hooks (in place if it is there, else moved there once; see the top).
     * size > 512: 16-aligned. */
    int growth = size > usable, flags = growth ? big_flags(size) : 0, blind = growth && !flags;
    if (blind) /* moved if it must be: to the huge arena past its threshold */
        flags = growth_flags(size);
    if (size < PGC_ALIGNMENT) /* a shrink below 16 (no pools): jemalloc's 8-byte class */
        flags = MALLOCX_LG_ALIGN(PGC_ALIGNMENT_SHIFT);
    big_blind_set(blind ? size : 0);
    void *q = JE(rallocx)(p, size, flags);
    if (pgc_unlikely(q == NULL) && give_back_address_space()) {
        flags = growth ? big_flags(size) : 0; /* a limit found meanwhile */
        if ((blind = growth && !flags))
            flags = growth_flags(size);
        big_blind_set(blind ? size : 0);
        q = JE(rallocx)(p, size, flags);
    }
    big_blind_set(0);
#ifdef POOLGC_JEMALLOC_EMBEDDED
    if (q) { /* a block moved, or trimmed in place */
        size_t now = JE(sallocx)(q, 0);
        if (blind && flags && !atomic_load_explicit(&huge_decay_set, memory_order_relaxed))
            huge_decay_zero(); /* moved to the huge arena */
        huge_allocated(now);
        if (q != p) {
            if (usable >= PGC_BIG_MIN)
                huge_threshold_raise(usable);
            large_freed(usable);
        } else if (now < usable)
            large_freed(usable - now);
    }
#endif
    pgc_prof_on_large_malloc(q, size);
    errno = q ? saved : ENOMEM;
    return q;
}

void *pgc__large_realloc(void *p, size_t size) {
    if (pgc_unlikely(size > PTRDIFF_MAX || larger_than_memory(size))) {
        errno = ENOMEM;
        return NULL;
    }
    if (!jemalloc_owns(p))
        return pgc_unlikely(pgc__valgrind_aside) ? pgc__valgrind_realloc(p, size)
                                                 : __libc_realloc(p, size);
    count_request();
    /* A new size within the usable size keeps the block, as glibc does
     * (string builders realloc on every append), except a big shrink of a
     * large extent, which jemalloc trims in place. Blocks of jemalloc's slab
     * classes (up to 14 KiB) cannot shrink in place: they stay as they are. */
    size_t usable = JE(sallocx)(p, 0);
    if (size <= usable && (size > usable / 2 || usable <= JEMALLOC_SLAB_MAX))
        return p;
    return realloc_resized(p, size, usable);
}

/* Purge jemalloc's freed pages when a second has passed since the last
 * purge. A thread looks at the clock on every 64th tick - a large free or a
 * small allocation's slow path - so memory goes back even when a program
 * stops freeing large blocks; one thread wins the purge. */
#define PURGE_INTERVAL_NS 1000000000ll
#define PURGE_CHECK_EVERY 64
static __thread unsigned ticks_since_check;
static _Atomic long long last_purge_ns;

static PGC_NOINLINE void purge_if_due(void) {
    ticks_since_check = 0;
    if (!jemalloc_started())
        return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    long long now = ts.tv_sec * 1000000000ll + ts.tv_nsec;
    long long last = atomic_load_explicit(&last_purge_ns, memory_order_relaxed);
    if (now - last < PURGE_INTERVAL_NS ||
        !atomic_compare_exchange_strong_explicit(&last_purge_ns, &last, now, memory_order_relaxed,
                                                 memory_order_relaxed))
        return;
    int saved = errno;
    JE(mallctl)("arena.4096.purge", NULL, NULL, NULL, 0); /* 4096: MALLCTL_ARENAS_ALL */
    errno = saved;
}

/* The pools' mapped memory reached a new peak, pool_bytes. glibc serves
 * every size from one heap, so the pages of large blocks a program freed
 * are reused for its small ones; here the pools have a region of their
 * own, and the pages jemalloc keeps for reuse serve only large blocks.
 * When the pools pass their peak by a step (a POOL_STEP_DIV-th, an arena
 * at least) since the last look, jemalloc's freed pages go back if they
 * are over DIRTY_MULT times its pages in use (the program has moved on
 * from its large blocks) and over a POOL_DIRTY_DIV-th of the pools: the
 * bound above without its DIRTY_MIN floor, since the footprint grows and
 * glibc would have grown it with them. sqlite3 building two indexes
 * (bench/sqlite_index.sql): its sorter's buffers, doubled by realloc to 16
 * and 8 MiB and freed, were still resident at the peak unless the
 * once-a-second purge came first: peak RSS 77-78 MiB in runs of 1.0 s,
 * 63 in runs of 1.5 s (glibc 59); 63 in every run now. Peaks only, and
 * the DIRTY_MULT condition, for programs that still use their large
 * blocks: the pools of bench/mixed go up and down (12 to 25 arenas) while
 * its large blocks churn. A look at every new arena there, purging
 * whenever jemalloc held freed pages, took 43% more time; at new peaks
 * without the DIRTY_MULT condition, 10 thousand page faults more (+15%);
 * now it purges no page. Only when a block was freed since the last look
 * (freed_since_look): without a free, jemalloc's freed pages did not grow
 * and its pages in use did not shrink, so a look that did not purge then
 * would not now (bench/frag, which hardly uses jemalloc: 10.5 million
 * instructions of statistics, 3.6% of its total, without this). */
#define POOL_STEP_DIV 16
#define POOL_DIRTY_DIV 32
#ifdef POOLGC_JEMALLOC_EMBEDDED
static _Atomic size_t pools_looked_at; /* pool bytes at the last look */
#endif

void pgc__large_pools_grew(size_t pool_bytes) {
#ifdef POOLGC_JEMALLOC_EMBEDDED
    size_t then = atomic_load_explicit(&pools_looked_at, memory_order_relaxed);
    size_t step = then / POOL_STEP_DIV > PGC_ARENA_SIZE ? then / POOL_STEP_DIV : PGC_ARENA_SIZE;
    if (pool_bytes < then + step || !jemalloc_started() ||
        !atomic_compare_exchange_strong_explicit(&pools_looked_at, &then, pool_bytes,
                                                 memory_order_relaxed, memory_order_relaxed))
        return;
    int expected = 0;
    if (!atomic_compare_exchange_strong(&dirty_checking, &expected, 1))
        return; /* another thread reads the statistics */
    int saved = errno;
    size_t dirty = 0, active = 0;
    if (atomic_exchange_explicit(&freed_since_look, 0, memory_order_relaxed) &&
        stats_read(&active, &dirty) && dirty > pool_bytes / POOL_DIRTY_DIV / PGC_PAGE_SIZE &&
        dirty > active * DIRTY_MULT) {
        JE(mallctl)("arena.4096.purge", NULL, NULL, NULL, 0);
        footprint_then = active;
        dirty_then = 0;
    }
    errno = saved;
    atomic_store(&dirty_checking, 0);
#else
    (void)pool_bytes; /* libjemalloc.so.2 purges by its own decay */
#endif
}

void pgc__large_tick(void) {
    if (pgc_unlikely(++ticks_since_check == PURGE_CHECK_EVERY))
        purge_if_due();
}

void pgc__large_free(void *p) {
    if (pgc_debug_takes()) {
        pgc__debug_free(p);
        return;
    }
    int *err = &errno, saved = *err; /* free keeps errno; jemalloc may not */
    pgc_prof_on_large_free(p);
    if (pgc_likely(jemalloc_owns(p))) {
#ifdef POOLGC_JEMALLOC_EMBEDDED
        size_t usable = free_counted(p);
        if (pgc_unlikely(usable >= PGC_BIG_MIN))
            huge_threshold_raise(usable);
        large_freed(usable);
#else
        JE(dallocx)(p, 0);
#endif
        pgc__large_tick();
    } else if (pgc_unlikely(pgc__valgrind_aside)) {
        pgc__valgrind_free(p);
    } else {
        __libc_free(p);
    }
    *err = saved;
}

int pgc__large_owns(const void *p) {
    return jemalloc_owns(p);
}

size_t pgc__large_usable_size(const void *p) {
    if (jemalloc_owns(p))
        return JE(sallocx)(p, 0);
    return pgc_unlikely(pgc__valgrind_aside) ? pgc__valgrind_usable_size(p) : glibc_usable_size(p);
}

static size_t jemalloc_stat(const char *name) {
    uint64_t epoch = 1;
    size_t value = 0, len = sizeof value;
    JE(mallctl)("epoch", &epoch, &(size_t){sizeof epoch}, &epoch, sizeof epoch);
    if (JE(mallctl)(name, &value, &len, NULL, 0) != 0)
        return 0;
    return value;
}

int pgc__large_trim(void) {
    if (!jemalloc_started())
        return 0;
    int saved = errno;
    size_t before = jemalloc_stat("stats.resident");
    JE(mallctl)("arena.4096.purge", NULL, NULL, NULL, 0); /* 4096: MALLCTL_ARENAS_ALL */
    size_t after = jemalloc_stat("stats.resident");
    errno = saved;
    return after < before;
}

size_t pgc__large_bytes_allocated(void) {
    return jemalloc_started() ? jemalloc_stat("stats.allocated") : 0;
}
