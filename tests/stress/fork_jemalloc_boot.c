/*
 * fork_jemalloc_boot - fork() while another thread starts jemalloc (its first
 * large request) neither hangs the forking thread nor the child. jemalloc
 * registers its fork handlers while it starts; run ahead of poolgc's, they
 * took jemalloc's locks before the boot lock, which the starting thread
 * held while it waited for those very locks (lib/large.c). Each round is a
 * fresh process whose jemalloc has not started: a thread makes the first
 * large request while the main thread forks, and each grandchild makes a
 * large request too.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check.h"

#define ROUNDS 200
#define FORKS 20

static atomic_int started;

static void *first_large(void *arg) {
    (void)arg;
    atomic_store(&started, 1);
    char *p = malloc(100000);
    if (p)
        memset(p, 1, 100000);
    free(p);
    return p ? NULL : (void *)1;
}

/* One round, in a process of its own: 0 when every fork came back. */
static int round_process(void) {
    pthread_t t;
    if (pthread_create(&t, NULL, first_large, NULL) != 0)
        return 1;
    while (!atomic_load(&started))
        ;
    for (int k = 0; k < FORKS; k++) {
        pid_t pid = fork();
        if (pid < 0)
            return 2;
        if (pid == 0) {
            alarm(10);
            char *p = malloc(200000);
            _exit(p ? 0 : 3);
        }
        int st = 0;
        if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            return 4;
    }
    void *res = (void *)1;
    if (pthread_join(t, &res) != 0 || res)
        return 5;
    return 0;
}

int main(void) {
    for (int r = 0; r < ROUNDS; r++) {
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "%s:%d: fork failed\n", __FILE__, __LINE__);
            return 1;
        }
        if (pid == 0) {
            alarm(20); /* a deadlock in the round: SIGALRM */
            _exit(round_process());
        }
        int st = 0;
        waitpid(pid, &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "round %d: %s %d", r,
              WIFSIGNALED(st) ? "killed by signal" : "exit status",
              WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            break;
    }
    return check_done();
}
