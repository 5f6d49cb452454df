/*
 * dlerror_threads - dlsym and dlerror allocate (the dlerror state, the error
 * string); 8 threads calling them in a loop, with dlopen of a missing library
 * now and then, must neither hang nor crash. An alarm turns a
 * hang into a failure.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"

#define THREADS 8
#define ROUNDS 3000

static void *thread_main(void *arg) {
    uintptr_t id = (uintptr_t)arg;
    char name[64];
    for (int i = 0; i < ROUNDS; i++) {
        snprintf(name, sizeof name, "poolgc_no_such_symbol_%lu_%d", (unsigned long)id, i);
        if (dlsym(RTLD_DEFAULT, name) != NULL)
            return (void *)1;
        const char *err = dlerror();
        if (err == NULL || strstr(err, "poolgc_no_such_symbol") == NULL)
            return (void *)2;
        if (dlsym(RTLD_DEFAULT, "malloc") == NULL)
            return (void *)3;
        if (i % 100 == 0) {
            if (dlopen("libpoolgc-test-does-not-exist.so", RTLD_NOW) != NULL)
                return (void *)4;
            if (dlerror() == NULL)
                return (void *)5;
        }
        free(malloc((size_t)i % 600));
    }
    return NULL;
}

int main(void) {
    alarm(60);
    pthread_t t[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], NULL, thread_main, (void *)i)) {
            fprintf(stderr, "%s:%d: pthread_create failed\n", __FILE__, __LINE__);
            return 1;
        }
    for (int i = 0; i < THREADS; i++) {
        void *res;
        pthread_join(t[i], &res);
        CHECK(res == NULL,
              "thread %d failed with code %ld (1: found a missing symbol, 2: no/wrong dlerror, "
              "3: malloc not found, 4: dlopen succeeded, 5: no dlopen error)",
              i, (long)(intptr_t)res);
    }
    return check_done();
}
