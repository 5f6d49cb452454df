/*
 * entry_points - every allocation entry point works with every release path:
 * a block from malloc, calloc, realloc, reallocarray,
 * posix_memalign, aligned_alloc, memalign, valloc or pvalloc can be grown and
 * shrunk by realloc with its contents intact, reports a truthful usable size,
 * and can be released by free, realloc(p, 0), free_sized / free_aligned_sized.
 * Under poolgc, every standard name (and the C++ operators) resolves to
 * libpoolgc itself, so no pointer crosses into glibc's allocator.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../check.h"

static int on_poolgc(void) {
    return dlsym(RTLD_DEFAULT, "pgc_malloc") != NULL;
}

/* glibc 2.36 lacks the C23 pair; poolgc exports them. */
typedef void (*free_sized_fn)(void *, size_t);
typedef void (*free_aligned_sized_fn)(void *, size_t, size_t);
static free_sized_fn p_free_sized;
static free_aligned_sized_fn p_free_aligned_sized;

static void *a_malloc(size_t n) {
    return malloc(n);
}
static void *a_calloc(size_t n) {
    return calloc(n, 1);
}
static void *a_realloc(size_t n) {
    return realloc(NULL, n);
}
static void *a_reallocarray(size_t n) {
    return reallocarray(NULL, n, 1);
}
static void *a_posix_memalign(size_t n) {
    void *p = NULL;
    return posix_memalign(&p, 64, n) == 0 ? p : NULL;
}
static void *a_aligned_alloc(size_t n) {
    return aligned_alloc(32, n);
}
static void *a_memalign(size_t n) {
    return memalign(128, n);
}
static void *a_valloc(size_t n) {
    return valloc(n);
}
static void *a_pvalloc(size_t n) {
    return pvalloc(n);
}

struct allocator {
    const char *name;
    void *(*fn)(size_t);
    size_t align;
    int aligned_family; /* released with free_aligned_sized, not free_sized */
};

static const struct allocator allocators[] = {
    {"malloc", a_malloc, 16, 0},
    {"calloc", a_calloc, 16, 0},
    {"realloc(NULL)", a_realloc, 16, 0},
    {"reallocarray(NULL)", a_reallocarray, 16, 0},
    {"posix_memalign(64)", a_posix_memalign, 64, 1},
    {"aligned_alloc(32)", a_aligned_alloc, 32, 1},
    {"memalign(128)", a_memalign, 128, 1},
    {"valloc", a_valloc, 4096, 1},
    {"pvalloc", a_pvalloc, 4096, 1},
};

enum { R_FREE, R_REALLOC_GROW, R_REALLOC_SHRINK, R_REALLOC_ZERO, R_SIZED, R_COUNT };
static const char *const release_names[] = {"free", "realloc-grow+free", "realloc-shrink+free",
                                            "realloc(p,0)", "free_sized/free_aligned_sized"};

static void pattern(unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 13 + 1);
}

static size_t check_pattern(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(i * 13 + 1))
            return i;
    return n;
}

static void one(const struct allocator *a, size_t n, int how) {
    volatile size_t zero = 0;
    unsigned char *p = a->fn(n);
    CHECK(p != NULL, "%s(%zu) returned NULL", a->name, n);
    if (!p)
        return;
    CHECK(((uintptr_t)p & (a->align - 1)) == 0, "%s(%zu) = %p not %zu-aligned", a->name, n,
          (void *)p, a->align);
    size_t u = malloc_usable_size(p);
    CHECK(u >= n, "%s(%zu): usable size %zu", a->name, n, u);
    pattern(p, n);
    switch (how) {
    case R_FREE:
        free(p);
        break;
    case R_REALLOC_GROW: {
        unsigned char *q = realloc(p, 2 * n + 1000);
        CHECK(q != NULL, "realloc(%s(%zu), %zu) failed", a->name, n, 2 * n + 1000);
        if (!q) {
            free(p);
            break;
        }
        size_t bad = check_pattern(q, n);
        CHECK(bad == n, "realloc(%s(%zu)) grow lost byte %zu", a->name, n, bad);
        free(q);
        break;
    }
    case R_REALLOC_SHRINK: {
        size_t m = n / 3 + 1;
        unsigned char *q = realloc(p, m);
        CHECK(q != NULL, "realloc(%s(%zu), %zu) failed", a->name, n, m);
        if (!q) {
            free(p);
            break;
        }
        size_t keep = n < m ? n : m;
        size_t bad = check_pattern(q, keep);
        CHECK(bad == keep, "realloc(%s(%zu)) shrink lost byte %zu", a->name, n, bad);
        free(q);
        break;
    }
    case R_REALLOC_ZERO: {
        void *q = realloc(p, zero);
        CHECK(q == NULL, "realloc(%s(%zu), 0) = %p, want NULL", a->name, n, q);
        free(q);
        break;
    }
    case R_SIZED:
        if (a->aligned_family && p_free_aligned_sized)
            p_free_aligned_sized(p, a->align, n);
        else if (!a->aligned_family && p_free_sized)
            p_free_sized(p, n);
        else
            free(p);
        break;
    }
}

static const char *const standard_names[] = {
    "malloc", "free", "calloc", "realloc", "reallocarray", "posix_memalign", "aligned_alloc",
    "memalign", "valloc", "pvalloc", "malloc_usable_size", "free_sized", "free_aligned_sized",
    "malloc_trim", "malloc_stats", "mallinfo", "mallinfo2", "mallopt",
    /* C++: new and new[] x {plain, nothrow, aligned, aligned+nothrow} */
    "_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t", "_ZnwmSt11align_val_t",
    "_ZnamSt11align_val_t", "_ZnwmSt11align_val_tRKSt9nothrow_t",
    "_ZnamSt11align_val_tRKSt9nothrow_t",
    /* delete and delete[] x {plain, sized, aligned, sized+aligned, nothrow,
     * aligned+nothrow} */
    "_ZdlPv", "_ZdaPv", "_ZdlPvm", "_ZdaPvm", "_ZdlPvSt11align_val_t", "_ZdaPvSt11align_val_t",
    "_ZdlPvmSt11align_val_t", "_ZdaPvmSt11align_val_t", "_ZdlPvRKSt9nothrow_t",
    "_ZdaPvRKSt9nothrow_t", "_ZdlPvSt11align_val_tRKSt9nothrow_t",
    "_ZdaPvSt11align_val_tRKSt9nothrow_t",
    /* the public pgc_* allocation names */
    "pgc_malloc", "pgc_calloc", "pgc_realloc", "pgc_free", "pgc_usable_size", "pgc_posix_memalign",
    "pgc_aligned_alloc", "pgc_trim", "pgc_stats_print"};

int main(void) {
    p_free_sized = (free_sized_fn)dlsym(RTLD_DEFAULT, "free_sized");
    p_free_aligned_sized = (free_aligned_sized_fn)dlsym(RTLD_DEFAULT, "free_aligned_sized");

    static const size_t sizes[] = {0, 1, 15, 100, 512, 513, 5000, 70000, 1 << 20};
    for (size_t a = 0; a < sizeof allocators / sizeof *allocators; a++)
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
            for (int how = 0; how < R_COUNT; how++) {
                int before = failures;
                one(&allocators[a], sizes[s], how);
                if (failures != before)
                    fprintf(stderr, "  (while releasing with %s)\n", release_names[how]);
            }

    if (on_poolgc()) {
        CHECK(p_free_sized != NULL, "free_sized is not exported");
        CHECK(p_free_aligned_sized != NULL, "free_aligned_sized is not exported");
        for (size_t i = 0; i < sizeof standard_names / sizeof *standard_names; i++) {
            void *sym = dlsym(RTLD_DEFAULT, standard_names[i]);
            Dl_info info;
            CHECK(sym != NULL, "%s: not found by dlsym(RTLD_DEFAULT)", standard_names[i]);
            if (!sym)
                continue;
            int ok = dladdr(sym, &info) != 0 && info.dli_fname &&
                     strstr(info.dli_fname, "libpoolgc") != NULL;
            CHECK(ok, "%s resolves to %s, not libpoolgc", standard_names[i],
                  info.dli_fname ? info.dli_fname : "(unknown)");
        }
    } else {
        fprintf(stderr, "note: not running on poolgc, symbol resolution not checked\n");
    }

    return check_done();
}
