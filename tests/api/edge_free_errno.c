/*
 * edge_free_errno - free() leaves errno unchanged (POSIX.1-2024 requires it,
 * and glibc does it) for small, large and huge blocks, as do free(NULL), the C23
 * free_sized / free_aligned_sized (when exported) and frees from a thread.
 * Slow free paths (madvise, munmap, jemalloc purges) must restore errno.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../check.h"

/* glibc 2.36 lacks these (C23); poolgc exports them. */
typedef void (*free_sized_fn)(void *, size_t);
typedef void (*free_aligned_sized_fn)(void *, size_t, size_t);

static const size_t sizes[] = {0, 1, 16, 100, 512, 513, 4096, 65536, 1 << 20, 16 << 20, 256 << 20};
#define NSIZES (sizeof sizes / sizeof *sizes)

static void free_all_sizes(const char *who) {
    void *blocks[NSIZES];
    for (size_t i = 0; i < NSIZES; i++) {
        blocks[i] = malloc(sizes[i]);
        CHECK(blocks[i] != NULL, "%s: malloc(%zu) failed", who, sizes[i]);
        if (blocks[i] && sizes[i])
            memset(blocks[i], 1, sizes[i] < 65536 ? sizes[i] : 65536);
    }
    for (size_t i = 0; i < NSIZES; i++) {
        errno = 1234;
        free(blocks[i]);
        CHECK(errno == 1234, "%s: free(malloc(%zu)) changed errno to %d", who, sizes[i], errno);
    }
    /* Many blocks of one class, so that whole pools and arenas empty out
     * (main and the thread run this one after the other). */
    static void *many[20000];
    for (int i = 0; i < 20000; i++)
        many[i] = malloc(64);
    for (int i = 0; i < 20000; i++) {
        errno = 1234;
        free(many[i]);
        if (errno != 1234) {
            CHECK(errno == 1234, "%s: free of 64-byte block #%d changed errno to %d", who, i,
                  errno);
            break;
        }
    }
}

static void *thread_main(void *arg) {
    (void)arg;
    free_all_sizes("thread");
    return NULL;
}

int main(void) {
    errno = 1234;
    free(NULL);
    CHECK(errno == 1234, "free(NULL) changed errno to %d", errno);

    free_all_sizes("main");

    pthread_t t;
    CHECK(pthread_create(&t, NULL, thread_main, NULL) == 0, "pthread_create failed");
    pthread_join(t, NULL);

    /* Blocks freed by a thread other than the one that made them. */
    void *blocks[NSIZES];
    for (size_t i = 0; i < NSIZES; i++)
        blocks[i] = malloc(sizes[i]);
    free_sized_fn fs = (free_sized_fn)dlsym(RTLD_DEFAULT, "free_sized");
    free_aligned_sized_fn fas = (free_aligned_sized_fn)dlsym(RTLD_DEFAULT, "free_aligned_sized");
    for (size_t i = 0; i < NSIZES; i++) {
        errno = 1234;
        if (fs && i % 2)
            fs(blocks[i], sizes[i]);
        else
            free(blocks[i]);
        CHECK(errno == 1234, "free%s(%zu-byte block) changed errno to %d",
              fs && i % 2 ? "_sized" : "", sizes[i], errno);
    }
    if (fas) {
        for (size_t a = 16; a <= 8192; a *= 4) {
            void *p = aligned_alloc(a, 3 * a);
            errno = 1234;
            fas(p, a, 3 * a);
            CHECK(errno == 1234, "free_aligned_sized(align %zu) changed errno to %d", a, errno);
        }
    }

    return check_done();
}
