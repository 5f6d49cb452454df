/*
 * prof_sites - allocation sites of known weight, for the heap profiler's
 * test (prof_pprof.sh), run with libpoolgc.so preloaded and POOLGC_PROF set.
 *
 *   prof_sites sites    site_mixed_big allocates three times the bytes of
 *                       site_mixed_small, in the same sizes, from every tier
 *                       (pool blocks, jemalloc, blocks of a megabyte), and
 *                       frees all of it; site_temp_big and site_temp_small do
 *                       the same with pool blocks freed at once (the churn
 *                       that pool free lists recycle); site_churn frees
 *                       three times the bytes site_kept keeps, turn by turn
 *                       (site_kept's blocks freed at the end of a slice);
 *                       site_leak allocates LEAK_BYTES and never frees them.
 *   prof_sites threads  four threads allocate at site_thread_big and
 *                       site_thread_small (3 : 1 again); most blocks are
 *                       freed by another thread, all by the end, while the
 *                       main thread writes profiles to PATH with
 *                       pgc_prof_dump: the test reads the last one.
 *
 * Built -O0 -fno-omit-frame-pointer (the pragma below holds even when CFLAGS
 * say -O2) with each site noinline and its own code (a tag of its own, so
 * that no compiler folds two sites into one), so that each call to malloc
 * sits in its site's own frame and pprof names it. The program prints the
 * bytes each site allocated (as the profile counts them), for the test.
 */
#if defined(__clang__)
#pragma clang optimize off
#elif defined(__GNUC__)
#pragma GCC optimize("O0", "no-omit-frame-pointer")
#endif
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MB (1024 * 1024L)
#define UNIT (10 * MB) /* about site_*_small's bytes; site_*_big's: 3 times as many */
#define SLICE (1 * MB)
#define LEAK_BYTES (8 * MB)
#define SITE __attribute__((noinline))

/* xorshift64, one state per thread */
static __thread uint64_t rng = 42;
static size_t next_random(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (size_t)rng;
}

/* Sizes of every tier: small pool blocks (16..512), medium pool blocks
 * (513..8K), jemalloc's classes (8K..64K), and some of a megabyte. */
static size_t mixed_size(void) {
    size_t r = next_random() % 100;
    if (r < 60)
        return 16 + next_random() % 497;
    if (r < 97)
        return 513 + next_random() % (64 * 1024 - 512);
    return 1 * MB;
}

static size_t small_size(void) {
    return 16 + next_random() % 497;
}

/* A sequence of request sizes that add up to about `bytes`: a site that
 * runs it three times allocates exactly three times the bytes of one that
 * runs it once. */
#define SEQ_MAX 16384
struct sequence {
    size_t n, size[SEQ_MAX];
};
static void make_sequence(struct sequence *s, size_t (*size_of)(void), long bytes) {
    s->n = 0;
    for (long left = bytes; left > 0 && s->n < SEQ_MAX; s->n++) {
        s->size[s->n] = size_of();
        left -= (long)s->size[s->n];
    }
}

static void touch(char *p, size_t n, char tag) {
    p[0] = tag;
    p[n - 1] = tag;
}

/* Blocks kept until free_kept(). */
static void *kept[1 << 16];
static size_t nkept;

static void free_kept(void) {
    while (nkept)
        free(kept[--nkept]);
}

/* Site bodies are macros so that malloc is called from each site's own frame. */
#define KEEP_ALL(s, times, tag)                                                                    \
    for (int t = 0; t < (times); t++)                                                              \
        for (size_t i = 0; i < (s)->n; i++) {                                                      \
            char *p = malloc((s)->size[i]);                                                        \
            if (!p)                                                                                \
                abort();                                                                           \
            touch(p, (s)->size[i], tag);                                                           \
            kept[nkept++] = p;                                                                     \
        }

/* Pool blocks freed at once: the same few blocks come back again and again. */
#define FREE_AT_ONCE(s, times, tag)                                                                \
    for (int t = 0; t < (times); t++)                                                              \
        for (size_t i = 0; i < (s)->n; i++) {                                                      \
            char *p = malloc((s)->size[i]);                                                        \
            if (!p)                                                                                \
                abort();                                                                           \
            touch(p, (s)->size[i], tag);                                                           \
            free(p);                                                                               \
        }

SITE static void site_mixed_big(const struct sequence *s) {
    KEEP_ALL(s, 3, 1);
}
SITE static void site_mixed_small(const struct sequence *s) {
    KEEP_ALL(s, 1, 2);
}
SITE static void site_leak(const struct sequence *s) {
    KEEP_ALL(s, 1, 3);
}
SITE static void site_temp_big(const struct sequence *s) {
    FREE_AT_ONCE(s, 3, 4);
}
SITE static void site_temp_small(const struct sequence *s) {
    FREE_AT_ONCE(s, 1, 5);
}

/* One block each, called in turn: a block kept, then three freed at once, of
 * the same size. A profiler that let the churn's samples land on the next
 * allocation, or the kept blocks' on the churn, would tilt the 3 : 1. */
SITE static void site_kept(size_t n) {
    char *p = malloc(n);
    if (!p)
        abort();
    touch(p, n, 8);
    kept[nkept++] = p;
}
SITE static void site_churn(size_t n) {
    char *p = malloc(n);
    if (!p)
        abort();
    touch(p, n, 9);
    free(p);
}

static struct sequence seq;

/* The bytes a sequence allocates as a heap profile counts them: a request
 * of up to 512 bytes as its size class (a multiple of 16, poolgc(3)), a
 * larger one as asked. */
static long sequence_bytes(const struct sequence *s) {
    long n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += (long)(s->size[i] <= 512 ? (s->size[i] + 15) & ~(size_t)15 : s->size[i]);
    return n;
}

static int sites(void) {
    long mixed = 0, temp = 0, turns = 0;
    /* UNIT / SLICE slices, interleaved, so that both sites of a pair meet
     * the same pools, runs and countdown. */
    for (long done = 0; done < UNIT; done += SLICE) {
        make_sequence(&seq, mixed_size, SLICE);
        site_mixed_big(&seq);
        site_mixed_small(&seq);
        mixed += sequence_bytes(&seq);
        free_kept();
        make_sequence(&seq, small_size, SLICE);
        site_temp_big(&seq);
        site_temp_small(&seq);
        temp += sequence_bytes(&seq);
        make_sequence(&seq, small_size, SLICE);
        for (size_t i = 0; i < seq.n; i++) {
            site_kept(seq.size[i]);
            for (int k = 0; k < 3; k++)
                site_churn(seq.size[i]);
        }
        free_kept();
        turns += sequence_bytes(&seq);
    }
    make_sequence(&seq, mixed_size, LEAK_BYTES);
    site_leak(&seq); /* still allocated at exit */
    printf("site_mixed_big %ld\nsite_mixed_small %ld\nsite_temp_big %ld\nsite_temp_small %ld\n"
           "site_churn %ld\nsite_kept %ld\nsite_leak %ld\n",
           3 * mixed, mixed, 3 * temp, temp, 3 * turns, turns, sequence_bytes(&seq));
    return 0;
}

/* ---- threads ------------------------------------------------------------------ */

#define THREADS 4
#define SLOTS 4096

/* Thread i allocates into ring[i]; thread (i + 1) % THREADS frees from it. */
static struct ring {
    pthread_mutex_t lock;
    void *slot[SLOTS];
    size_t head, tail; /* allocated at head, freed at tail */
} ring[THREADS];

static void put(struct ring *r, void *p) {
    pthread_mutex_lock(&r->lock);
    if (r->head - r->tail == SLOTS) /* full: free the oldest here */
        free(r->slot[r->tail++ % SLOTS]);
    r->slot[r->head++ % SLOTS] = p;
    pthread_mutex_unlock(&r->lock);
}

static void drain_ring(struct ring *r, size_t keep) {
    pthread_mutex_lock(&r->lock);
    while (r->head - r->tail > keep)
        free(r->slot[r->tail++ % SLOTS]);
    pthread_mutex_unlock(&r->lock);
}

#define TO_RING(s, times, mine, tag)                                                               \
    for (int t = 0; t < (times); t++)                                                              \
        for (size_t i = 0; i < (s)->n; i++) {                                                      \
            char *p = malloc((s)->size[i]);                                                        \
            if (!p)                                                                                \
                abort();                                                                           \
            touch(p, (s)->size[i], tag);                                                           \
            put(mine, p);                                                                          \
        }

SITE static void site_thread_big(const struct sequence *s, struct ring *mine) {
    TO_RING(s, 3, mine, 6);
}
SITE static void site_thread_small(const struct sequence *s, struct ring *mine) {
    TO_RING(s, 1, mine, 7);
}

static struct sequence thread_seq[THREADS];

static size_t thread_size(void) {
    return 16 + next_random() % 4096;
}

static void *worker(void *arg) {
    int i = (int)(intptr_t)arg;
    struct ring *mine = &ring[i], *theirs = &ring[(i + 1) % THREADS];
    struct sequence *s = &thread_seq[i];
    rng += (uint64_t)i * 7919;
    for (long done = 0; done < UNIT / THREADS; done += SLICE / 4) {
        make_sequence(s, thread_size, SLICE / 4);
        site_thread_big(s, mine);
        site_thread_small(s, mine);
        drain_ring(theirs, SLOTS / 2);
    }
    return NULL;
}

static int threads(const char *path) {
    int (*dump)(const char *) = (int (*)(const char *))dlsym(RTLD_DEFAULT, "pgc_prof_dump");
    if (!dump) {
        fprintf(stderr, "prof_sites: pgc_prof_dump not found (is libpoolgc.so preloaded?)\n");
        return 1;
    }
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        pthread_mutex_init(&ring[i].lock, NULL);
        if (pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i))
            return 1;
    }
    for (int i = 0; i < 20; i++) { /* while the threads allocate */
        if (dump(path) != 0) {
            perror("prof_sites: pgc_prof_dump");
            return 1;
        }
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < THREADS; i++) /* the main thread's frees are remote frees */
        drain_ring(&ring[i], 0);
    if (dump(path) != 0) {
        perror("prof_sites: pgc_prof_dump");
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "sites"))
        return sites();
    if (argc >= 3 && !strcmp(argv[1], "threads"))
        return threads(argv[2]);
    fprintf(stderr, "usage: prof_sites sites | prof_sites threads PATH\n");
    return 2;
}
