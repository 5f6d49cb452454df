/*
 * key_destructor_free - a thread can still allocate and free after poolgc's
 * own thread-exit hook has run: an application pthread key created
 * after the library's (so its destructor runs later) frees the thread's block,
 * frees a block main allocated, allocates new blocks (one handed back to main,
 * one stored again so that glibc runs the destructors a second round), and
 * each thread leaves glibc's own per-thread allocations behind (strerror of
 * an unknown errno, a failing dlsym). 1,000 threads; main checks every block
 * handed back after the threads are gone.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"

#define THREADS 1000
#define WAVE 8

static pthread_key_t key;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char *from_main[THREADS];
static unsigned char *handed_back[THREADS];

struct value {
    int id;
    int round;
    unsigned char payload[200];
};

static void destructor(void *arg) {
    struct value *v = arg;
    for (size_t i = 0; i < sizeof v->payload; i++)
        if (v->payload[i] != (unsigned char)v->id) {
            pthread_mutex_lock(&lock);
            if (failures++ < 5)
                fprintf(stderr, "%s:%d: thread %d's key value corrupted at byte %zu\n", __FILE__,
                        __LINE__, v->id, i);
            pthread_mutex_unlock(&lock);
            break;
        }
    int id = v->id, round = v->round;
    free(v);
    if (round == 0) {
        /* After poolgc's hook: free a remote block, allocate, hand back. */
        free(from_main[id]);
        unsigned char *b = malloc(64 + (size_t)id % 400);
        memset(b, id & 0xff, 64 + (size_t)id % 400);
        handed_back[id] = b;
        for (int i = 0; i < 50; i++)
            free(malloc((size_t)i * 11 + 1));
        /* Store again: glibc calls the destructors once more. */
        struct value *again = malloc(sizeof *again);
        again->id = id;
        again->round = 1;
        memset(again->payload, id & 0xff, sizeof again->payload);
        pthread_setspecific(key, again);
    }
}

static void *thread_main(void *arg) {
    int id = (int)(uintptr_t)arg;
    struct value *v = malloc(sizeof *v);
    v->id = id;
    v->round = 0;
    memset(v->payload, id & 0xff, sizeof v->payload);
    pthread_setspecific(key, v);
    for (int i = 0; i < 100; i++)
        free(malloc((size_t)(i * 5 + id) % 600));
    /* glibc's own per-thread buffers, freed at thread exit. */
    if (strlen(strerror(12345 + id)) == 0)
        failures++;
    if (dlsym(RTLD_DEFAULT, "poolgc_test_no_such_symbol") != NULL || dlerror() == NULL)
        failures++;
    (void)dlsym(RTLD_DEFAULT, "poolgc_test_no_such_symbol_either"); /* error left pending */
    return NULL;
}

int main(void) {
    alarm(60);
    if (pthread_key_create(&key, destructor)) {
        fprintf(stderr, "%s:%d: pthread_key_create failed\n", __FILE__, __LINE__);
        return 1;
    }
    for (int i = 0; i < THREADS; i++) {
        from_main[i] = malloc(32 + (size_t)i % 300);
        memset(from_main[i], 0x11, 32 + (size_t)i % 300);
    }
    for (int base = 0; base < THREADS; base += WAVE) {
        pthread_t t[WAVE];
        for (int i = 0; i < WAVE; i++)
            if (pthread_create(&t[i], NULL, thread_main, (void *)(uintptr_t)(base + i))) {
                fprintf(stderr, "%s:%d: pthread_create failed\n", __FILE__, __LINE__);
                return 1;
            }
        for (int i = 0; i < WAVE; i++)
            pthread_join(t[i], NULL);
    }
    for (int id = 0; id < THREADS; id++) {
        unsigned char *b = handed_back[id];
        if (!b) {
            fprintf(stderr, "%s:%d: thread %d handed back no block\n", __FILE__, __LINE__, id);
            failures++;
            continue;
        }
        for (size_t i = 0; i < 64 + (size_t)id % 400; i++)
            if (b[i] != (unsigned char)(id & 0xff)) {
                if (failures++ < 10)
                    fprintf(stderr,
                            "%s:%d: block allocated in thread %d's key destructor "
                            "corrupted at byte %zu after the thread exited\n",
                            __FILE__, __LINE__, id, i);
                break;
            }
        free(b);
    }
    /* The heap still works after all that. */
    for (int i = 0; i < 10000; i++)
        free(malloc((size_t)i % 700));
    return check_done();
}
