/*
 * init - start-up and fork (lib/init.c): pgc__init_ensure is idempotent (a
 * second call changes neither the region nor the options). A fork child
 * allocates and frees small and large blocks even when another thread was
 * allocating at the moment of fork and the forking thread held pgc_lock(),
 * which the child then holds too; in the child, the other thread's heap is
 * orphaned (fork may have stopped it mid-update) and a new thread gets a heap
 * of its own, while the forking thread keeps its own (when there are pools,
 * hence heaps).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "../check.h"

static pgc_heap *_Atomic busy_heap;
static atomic_int stop;

static void *busy(void *arg) {
    (void)arg;
    free(malloc(32));
    atomic_store(&busy_heap, pgc__heap_tls);
    for (unsigned i = 0; !atomic_load(&stop); i++)
        free(malloc(i % 3 ? 1 + i % PGC_SMALL_MAX : 1000 + i % 100000));
    return NULL;
}

static void *adopt(void *arg) {
    free(malloc(32));
    *(pgc_heap **)arg = pgc__heap_tls;
    return NULL;
}

static int child(void) {
    int pools = pgc__region.base != 0; /* else no thread has a heap */
    int ok =
        !pools || (busy_heap->state == PGC_HEAP_ORPHANED && pgc__heap_tls->state == PGC_HEAP_OWNED);
    pgc_unlock(); /* held across fork: the child holds it too */
    pgc_lock();
    pgc_unlock();
    for (unsigned i = 0; i < 10000; i++)
        free(malloc(i % 3 ? 1 + i % PGC_SMALL_MAX : 1000 + i % 100000));
    pgc_heap *adopted = NULL;
    pthread_t t;
    ok &= pthread_create(&t, NULL, adopt, &adopted) == 0 && pthread_join(t, NULL) == 0;
    ok &= !pools || (adopted != busy_heap && adopted != NULL);
    return ok ? 0 : 1;
}

int main(void) {
    free(malloc(16));
    pgc_region region = pgc__region;
    pgc_options options = pgc__options;
    pgc__init_ensure();
    CHECK(pgc__region.base == region.base && pgc__region.size == region.size &&
              !memcmp(&options, &pgc__options, sizeof options),
          "a second pgc__init_ensure changed the region or the options");

    /* jemalloc has not started: the busy thread starts it while the forks
     * run. A fork in the middle of jemalloc's start-up must wait for its end
     * (jemalloc registers its fork handlers only then): else the child finds
     * jemalloc's start-up lock held and its first large request hangs,
     * which the alarm turns into a failure. */
    pthread_t t;
    pthread_create(&t, NULL, busy, NULL);
    while (!atomic_load(&busy_heap))
        sched_yield();
    for (int round = 0; round < 5; round++) {
        pgc_lock();
        pid_t pid = fork();
        if (pid == 0) {
            alarm(20);
            _exit(child());
        }
        pgc_unlock();
        int status = 0;
        CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
                  WEXITSTATUS(status) == 0,
              "round %d: fork child failed (status %#x)", round, status);
    }
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    return check_done();
}
