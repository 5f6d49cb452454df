/*
 * fault_workload - one allocation workload, run by fault_injection.sh once
 * per system call it makes, with POOLGC_FAULT_MMAP making that call (and the
 * ones after it, N:K) fail. Linked with the library's internals
 * (libpoolgc-core), for the count of calls.
 *
 *   fault_workload [KIB]    KIB: lower RLIMIT_AS to KIB KiB first (the
 *                           pool region then shrinks on ENOMEM, and big
 *                           blocks go to jemalloc's arena 0 and poolgc's
 *                           extent hooks)
 *
 * Every entry point is called with sizes that need fresh memory (large
 * blocks kept alive, thousands of small ones). A call that fails must fail
 * as the API says - NULL with errno ENOMEM, posix_memalign returning
 * ENOMEM, operator new throwing std::bad_alloc, nothrow new giving NULL -
 * and is retried: once the injected faults stop, it must succeed. At the
 * end every block still holds what was written into it, pgc_check() finds
 * every structure sound, everything is freed, and every entry point works
 * again. Prints "calls C faults F failed NAME..." (the entry points that
 * failed at least once) on stdout; exits 1 on a broken rule, 77 in a build
 * without fault injection.
 */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <new>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "poolgc.h"
#include "../check.h"

extern "C" unsigned long pgc__os_calls(void);
extern "C" unsigned long pgc__os_faults(void);

#define MIB ((size_t)1 << 20)
#define RETRIES 100

/* The entry points, in the order they first appear below. */
static const char *const names[] = {
    "malloc",         "malloc_small", "calloc",     "realloc",     "reallocarray", "aligned_alloc",
    "posix_memalign", "memalign",     "valloc",     "pvalloc",     "new",          "new_array",
    "new_nothrow",    "new_aligned",  "malloc_big", "realloc_big", "thread",
};
#define NAMES (sizeof names / sizeof names[0])
static int failed[NAMES];

enum how { DELETE, DELETE_ARRAY, DELETE_ALIGNED, FREE };
struct block {
    unsigned char *p;
    size_t size;
    enum how how;
    unsigned char tag;
};
#define MAX_BLOCKS 100000
static struct block blocks[MAX_BLOCKS];
static size_t nblocks;

static void write_tag(unsigned char *p, size_t size, unsigned char tag) {
    p[0] = tag;
    p[size - 1] = (unsigned char)~tag;
    if (size > 2 * 4096)
        p[size / 2] = tag;
}
static int has_tag(const unsigned char *p, size_t size, unsigned char tag) {
    return p[0] == tag && p[size - 1] == (unsigned char)~tag &&
           (size <= 2 * 4096 || p[size / 2] == tag);
}

static void keep(void *p, size_t size, enum how how) {
    CHECK(nblocks < MAX_BLOCKS, "too many blocks");
    if (nblocks >= MAX_BLOCKS)
        exit(check_done());
    unsigned char tag = (unsigned char)(nblocks * 7 + 1);
    write_tag((unsigned char *)p, size, tag);
    blocks[nblocks++] = (struct block){(unsigned char *)p, size, how, tag};
}

static void release(struct block *b) {
    switch (b->how) {
    case DELETE:
        operator delete(b->p);
        break;
    case DELETE_ARRAY:
        delete[] b->p;
        break;
    case DELETE_ALIGNED:
        operator delete(b->p, std::align_val_t(1 << 16));
        break;
    case FREE:
        free(b->p);
        break;
    }
}

/* A call that succeeded left errno as it was (0), even when a mapping failed
 * inside it and a retry served it. */
static void *kept_errno(void *p, const char *name) {
    CHECK(errno == 0, "%s succeeded and left errno %d", name, errno);
    return p;
}

/* One attempt at entry point `op` (an index into names) with a size that
 * grows with `round`. Returns the block (kept), or NULL after checking that
 * the failure is the API's. */
static void *attempt(unsigned op, unsigned round) {
    size_t big = MIB + round * 64 * 1024 + op * 4096;
    const char *name = names[op];
    void *p = NULL;
    errno = 0;
    switch (op) {
    case 0:
        p = malloc(big);
        break;
    case 1: {
        /* 3 MiB of small blocks: new arenas, new pools */
        for (unsigned i = 0; i < 12000; i++) {
            size_t n = 16 + (i * 37) % 497;
            void *q = malloc(n);
            if (!q) {
                CHECK(errno == ENOMEM, "malloc(%zu) failed with errno %d", n, errno);
                return NULL;
            }
            keep(q, n, FREE);
            if (i % 3 == 0) { /* some go back: pools empty, arenas return */
                nblocks--;
                free(q);
            }
        }
        return kept_errno(blocks[nblocks - 1].p, name);
    }
    case 2:
        p = calloc(1, big);
        if (p) {
            const unsigned char *c = (const unsigned char *)p;
            CHECK(c[0] == 0 && c[big / 2] == 0 && c[big - 1] == 0, "calloc gave non-zero bytes");
        }
        break;
    case 3: {
        void *small = malloc(100);
        if (!small)
            return NULL;
        memset(small, 0x42, 100);
        p = realloc(small, big);
        if (!p) {
            CHECK(errno == ENOMEM, "realloc failed with errno %d", errno);
            unsigned char *s = (unsigned char *)small;
            CHECK(s[0] == 0x42 && s[99] == 0x42, "a failed realloc changed the block");
            free(small);
            return NULL;
        }
        CHECK(((unsigned char *)p)[99] == 0x42, "realloc lost the contents");
        break;
    }
    case 4:
        p = reallocarray(NULL, big / 512, 512);
        big = big / 512 * 512;
        break;
    case 5:
        p = aligned_alloc(1 << 16, big);
        break;
    case 6: {
        void *q = (void *)&failed;
        int rc = posix_memalign(&q, 1 << 16, big);
        if (rc) {
            CHECK(rc == ENOMEM && q == (void *)&failed, "posix_memalign = %d, *p changed", rc);
            failed[op] = 1;
            return NULL;
        }
        p = q;
        break;
    }
    case 7:
        p = memalign(4096, big);
        break;
    case 8:
        p = valloc(big);
        break;
    case 9:
        p = pvalloc(big);
        break;
    case 10:
        try {
            p = operator new(big);
        } catch (const std::bad_alloc &) {
            failed[op] = 1;
            return NULL;
        }
        keep(p, big, DELETE);
        return kept_errno(p, name);
    case 11:
        try {
            p = new unsigned char[big];
        } catch (const std::bad_alloc &) {
            failed[op] = 1;
            return NULL;
        }
        keep(p, big, DELETE_ARRAY);
        return kept_errno(p, name);
    case 12:
        p = new (std::nothrow) unsigned char[big];
        if (!p) {
            failed[op] = 1;
            return NULL;
        }
        keep(p, big, DELETE_ARRAY);
        return kept_errno(p, name);
    case 13:
        try {
            p = operator new(big, std::align_val_t(1 << 16));
        } catch (const std::bad_alloc &) {
            failed[op] = 1;
            return NULL;
        }
        CHECK(((uintptr_t)p & 0xffff) == 0, "aligned new: %p", p);
        keep(p, big, DELETE_ALIGNED);
        return kept_errno(p, name);
    case 14:
        big = 40 * MIB + round * 4096;
        p = malloc(big);
        break;
    case 15: {
        /* a big block grown by realloc (in place, under a limit) */
        size_t from = 33 * MIB;
        unsigned char *h = (unsigned char *)malloc(from);
        if (!h)
            return NULL;
        write_tag(h, from, 0x77);
        big = 70 * MIB + round * 4096;
        p = realloc(h, big);
        if (!p) {
            CHECK(errno == ENOMEM, "realloc of a big block failed with errno %d", errno);
            CHECK(has_tag(h, from, 0x77), "a failed big realloc changed the block");
            free(h);
            failed[op] = 1;
            return NULL;
        }
        CHECK(((unsigned char *)p)[0] == 0x77 && ((unsigned char *)p)[from - 1] == 0x88,
              "realloc of a big block lost its contents");
        break;
    }
    default:
        return NULL;
    }
    if (!p) {
        CHECK(errno == ENOMEM, "%s(%zu) = NULL with errno %d, not ENOMEM", name, big, errno);
        failed[op] = 1;
        return NULL;
    }
    keep(p, big, FREE);
    return kept_errno(p, name);
}

/* Entry point op until it succeeds (at most RETRIES attempts). */
static void until_done(unsigned op, unsigned round) {
    for (unsigned i = 0; i < RETRIES; i++) {
        if (attempt(op, round))
            return;
        failed[op] = 1;
    }
    CHECK(0, "%s still fails after %d attempts: no recovery", names[op], RETRIES);
}

/* A thread's first allocation makes its heap. */
static void *thread_main(void *arg) {
    (void)arg;
    void *p = NULL;
    for (unsigned i = 0; i < RETRIES && !p; i++) {
        errno = 0;
        p = malloc(48);
    }
    CHECK(p != NULL, "a new thread gets no memory");
    CHECK(errno == 0, "a new thread's malloc succeeded and left errno %d", errno);
    free(p);
    return NULL;
}

static void all_entry_points(unsigned round) {
    for (unsigned op = 0; op < NAMES - 1; op++)
        until_done(op, round);
    pthread_t t;
    int rc = pthread_create(&t, NULL, thread_main, NULL);
    if (rc == 0)
        pthread_join(t, NULL);
    else
        failed[NAMES - 1] = 1; /* its stack: glibc's mmap, not ours */
}

static void check_and_free_all(void) {
    for (size_t i = 0; i < nblocks; i++)
        CHECK(has_tag(blocks[i].p, blocks[i].size, blocks[i].tag),
              "block %zu (%zu bytes) lost its contents", i, blocks[i].size);
    pgc_check();
    for (size_t i = 0; i < nblocks; i++)
        release(&blocks[i]);
    nblocks = 0;
    pgc_check();
}

int main(int argc, char **argv) {
#ifndef PGC_FAULT_INJECTION
    fprintf(stderr, "not built with --enable-fault-injection\n");
    return 77; /* (the rest still compiles: nothing in it goes unused) */
#endif
    if (argc > 1) {
        struct rlimit lim;
        lim.rlim_cur = lim.rlim_max = (rlim_t)strtoull(argv[1], NULL, 10) << 10;
        CHECK(setrlimit(RLIMIT_AS, &lim) == 0, "setrlimit failed");
    }
    all_entry_points(0);
    all_entry_points(1);
    check_and_free_all();
    /* Recovery: with the faults over, everything works again. */
    all_entry_points(2);
    check_and_free_all();
    printf("calls %lu faults %lu failed", pgc__os_calls(), pgc__os_faults());
    for (unsigned op = 0; op < NAMES; op++)
        if (failed[op])
            printf(" %s", names[op]);
    printf("\n");
    return check_done();
}
