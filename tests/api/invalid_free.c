/*
 * invalid_free - in the default mode (no option set), freeing or
 * reallocating a pointer into a pool block that is not the block's start
 * prints one line and aborts, as glibc's "free(): invalid pointer" does:
 *   poolgc: free(): invalid pointer 0x... (byte K of the N-byte block 0x...)
 * N is the block's class size. Without the check, the free would put the
 * block's inside on the free list, and malloc would hand it out over the
 * block still in use.
 * Cases: the owner's free of a pointer 16 bytes in, and 3 bytes in; another
 * thread's free; realloc; a medium block in a later slot of its wide pool.
 * And no false alarm: every block of two pools of every class, freed at
 * its start, in an order that leaves every offset in use.
 *
 * The harness of debug_test.h (a forked child that writes the line it
 * expects, then plants the bug), without POOLGC_DEBUG.
 */
#include <pthread.h>

#include "debug_test.h"

static void *volatile shared;

static void owner_16_bytes_in(void) {
    char *p = malloc(40);
    expect_line("poolgc: free(): invalid pointer %p (byte 16 of the 48-byte block %p)",
                (void *)(p + 16), (void *)p);
    free(p + 16);
}

static void owner_3_bytes_in(void) {
    char *p = calloc(1, 100);
    expect_line("poolgc: free(): invalid pointer %p (byte 3 of the 112-byte block %p)",
                (void *)(p + 3), (void *)p);
    free(p + 3);
}

static void *free_shared(void *arg) {
    (void)arg;
    free(shared);
    return NULL;
}

static void another_thread(void) {
    char *p = malloc(200);
    expect_line("poolgc: free(): invalid pointer %p (byte 32 of the 208-byte block %p)",
                (void *)(p + 32), (void *)p);
    shared = p + 32;
    pthread_t t;
    if (pthread_create(&t, NULL, free_shared, NULL) != 0 || pthread_join(t, NULL) != 0)
        _exit(3);
}

static void reallocated(void) {
    char *p = malloc(64);
    expect_line("poolgc: realloc(): invalid pointer %p (byte 16 of the 64-byte block %p)",
                (void *)(p + 16), (void *)p);
    if (!realloc(p + 16, 32))
        _exit(3);
}

/* A 4000-byte request (class 4096) in the third 16 KiB slot of its 64 KiB
 * pool: the offset is taken in the whole pool, not in the slot. */
static void wide_pool(void) {
    char *keep[16];
    for (int i = 0; i < 16; i++)
        keep[i] = malloc(4000);
    char *p = keep[10];
    expect_line("poolgc: free(): invalid pointer %p (byte 1000 of the 4096-byte block %p)",
                (void *)(p + 1000), (void *)p);
    free(p + 1000);
}

/* Every class up to 64 KiB: two pools' worth of blocks, every other one
 * freed first, then the rest; nothing may be reported. */
static void every_class_at_its_start(void) {
    enum { MAX = 2048 };
    static void *blocks[MAX];
    for (size_t size = 16; size <= 65536; size += size < 512 ? 16 : size / 8) {
        size_t n = 2 * 65536 / size + 4;
        if (n > MAX)
            n = MAX;
        for (size_t i = 0; i < n; i++)
            if (!(blocks[i] = malloc(size)))
                _exit(3);
        for (size_t i = 0; i < n; i += 2)
            free(blocks[i]);
        for (size_t i = 1; i < n; i += 2)
            free(blocks[i]);
    }
}

int main(void) {
    expect_abort("the owner, 16 bytes in", owner_16_bytes_in);
    expect_abort("the owner, 3 bytes in", owner_3_bytes_in);
    expect_abort("another thread", another_thread);
    expect_abort("realloc", reallocated);
    expect_abort("a later slot of a wide pool", wide_pool);
    expect_exit("every class, at its start", every_class_at_its_start);
    return check_done();
}
