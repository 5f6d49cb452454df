/* gc_threads - the lock rule: threads share objects only under pgc_lock(),
 * which is recursive; the collector runs from whichever thread holds it,
 * finding cycles that span objects made by several threads; a fork()
 * child of a thread holding the lock can use the GC layer. */
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gc_test.h"

#define THREADS 4
#define ROUNDS 2000

static node *shared; /* every thread links its objects to it, under the lock */

static void *worker(void *arg) {
    long id = (long)arg;
    for (int i = 0; i < ROUNDS; i++) {
        pgc_lock();
        node *a = node_new(id), *b = node_new(id);
        node_set(a, 0, b);
        node_set(b, 0, a);
        node_set(b, 1, shared->child[(id + 1) % NODE_SLOTS]); /* another thread's object */
        pgc_lock();                                           /* recursive */
        node_set(shared, (int)(id % NODE_SLOTS), a);
        pgc_unlock();
        pgc_decref(a);
        pgc_decref(b);
        if (i % 100 == 0)
            pgc_collect(i % 3);
        pgc_unlock();
    }
    return NULL;
}

int main(void) {
    pthread_t t[THREADS];
    shared = node_new(0);
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);

    pgc_lock();
    pgc_lock();
    pid_t pid = fork();
    if (pid == 0) { /* holds the lock twice, like its parent thread */
        pgc_unlock();
        node *n = node_new(9);
        node_set(n, 0, n);
        pgc_decref(n);
        size_t found = pgc_collect(2);
        pgc_unlock();
        pgc_lock();
        pgc_unlock();
        _exit(found >= 1 ? 0 : 1);
    }
    pgc_unlock();
    pgc_unlock();
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fork child status %#x", status);

    pgc_decref(shared);
    pgc_collect(2);
    CHECK(nodes_released == 1 + 2 * THREADS * ROUNDS, "released %zu of %d", nodes_released,
          1 + 2 * THREADS * ROUNDS);
    CHECK(pgc_get_objects(-1, NULL, 0) == 0, "objects left");
    return check_done();
}
