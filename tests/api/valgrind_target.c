/*
 * valgrind_target - the program valgrind_memcheck.sh runs under memcheck:
 * "malloc" reads a pgc_malloc block after pgc_free, "gc" reads a GC object
 * after its last reference is dropped, "clean" does everything right. The
 * reads are the bugs memcheck must report.
 */
#include <stdio.h>
#include <string.h>
#include "poolgc.h"

static const pgc_type leaf = {"leaf", NULL, NULL, NULL};

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "clean";
    volatile char sink = 0;
    char *p = pgc_malloc(64);
    memset(p, 'x', 64);
    long *obj = pgc_new(&leaf, sizeof(long));
    *obj = 42;
    if (!strcmp(mode, "malloc")) {
        pgc_free(p);
        sink = p[10]; /* read after free */
        pgc_decref(obj);
    } else if (!strcmp(mode, "gc")) {
        pgc_decref(obj);
        sink = (char)*obj; /* read after the object was freed */
        pgc_free(p);
    } else {
        sink = p[10];
        pgc_free(p);
        pgc_decref(obj);
    }
    printf("%d\n", sink != 0);
    return 0;
}
