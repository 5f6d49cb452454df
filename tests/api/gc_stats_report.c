/* gc_stats_report - with POOLGC_STATS on, the report at exit has a GC
 * section: live GC objects and bytes per type name, most bytes first (types
 * with no live object left out), and per generation the collections, the
 * objects collected and the time they took. The program runs itself with
 * POOLGC_STATS=json and POOLGC_STATS_FILE, and reads the file. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gc_test.h"

static const pgc_type alpha_type = {"alpha", NULL, NULL, NULL};
static const pgc_type beta_type = {"beta", node_traverse, NULL, NULL};
static const pgc_type gamma_type = {"gamma", NULL, NULL, NULL};

static int child(void) {
    void *keep[16];
    for (int i = 0; i < 10; i++)
        keep[i] = pgc_new(&alpha_type, 100); /* 116 bytes and more each */
    for (int i = 10; i < 13; i++)
        keep[i] = pgc_new(&beta_type, sizeof(node));
    for (int i = 0; i < 5; i++)
        pgc_decref(pgc_new(&gamma_type, 8));
    node *a = node_new(1), *b = node_new(2);
    node_set(a, 0, b);
    node_set(b, 0, a);
    pgc_decref(a);
    pgc_decref(b);
    pgc_collect(2);
    (void)keep;
    return 0; /* the report is written at exit */
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "child") == 0)
        return child();
    char path[] = "/tmp/gc_stats_report.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("mkstemp");
        return 2;
    }
    pid_t pid = fork();
    if (pid == 0) {
        setenv("POOLGC_STATS", "json", 1);
        setenv("POOLGC_STATS_FILE", path, 1);
        execl("/proc/self/exe", argv[0], "child", (char *)NULL);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
    static char report[65536];
    ssize_t n = read(fd, report, sizeof report - 1);
    close(fd);
    unlink(path);
    report[n > 0 ? n : 0] = 0;
    const char *gc = strstr(report, "\"gc\": {");
    CHECK(gc != NULL, "no GC section in %s", report);
    if (!gc)
        return check_done();
    printf("%.600s\n", gc);
    const char *alpha = strstr(gc, "{\"name\": \"alpha\", \"objects\": 10, \"bytes\": ");
    const char *beta = strstr(gc, "{\"name\": \"beta\", \"objects\": 3, \"bytes\": ");
    CHECK(alpha && beta && alpha < beta, "alpha (10 objects) and beta (3), most bytes first");
    CHECK(alpha && atol(alpha + strlen("{\"name\": \"alpha\", \"objects\": 10, \"bytes\": ")) >=
                       10 * (100 + 16),
          "alpha's bytes");
    CHECK(!strstr(gc, "\"gamma\""), "a type with no live object listed");
    CHECK(strstr(gc, "{\"generation\": 2, \"collections\": 1, \"collected\": 2,"),
          "generation 2's collection");
    CHECK(!strstr(gc, "\"total_ns\": 0}"), "no time for the collections");
    return check_done();
}
