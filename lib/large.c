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
 * Shared build (--with-jemalloc=shared): libjemalloc.so.2 is linked as is,
 * and every pointer outside the pool region is taken to be jemalloc's.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "prof.h"

#define MALLOCX_LG_ALIGN(la) ((int)(la))
#define MALLOCX_ZERO ((int)0x40)
#define JEMALLOC_SLAB_MAX ((size_t)14336) /* largest small class, 4 KiB pages */

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

/* glibc's own allocator, for pointers that are not ours. */
extern void __libc_free(void *);
extern void *__libc_realloc(void *, size_t);

#ifdef POOLGC_JEMALLOC_EMBEDDED
/* How the embedded jemalloc is tuned for its role (see poolgc(3)):
 * - dss:disabled: never touch brk, which programs and glibc own;
 * - oversize_threshold:0: no separate arena for blocks over 8 MiB, which
 *   Debian's defaults purge on every free;
 * - dirty_decay_ms:-1: jemalloc itself never purges freed pages. With
 *   decay on (any time from 1 s to 5 min), churn of 5-25 MiB blocks faulted
 *   in every page of every block, 10x slower than glibc: a freed extent of
 *   one size is not coalesced to serve the next size, and decay purges it
 *   before it fits. poolgc purges instead (purge_if_due): all freed pages at
 *   most once a second, so memory still goes back.
 * - tcache_max:131072: thread caches keep blocks up to 128 KiB (32 KiB by
 *   default); small ones never reach jemalloc here, and the mixed-size
 *   benchmark (up to 1 MiB) ran in 0.35 s instead of 0.50 s for 1 MB more.
 * - retain:false, only when jemalloc starts under an address-space limit
 *   (RLIMIT_AS): freed extents are unmapped when purged, not kept as address
 *   space, and extents are mapped at their size, not in growing chunks.
 *   Under ulimit -v 409600, after 300 MiB of 256 KiB blocks were freed, the
 *   largest block was 48 MiB with retain, 381 without (glibc: 397); without
 *   a limit, retain:false cost the mixed-size benchmark 20% (274 mmaps
 *   instead of 33) and 15% more memory.
 * MALLOC_CONF still applies on top of this. */
#define CONF                                                                                       \
    "dss:disabled,oversize_threshold:0,dirty_decay_ms:-1,muzzy_decay_ms:0,tcache_max:131072"
const char *pgc__je_malloc_conf = CONF;

/* jemalloc reads pgc__je_malloc_conf once, when it starts: called before
 * each request until then. */
static PGC_COLD void choose_conf(void) {
    struct rlimit lim;
    if (getrlimit(RLIMIT_AS, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
        pgc__je_malloc_conf = CONF ",retain:false";
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

/* jemalloc's mmap and munmap (renamed to these at build time). jemalloc
 * maps only anonymous memory (fd -1). pgc__os_map retries a mapping refused
 * for want of address space once the pool region has given some back. */
void *pgc__je_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
void *pgc__je_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
    (void)fd, (void)off; /* always -1 and 0 */
    void *p = pgc__os_map(addr, len, prot, flags);
    if (p != MAP_FAILED && mark_pages((uintptr_t)p, len, 1) != 0) {
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
#endif

/* glibc's usable size, read from its chunk header (size field before the
 * block; bit 1 marks an mmapped chunk, whose overhead is two words). */
static size_t glibc_usable_size(const void *p) {
    size_t field = ((const size_t *)p)[-1];
    size_t chunk = field & ~(size_t)7;
    return chunk - ((field & 2) ? 2 : 1) * sizeof(size_t);
}

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

/* Requests huge.c serves: PGC_HUGE_MIN bytes and more, under an
 * address-space limit (the embedded build only: with a shared jemalloc every
 * pointer that is not a pool block is taken to be jemalloc's). */
static int huge_wanted(size_t size, size_t alignment) {
#ifdef POOLGC_JEMALLOC_EMBEDDED
    return alignment <= PGC_ALIGNMENT && pgc__huge_wanted(size);
#else
    (void)size, (void)alignment;
    return 0;
#endif
}

/* malloc's large path: once jemalloc has started (it clobbers errno only
 * then), a request below PGC_HUGE_MIN goes straight to its malloc; one it
 * refuses goes the long way, which retries. */
void *pgc__large_malloc_plain(size_t size) {
#ifdef POOLGC_JEMALLOC_EMBEDDED
    if (pgc_likely(size < PGC_HUGE_MIN && atomic_load_explicit(&page_top, memory_order_relaxed))) {
        void *p = JE(malloc)(size);
        if (pgc_likely(p != NULL)) {
            pgc_prof_on_large_malloc(p, size);
            return p;
        }
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
static PGC_COLD void *jemalloc_boot(size_t size, size_t alignment, int zero) {
    choose_conf();
    pgc__os_fault_hold(1);
    void *p = jemalloc_alloc(size, alignment, zero);
    pgc__os_fault_hold(-1);
    if (p)
        atomic_store_explicit(&jemalloc_booted, 1, memory_order_release);
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
    /* Success leaves errno alone: jemalloc's start-up clobbers it. */
    int *err = &errno, saved = *err;
    void *p = NULL;
    if (pgc_unlikely(size >= PGC_HUGE_MIN) && huge_wanted(size, alignment)) {
        p = pgc__huge_malloc(size); /* zeroed: a fresh mapping */
        if (!p && give_back_address_space())
            p = pgc__huge_malloc(size);
    }
    if (pgc_unlikely(!atomic_load_explicit(&jemalloc_booted, memory_order_acquire)) && !p)
        p = jemalloc_boot(size, alignment, zero);
    if (!p)
        p = jemalloc_alloc(size, alignment, zero);
    if (pgc_unlikely(p == NULL) && give_back_address_space())
        p = jemalloc_alloc(size, alignment, zero);
    *err = pgc_likely(p != NULL) ? saved : ENOMEM;
    pgc_prof_on_large_malloc(p, size);
    return p;
}

void *pgc__large_realloc(void *p, size_t size) {
    if (pgc_unlikely(size > PTRDIFF_MAX || larger_than_memory(size))) {
        errno = ENOMEM;
        return NULL;
    }
    if (!jemalloc_owns(p)) {
        if (!pgc__huge_owns(p))
            return __libc_realloc(p, size);
        int saved = errno;
        pgc_prof_on_large_free(p); /* for the profiler, a free and a malloc */
        void *q = pgc__huge_realloc(p, size);
        if (!q && give_back_address_space())
            q = pgc__huge_realloc(p, size);
        pgc_prof_on_large_malloc(q, size);
        errno = q ? saved : ENOMEM;
        return q;
    }
    /* A new size within the usable size keeps the block, as glibc does
     * (string builders realloc on every append), except a big shrink of a
     * large extent, which jemalloc trims in place. Blocks of jemalloc's slab
     * classes (up to 14 KiB) cannot shrink in place: they stay as they are. */
    size_t usable = JE(sallocx)(p, 0);
    if (size <= usable && (size > usable / 2 || usable <= JEMALLOC_SLAB_MAX))
        return p;
    int saved = errno;
    pgc_prof_on_large_free(p); /* for the profiler, a free and a malloc */
    if (pgc_unlikely(size > usable && size >= PGC_HUGE_MIN) && huge_wanted(size, 0)) {
        /* Grows into a huge block, which later grows without a copy. */
        void *q = pgc__large_malloc(size, 0, 0);
        if (q && !jemalloc_owns(q)) {
            memcpy(q, p, usable);
            JE(free)(p);
            return q;
        }
        if (q) {
            pgc_prof_on_large_free(q);
            JE(free)(q); /* jemalloc's: rallocx may still grow p in place */
        }
        errno = saved;
    }
    void *q = JE(rallocx)(p, size, 0); /* size > 512: 16-aligned */
    if (pgc_unlikely(q == NULL) && give_back_address_space())
        q = JE(rallocx)(p, size, 0);
    pgc_prof_on_large_malloc(q, size);
    errno = q ? saved : ENOMEM;
    return q;
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

void pgc__large_tick(void) {
    if (pgc_unlikely(++ticks_since_check == PURGE_CHECK_EVERY))
        purge_if_due();
}

void pgc__large_free(void *p) {
    int *err = &errno, saved = *err; /* free keeps errno; jemalloc may not */
    pgc_prof_on_large_free(p);
    if (pgc_likely(jemalloc_owns(p))) {
#ifdef POOLGC_JEMALLOC_EMBEDDED
        JE(free)(p); /* the fast path dallocx lacks */
#else
        JE(dallocx)(p, 0);
#endif
        pgc__large_tick();
    } else if (pgc__huge_owns(p)) {
        pgc__huge_free(p);
    } else {
        __libc_free(p);
    }
    *err = saved;
}

size_t pgc__large_usable_size(const void *p) {
    if (jemalloc_owns(p))
        return JE(sallocx)(p, 0);
    return pgc__huge_owns(p) ? pgc__huge_usable_size(p) : glibc_usable_size(p);
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
