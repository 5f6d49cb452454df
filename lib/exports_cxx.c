/*
 * exports_cxx.c - all 20 C++ operator new/delete variants (plain, nothrow,
 * aligned, aligned+nothrow; sized and aligned deletes), so that C++ objects
 * reach the pools and any family may release any pointer.
 *
 * Written in C so that libpoolgc.so does not depend on libstdc++: loading
 * libstdc++ into every preloaded process (/bin/true included) costs more
 * start-up time than all of poolgc. The throwing forms follow the standard:
 * call the std::new_handler until it gives up, then throw std::bad_alloc.
 * Both are reached through weak references to libstdc++, which any program
 * that calls operator new has loaded; the exception is built by hand per the
 * Itanium C++ ABI (a bad_alloc is one vtable pointer).
 *
 * Sizes passed to sized deletes are ignored: a wrong size from a buggy
 * program must not corrupt the heap.
 */
#include <stddef.h>

#include "alloc_inline.h"

typedef void (*new_handler_fn)(void);
extern new_handler_fn _ZSt15get_new_handlerv(void) __attribute__((weak));
extern void *__cxa_allocate_exception(size_t) __attribute__((weak));
extern void __cxa_throw(void *, void *, void (*)(void *)) __attribute__((weak, noreturn));
extern char _ZTISt9bad_alloc[] __attribute__((weak));  /* typeinfo for std::bad_alloc */
extern void *_ZTVSt9bad_alloc[] __attribute__((weak)); /* vtable for std::bad_alloc */
extern void _ZNSt9bad_allocD1Ev(void *) __attribute__((weak));

static __attribute__((noreturn, cold)) void throw_bad_alloc(size_t size) {
    if (__cxa_allocate_exception && __cxa_throw && _ZTISt9bad_alloc && _ZTVSt9bad_alloc &&
        _ZNSt9bad_allocD1Ev) {
        void **exception = __cxa_allocate_exception(sizeof(void *));
        *exception = &_ZTVSt9bad_alloc[2]; /* past offset-to-top and typeinfo */
        __cxa_throw(exception, _ZTISt9bad_alloc, _ZNSt9bad_allocD1Ev);
    }
    pgc__message_fatal(
        "poolgc: operator new(%zu): out of memory, and no C++ runtime to throw std::bad_alloc",
        size);
}

/* The throwing new's slow path: the first attempt failed. */
static PGC_NOINLINE void *new_retry(size_t size, size_t alignment) {
    for (;;) {
        new_handler_fn handler = _ZSt15get_new_handlerv ? _ZSt15get_new_handlerv() : NULL;
        if (!handler)
            throw_bad_alloc(size);
        handler();
        void *p = alignment ? pgc__alloc_memalign(alignment, size) : pgc_malloc_fast(size);
        if (p)
            return p;
    }
}

static inline void *new_plain(size_t size) {
    void *p = pgc_malloc_fast(size);
    return pgc_likely(p != NULL) ? p : new_retry(size, 0);
}

static inline void *new_aligned(size_t size, size_t alignment) {
    void *p = pgc__alloc_memalign(alignment, size);
    return pgc_likely(p != NULL) ? p : new_retry(size, alignment);
}

/* operator new / new[] */
PGC_API void *_Znwm(size_t size) {
    return new_plain(size);
}
PGC_API void *_Znam(size_t size) {
    return new_plain(size);
}
PGC_API void *_ZnwmRKSt9nothrow_t(size_t size, const void *nt) {
    (void)nt;
    return pgc_malloc_fast(size);
}
PGC_API void *_ZnamRKSt9nothrow_t(size_t size, const void *nt) {
    (void)nt;
    return pgc_malloc_fast(size);
}
PGC_API void *_ZnwmSt11align_val_t(size_t size, size_t alignment) {
    return new_aligned(size, alignment);
}
PGC_API void *_ZnamSt11align_val_t(size_t size, size_t alignment) {
    return new_aligned(size, alignment);
}
PGC_API void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t size, size_t alignment, const void *nt) {
    (void)nt;
    return pgc__alloc_memalign(alignment, size);
}
PGC_API void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t size, size_t alignment, const void *nt) {
    (void)nt;
    return pgc__alloc_memalign(alignment, size);
}

/* operator delete / delete[]: plain, sized, aligned, sized+aligned, nothrow,
 * aligned+nothrow. */
PGC_API void _ZdlPv(void *p) {
    pgc_free_fast(p);
}
PGC_API void _ZdaPv(void *p) {
    pgc_free_fast(p);
}
PGC_API void _ZdlPvm(void *p, size_t size) {
    (void)size; /* not trusted: a wrong size must not corrupt the heap */
    pgc_free_fast(p);
}
PGC_API void _ZdaPvm(void *p, size_t size) {
    (void)size; /* not trusted: a wrong size must not corrupt the heap */
    pgc_free_fast(p);
}
PGC_API void _ZdlPvSt11align_val_t(void *p, size_t alignment) {
    (void)alignment;
    pgc_free_fast(p);
}
PGC_API void _ZdaPvSt11align_val_t(void *p, size_t alignment) {
    (void)alignment;
    pgc_free_fast(p);
}
PGC_API void _ZdlPvmSt11align_val_t(void *p, size_t size, size_t alignment) {
    (void)alignment;
    (void)size; /* not trusted: a wrong size must not corrupt the heap */
    pgc_free_fast(p);
}
PGC_API void _ZdaPvmSt11align_val_t(void *p, size_t size, size_t alignment) {
    (void)alignment;
    (void)size; /* not trusted: a wrong size must not corrupt the heap */
    pgc_free_fast(p);
}
PGC_API void _ZdlPvRKSt9nothrow_t(void *p, const void *nt) {
    (void)nt;
    pgc_free_fast(p);
}
PGC_API void _ZdaPvRKSt9nothrow_t(void *p, const void *nt) {
    (void)nt;
    pgc_free_fast(p);
}
PGC_API void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t alignment, const void *nt) {
    (void)alignment;
    (void)nt;
    pgc_free_fast(p);
}
PGC_API void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t alignment, const void *nt) {
    (void)alignment;
    (void)nt;
    pgc_free_fast(p);
}
