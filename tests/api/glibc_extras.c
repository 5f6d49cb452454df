/*
 * glibc_extras - the glibc-only calls that programs make (gcc's cc1 calls
 * mallinfo2, the JVM malloc_trim) work and say something true:
 * mallinfo2/mallinfo count a 1 MiB block and 10000 small blocks while they
 * live and forget them when freed; malloc_trim returns 0 or 1; mallopt accepts
 * glibc's parameters; malloc_stats writes to stderr and never to stdout.
 */
#include <dlfcn.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../check.h"

/* mallinfo() is deprecated in glibc 2.33+, but programs still call it. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/* poolgc counts every block in uordblks; glibc counts mmapped blocks in hblkhd. */
static int on_poolgc(void) {
    return dlsym(RTLD_DEFAULT, "pgc_malloc") != NULL;
}

static long long in_use2(void) {
    struct mallinfo2 mi = mallinfo2();
    return on_poolgc() ? (long long)mi.uordblks : (long long)(mi.uordblks + mi.hblkhd);
}

static long long in_use1(void) {
    struct mallinfo mi = mallinfo();
    return on_poolgc() ? (long long)mi.uordblks : (long long)mi.uordblks + mi.hblkhd;
}

#define MIB (1LL << 20)

int main(void) {
    /* One 1 MiB block. */
    long long before = in_use2(), before1 = in_use1();
    char *big = malloc(1 << 20);
    memset(big, 1, 1 << 20);
    long long during = in_use2(), during1 = in_use1();
    CHECK(during - before >= MIB && during - before <= MIB + MIB / 4,
          "mallinfo2 in-use grew by %lld after malloc(1 MiB), want about %lld", during - before,
          MIB);
    CHECK(during1 - before1 >= MIB && during1 - before1 <= MIB + MIB / 4,
          "mallinfo in-use grew by %lld after malloc(1 MiB), want about %lld", during1 - before1,
          MIB);
    free(big);
    long long after = in_use2();
    CHECK(after - before < MIB / 16 && before - after < MIB / 16,
          "mallinfo2 in-use is %lld after free(1 MiB), was %lld before", after, before);

    /* 10000 blocks of 100 bytes. */
    static void *small[10000];
    before = in_use2();
    for (int i = 0; i < 10000; i++)
        small[i] = malloc(100);
    during = in_use2();
    CHECK(during - before >= 10000LL * 100 && during - before <= 10000LL * 200,
          "mallinfo2 in-use grew by %lld after 10000 x malloc(100), want 1000000..2000000",
          during - before);
    for (int i = 0; i < 10000; i++)
        free(small[i]);
    after = in_use2();
    CHECK(after - before < 10000LL * 16,
          "mallinfo2 in-use is %lld after freeing 10000 blocks, was %lld before", after, before);

    /* The other fields must not be nonsense. */
    struct mallinfo2 mi = mallinfo2();
    CHECK(mi.arena < (size_t)1 << 50 && mi.fordblks < (size_t)1 << 50 &&
              mi.hblkhd < (size_t)1 << 50,
          "mallinfo2 fields look negative: arena %zu fordblks %zu hblkhd %zu", mi.arena,
          mi.fordblks, mi.hblkhd);

    /* malloc_trim: 0 or 1, with and without a pad, after large frees. */
    for (int i = 0; i < 8; i++)
        free(malloc((size_t)(i + 1) << 20));
    int t0 = malloc_trim(0), t1 = malloc_trim(1 << 20);
    CHECK(t0 == 0 || t0 == 1, "malloc_trim(0) = %d, want 0 or 1", t0);
    CHECK(t1 == 0 || t1 == 1, "malloc_trim(1 MiB) = %d, want 0 or 1", t1);

    /* mallopt accepts glibc's parameters (returns 1 on success). */
    CHECK(mallopt(M_TRIM_THRESHOLD, 1 << 20) == 1, "mallopt(M_TRIM_THRESHOLD) != 1");
    CHECK(mallopt(M_MMAP_THRESHOLD, 1 << 20) == 1, "mallopt(M_MMAP_THRESHOLD) != 1");
    CHECK(mallopt(M_TOP_PAD, 0) == 1, "mallopt(M_TOP_PAD) != 1");
    CHECK(mallopt(M_ARENA_MAX, 4) == 1, "mallopt(M_ARENA_MAX) != 1");
    void *p = malloc(200);
    CHECK(p != NULL, "malloc after mallopt failed");
    free(p);

    /* malloc_stats: something on stderr, nothing on stdout. */
    FILE *out = tmpfile(), *err = tmpfile();
    CHECK(out && err, "tmpfile failed");
    if (out && err) {
        fflush(stdout);
        fflush(stderr);
        int save1 = dup(1), save2 = dup(2);
        dup2(fileno(out), 1);
        dup2(fileno(err), 2);
        malloc_stats();
        fflush(stdout);
        fflush(stderr);
        dup2(save1, 1);
        dup2(save2, 2);
        close(save1);
        close(save2);
        long nout = lseek(fileno(out), 0, SEEK_END), nerr = lseek(fileno(err), 0, SEEK_END);
        CHECK(nout == 0, "malloc_stats wrote %ld bytes to stdout", nout);
        CHECK(nerr > 0, "malloc_stats wrote nothing to stderr");
        fclose(out);
        fclose(err);
    }

    return check_done();
}
