/*
 * valgrind.c - under a valgrind tool that replaces malloc (memcheck,
 * helgrind, drd, massif, dhat), poolgc steps aside: every request goes to
 * glibc's allocator, which the tool has replaced with its own, so the tool
 * sees every block - pgc_malloc's and the GC objects' too - and reports a
 * read after free, an overflow or a leak in them. CPython does the same
 * with pymalloc (--with-valgrind). Otherwise pool blocks are invisible to
 * such a tool: they are carved from memory poolgc maps itself, and a block
 * freed into a pool is still addressable.
 *
 * Under the tools that do not replace malloc (callgrind, cachegrind, lackey)
 * poolgc runs as usual, so that instruction counts measure it. The tool is
 * told by valgrind's preload, vgpreload_<tool>, in LD_PRELOAD, and
 * RUNNING_ON_VALGRIND confirms we run on valgrind at all.
 *
 * Stepping aside: init.c reserves no pool region (every thread's requests
 * then reach the large path), and the large path hands them to the functions
 * below. glibc's malloc_usable_size is not reachable (ours shadows it), so
 * a side table in memory we map ourselves keeps every block's size; the
 * tool's blocks carry no glibc header to read it from.
 *
 * Decided once at start-up; the large path tests one flag, and nothing else
 * changes when poolgc does not step aside.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#ifdef HAVE_VALGRIND_VALGRIND_H
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#include "internal.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

int pgc__valgrind_aside;

/* A tool that replaces malloc preloads vgpreload_<tool>; all preload
 * vgpreload_core. */
static int tool_replaces_malloc(void) {
    const char *preload = getenv("LD_PRELOAD");
    for (const char *s = preload; s && (s = strstr(s, "vgpreload_")) != NULL; s++)
        if (strncmp(s + strlen("vgpreload_"), "core", 4) != 0)
            return 1;
    return 0;
}

int pgc__valgrind_init(void) {
    pgc__valgrind_aside = RUNNING_ON_VALGRIND && tool_replaces_malloc();
    return pgc__valgrind_aside;
}

/* ---- the sizes of the blocks, by address --------------------------------- */

typedef struct entry {
    const void *p; /* NULL: empty; TOMBSTONE: deleted */
    size_t size;
} entry;
#define TOMBSTONE ((const void *)1)

static entry *table;
static size_t table_cap, table_used; /* used: live entries and tombstones */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t home(const void *p, size_t mask) {
    uint64_t h = ((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15u;
    return (size_t)(h >> 32) & mask;
}

/* Rehash into twice the live entries (at least 4096 slots). table_lock held. */
static int grow(void) {
    size_t live = 0;
    for (size_t i = 0; i < table_cap; i++)
        live += table[i].p && table[i].p != TOMBSTONE;
    size_t cap = 4096;
    while (cap < 4 * (live + 1))
        cap *= 2;
    entry *t =
        mmap(NULL, cap * sizeof *t, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (t == MAP_FAILED)
        return 0;
    for (size_t i = 0; i < table_cap; i++) {
        if (!table[i].p || table[i].p == TOMBSTONE)
            continue;
        size_t j = home(table[i].p, cap - 1);
        while (t[j].p)
            j = (j + 1) & (cap - 1);
        t[j] = table[i];
    }
    if (table)
        munmap(table, table_cap * sizeof *table);
    table = t;
    table_cap = cap;
    table_used = live;
    return 1;
}

/* The slot of p, or NULL. table_lock held. */
static entry *find(const void *p) {
    if (!table_cap)
        return NULL;
    size_t mask = table_cap - 1;
    for (size_t i = home(p, mask);; i = (i + 1) & mask) {
        if (table[i].p == p)
            return &table[i];
        if (!table[i].p)
            return NULL;
    }
}

static int remember(const void *p, size_t size) {
    pthread_mutex_lock(&table_lock);
    int ok = 1;
    if (2 * (table_used + 1) > table_cap)
        ok = grow();
    if (ok) {
        size_t mask = table_cap - 1, i = home(p, mask);
        while (table[i].p && table[i].p != TOMBSTONE)
            i = (i + 1) & mask;
        if (!table[i].p)
            table_used++;
        table[i] = (entry){p, size};
    }
    pthread_mutex_unlock(&table_lock);
    return ok;
}

static void forget(const void *p) {
    pthread_mutex_lock(&table_lock);
    entry *e = find(p);
    if (e)
        e->p = TOMBSTONE;
    pthread_mutex_unlock(&table_lock);
}

/* fork: the table's lock is the last in init.c's order. */
void pgc__valgrind_fork_prepare(void) {
    pthread_mutex_lock(&table_lock);
}
void pgc__valgrind_fork_parent(void) {
    pthread_mutex_unlock(&table_lock);
}
void pgc__valgrind_fork_child(void) {
    pthread_mutex_init(&table_lock, NULL);
}

/* ---- the large path's requests ------------------------------------------- */

void *pgc__valgrind_malloc(size_t size, size_t alignment, int zero) {
    void *p;
    if (alignment > PGC_ALIGNMENT)
        p = __libc_memalign(alignment, size);
    else
        p = zero ? __libc_calloc(1, size) : __libc_malloc(size);
    if (p && !remember(p, size)) {
        __libc_free(p);
        p = NULL;
    }
    if (p && zero && alignment > PGC_ALIGNMENT)
        memset(p, 0, size);
    if (!p)
        errno = ENOMEM;
    return p;
}

void *pgc__valgrind_realloc(void *p, size_t size) {
    void *q = __libc_realloc(p, size);
    if (!q)
        return NULL;
    forget(p);
    remember(q, size); /* no room to note it: its usable size reads 0 */
    return q;
}

void pgc__valgrind_free(void *p) {
    forget(p);
    __libc_free(p);
}

size_t pgc__valgrind_usable_size(const void *p) {
    pthread_mutex_lock(&table_lock);
    const entry *e = find(p);
    size_t size = e ? e->size : 0;
    pthread_mutex_unlock(&table_lock);
    return size;
}
