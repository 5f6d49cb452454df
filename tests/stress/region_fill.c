/*
 * region_fill - a helper for region_exhaustion.sh (not a test by itself):
 * allocates ~40 MiB of small blocks from main and 2 threads, far beyond a
 * pool region shrunk with POOLGC_REGION=4M, checks every block's contents,
 * frees half, allocates again, checks again, frees everything. Exit 0 when
 * every block was granted and stayed intact.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PER_THREAD 100000
#define THREADS 3 /* main counts as one */

static size_t size_of(int id, int i) {
    return 1 + (size_t)(i * 131 + id * 17) % 512;
}
static unsigned char tag(int id, int i) {
    return (unsigned char)(i * 7 + id);
}

static int fill_check(int id, unsigned char **b) {
    int bad = 0;
    for (int i = 0; i < PER_THREAD; i++) {
        b[i] = malloc(size_of(id, i));
        if (!b[i]) {
            fprintf(stderr, "%s:%d: malloc(%zu) #%d failed in thread %d\n", __FILE__, __LINE__,
                    size_of(id, i), i, id);
            return 1;
        }
        if ((uintptr_t)b[i] & 15) {
            if (bad++ < 5)
                fprintf(stderr, "%s:%d: thread %d: malloc(%zu) = %p is not 16-aligned\n", __FILE__,
                        __LINE__, id, size_of(id, i), (void *)b[i]);
        }
        memset(b[i], tag(id, i), size_of(id, i));
    }
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < PER_THREAD; i++) {
            for (size_t k = 0; k < size_of(id, i); k++)
                if (b[i][k] != tag(id, i)) {
                    if (bad++ < 5)
                        fprintf(stderr, "%s:%d: thread %d block %d (%zu bytes) corrupted at %zu\n",
                                __FILE__, __LINE__, id, i, size_of(id, i), k);
                    break;
                }
        }
        if (round == 0) {
            for (int i = 0; i < PER_THREAD; i += 2) {
                free(b[i]);
                b[i] = malloc(size_of(id, i));
                if (!b[i]) {
                    fprintf(stderr, "%s:%d: malloc failed on refill\n", __FILE__, __LINE__);
                    return 1;
                }
                memset(b[i], tag(id, i), size_of(id, i));
            }
        }
    }
    for (int i = 0; i < PER_THREAD; i++)
        free(b[i]);
    return bad != 0;
}

static void *thread_main(void *arg) {
    int id = (int)(uintptr_t)arg;
    unsigned char **b = malloc(PER_THREAD * sizeof *b);
    if (!b)
        return (void *)1;
    int rc = fill_check(id, b);
    free(b);
    return (void *)(uintptr_t)rc;
}

int main(void) {
    alarm(60);
    pthread_t t[THREADS - 1];
    for (uintptr_t i = 1; i < THREADS; i++)
        if (pthread_create(&t[i - 1], NULL, thread_main, (void *)i)) {
            fprintf(stderr, "%s:%d: pthread_create failed\n", __FILE__, __LINE__);
            return 1;
        }
    int rc = (int)(uintptr_t)thread_main((void *)0);
    for (int i = 0; i < THREADS - 1; i++) {
        void *r;
        pthread_join(t[i], &r);
        rc |= (int)(uintptr_t)r;
    }
    return rc;
}
