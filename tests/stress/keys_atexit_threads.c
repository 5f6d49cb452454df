/*
 * keys_atexit_threads - glibc's own allocations from pthread_setspecific and
 * atexit do not trip the allocator: main creates 40 pthread keys
 * (indexes past 32 make glibc calloc a second-level block) and registers 40
 * atexit handlers (more than 32 make glibc calloc a new block) before any
 * thread exists; then 8 threads set all 40 keys to malloc'd blocks, whose
 * destructors check and free them; then a forked child does the same with 2
 * threads. The atexit handlers check and free blocks at exit.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check.h"

#define KEYS 40
#define HANDLERS 40

static pthread_key_t keys[KEYS];
static unsigned char *exit_blocks[HANDLERS];
static int handler_index;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int destructor_calls;

static void destructor(void *arg) {
    unsigned char *p = arg;
    int k = p[0];
    for (int i = 1; i < 100; i++)
        if (p[i] != (unsigned char)(k + 1)) {
            pthread_mutex_lock(&lock);
            if (failures++ < 5)
                fprintf(stderr, "%s:%d: key %d's value corrupted at byte %d\n", __FILE__, __LINE__,
                        k, i);
            pthread_mutex_unlock(&lock);
            break;
        }
    free(p);
    pthread_mutex_lock(&lock);
    destructor_calls++;
    pthread_mutex_unlock(&lock);
}

static void at_exit_handler(void) {
    /* Handlers run in reverse order of registration. */
    int i = --handler_index;
    unsigned char *p = exit_blocks[i];
    for (int k = 0; k < 300; k++)
        if (p[k] != (unsigned char)i) {
            fprintf(stderr, "%s:%d: atexit block %d corrupted at byte %d\n", __FILE__, __LINE__, i,
                    k);
            _exit(1);
        }
    free(p);
    free(malloc(100)); /* allocation from an atexit handler */
}

static void *thread_main(void *arg) {
    (void)arg;
    for (int round = 0; round < 20; round++) {
        for (int k = 0; k < KEYS; k++) {
            unsigned char *p = malloc(100);
            p[0] = (unsigned char)k;
            memset(p + 1, k + 1, 99);
            void *old = pthread_getspecific(keys[k]);
            if (pthread_setspecific(keys[k], p)) {
                pthread_mutex_lock(&lock);
                if (failures++ < 5)
                    fprintf(stderr, "%s:%d: pthread_setspecific of key %d failed\n", __FILE__,
                            __LINE__, k);
                pthread_mutex_unlock(&lock);
            }
            if (old)
                destructor(old);
        }
    }
    return NULL;
}

static int run_threads(int n) {
    pthread_t t[8];
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, thread_main, NULL)) {
            fprintf(stderr, "%s:%d: pthread_create failed\n", __FILE__, __LINE__);
            return 1;
        }
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    return 0;
}

int main(void) {
    alarm(60);
    for (int k = 0; k < KEYS; k++)
        if (pthread_key_create(&keys[k], destructor)) {
            fprintf(stderr, "%s:%d: pthread_key_create #%d failed\n", __FILE__, __LINE__, k);
            return 1;
        }
    for (int i = 0; i < HANDLERS; i++) {
        exit_blocks[i] = malloc(300);
        memset(exit_blocks[i], i, 300);
        if (atexit(at_exit_handler)) {
            fprintf(stderr, "%s:%d: atexit #%d failed\n", __FILE__, __LINE__, i);
            return 1;
        }
        handler_index++;
    }
    if (run_threads(8))
        return 1;
    /* Each thread's last 40 values are freed by the key destructors at exit:
     * 8 threads x 20 rounds x 40 keys in all. */
    if (destructor_calls != 8 * 20 * KEYS) {
        fprintf(stderr, "%s:%d: %d destructor calls, want %d\n", __FILE__, __LINE__,
                destructor_calls, 8 * 20 * KEYS);
        return 1;
    }

    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(20);
        destructor_calls = 0;
        if (run_threads(2) || destructor_calls != 2 * 20 * KEYS || failures)
            _exit(1);
        exit(0); /* runs the inherited atexit handlers in the child too */
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
        fprintf(stderr, "%s:%d: forked child failed (status %#x)\n", __FILE__, __LINE__, st);
        return 1;
    }
    return check_done();
}
