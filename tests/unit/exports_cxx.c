/*
 * exports_cxx - the C++ operator new/delete variants (lib/exports_cxx.c),
 * called from C by their mangled names. Every new gives a block of at least
 * the size asked for (aligned forms: aligned); the nothrow forms return NULL
 * for an impossible size; any delete form releases a block from any new form
 * (a pool block then carries the freed mark, internal.h), and the sizes
 * sized deletes pass are ignored. A throwing new that fails with no C++
 * runtime loaded prints one line and aborts (run in a child, run_self.h).
 */
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "../check.h"
#include "run_self.h"

void *_Znwm(size_t), *_Znam(size_t);
void *_ZnwmRKSt9nothrow_t(size_t, const void *), *_ZnamRKSt9nothrow_t(size_t, const void *);
void *_ZnwmSt11align_val_t(size_t, size_t), *_ZnamSt11align_val_t(size_t, size_t);
void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t, size_t, const void *);
void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t, size_t, const void *);
void _ZdlPv(void *), _ZdaPv(void *), _ZdlPvm(void *, size_t), _ZdaPvm(void *, size_t);
void _ZdlPvSt11align_val_t(void *, size_t), _ZdaPvSt11align_val_t(void *, size_t);
void _ZdlPvmSt11align_val_t(void *, size_t, size_t), _ZdaPvmSt11align_val_t(void *, size_t, size_t);
void _ZdlPvRKSt9nothrow_t(void *, const void *), _ZdaPvRKSt9nothrow_t(void *, const void *);
void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *, size_t, const void *);
void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *, size_t, const void *);

static const char nothrow; /* std::nothrow: an empty object, never read */
static volatile size_t huge = SIZE_MAX / 2;

/* The 12 delete forms release p[0..11], one each; sizes passed are wrong. */
static void delete_each(void *p[12]) {
    size_t bad = 5000, al = 64;
    _ZdlPv(p[0]);
    _ZdaPv(p[1]);
    _ZdlPvm(p[2], bad);
    _ZdaPvm(p[3], bad);
    _ZdlPvSt11align_val_t(p[4], al);
    _ZdaPvSt11align_val_t(p[5], al);
    _ZdlPvmSt11align_val_t(p[6], bad, al);
    _ZdaPvmSt11align_val_t(p[7], bad, al);
    _ZdlPvRKSt9nothrow_t(p[8], &nothrow);
    _ZdaPvRKSt9nothrow_t(p[9], &nothrow);
    _ZdlPvSt11align_val_tRKSt9nothrow_t(p[10], al, &nothrow);
    _ZdaPvSt11align_val_tRKSt9nothrow_t(p[11], al, &nothrow);
}

/* A block of 100 bytes from new form `form` (8 of them); *align: its
 * alignment. */
static void *new_with(int form, size_t *align) {
    static const size_t aligns[8] = {16, 16, 16, 16, 256, 4096, 64, 128};
    *align = aligns[form];
    switch (form) {
    case 0:
        return _Znwm(100);
    case 1:
        return _Znam(100);
    case 2:
        return _ZnwmRKSt9nothrow_t(100, &nothrow);
    case 3:
        return _ZnamRKSt9nothrow_t(100, &nothrow);
    case 4:
        return _ZnwmSt11align_val_t(100, *align);
    case 5:
        return _ZnamSt11align_val_t(100, *align);
    case 6:
        return _ZnwmSt11align_val_tRKSt9nothrow_t(100, *align, &nothrow);
    default:
        return _ZnamSt11align_val_tRKSt9nothrow_t(100, *align, &nothrow);
    }
}

int main(int argc, char **argv) {
    (void)argv;
    if (argc == 2) { /* the child: no libstdc++ here, so no bad_alloc */
        _Znwm(huge); /* aborts */
        return 0;
    }
    int marked = 0;
    for (int form = 0; form < 8; form++) {
        void *p[12];
        size_t align;
        for (int k = 0; k < 12; k++) {
            p[k] = new_with(form, &align);
            CHECK(p[k] && (uintptr_t)p[k] % align == 0 && pgc_usable_size(p[k]) >= 100,
                  "new form %d: %p", form, p[k]);
            memset(p[k], 1, 100);
        }
        delete_each(p);
        for (int k = 0; k < 12; k++) { /* a pool block is marked freed */
            int pooled = pgc_in_region(p[k]);
            marked += pooled;
            CHECK(!pooled || ((pgc_block *)p[k])->freed_mark == pgc_freed_mark(p[k]),
                  "delete form %d did not free the block of new form %d", k, form);
        }
    }
    CHECK(marked >= 4 * 12 || !pgc__region.base, "%d pool blocks: the unaligned forms' 48 are",
          marked);
    CHECK(!_ZnwmRKSt9nothrow_t(huge, &nothrow) && !_ZnamRKSt9nothrow_t(huge, &nothrow) &&
              !_ZnwmSt11align_val_tRKSt9nothrow_t(huge, 64, &nothrow) &&
              !_ZnamSt11align_val_tRKSt9nothrow_t(huge, 64, &nothrow),
          "a nothrow new of SIZE_MAX / 2 bytes did not return NULL");
    pgc_check(); /* the wrong sizes corrupted nothing */

    static char err[4096];
    int rc = run_self("throw", (char *[]){NULL}, err, sizeof err);
    char want[160];
    snprintf(want, sizeof want,
             "poolgc: operator new(%zu): out of memory, and no C++ runtime to "
             "throw std::bad_alloc\n",
             (size_t)huge);
    CHECK(rc == -1 && !strcmp(err, want), "exit %d, stderr [%s]", rc, err);
    return check_done();
}
