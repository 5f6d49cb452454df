/*
 * prof - the heap profiler (lib/prof.c), in a child run with POOLGC_PROF and
 * POOLGC_PROF_SAMPLE=4K (run_self.h), whose constructor starts it. The
 * intervals between samples are exponential with mean POOLGC_PROF_SAMPLE:
 * over many 64-byte allocations there is one sample per 4096 bytes (within
 * 5%), the intervals drawn average 4096 (within 5%), and about 1/e of them
 * exceed it. pgc_prof_dump writes a heap profile whose first line is
 * "heap profile: L: LB [T: TB] @ heap_v2/4096", counting every sample taken,
 * and "MAPPED_LIBRARIES:"; at exit the profile goes to PREFIX.<pid>.heap.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prof.h"
#include "../check.h"
#include "run_self.h"

#define R 4096
#define SIZE 64
#define SAMPLES 20000

static int child(const char *path) {
    pgc__init_ensure(); /* links init.c, whose constructor started the profiler */
    CHECK(pgc_prof_active(), "POOLGC_PROF set, yet not profiling");
    static char block[SIZE];
    uint64_t bytes = 0, samples = 0, above = 0;
    double drawn = 0;
    while (samples < SAMPLES) {
        int64_t before = pgc__prof_thread.left;
        pgc__prof_large_malloc(block, SIZE); /* a 64-byte block, as large.c reports it */
        bytes += SIZE;
        int64_t left = pgc__prof_thread.left;
        if (left != before - SIZE && bytes > SIZE) { /* a sample: a fresh interval */
            samples++;
            drawn += (double)left;
            above += left > R;
        }
    }
    double per_sample = (double)bytes / (double)samples, mean = drawn / (double)samples;
    double tail = (double)above / (double)samples;
    CHECK(per_sample > 0.95 * R && per_sample < 1.05 * R, "one sample per %.0f bytes", per_sample);
    CHECK(mean > 0.95 * R && mean < 1.05 * R, "intervals average %.0f bytes", mean);
    CHECK(tail > 0.348 && tail < 0.388, "%.3f of the intervals exceed the mean, not 1/e", tail);
    CHECK(pgc_prof_dump(path) == 0, "pgc_prof_dump(%s) failed", path);
    FILE *f = fopen(path, "r");
    unsigned long long live, live_bytes, total, total_bytes;
    size_t rate = 0;
    char line[4096];
    int maps = 0;
    CHECK(f && fscanf(f, "heap profile: %llu: %llu [%llu: %llu] @ heap_v2/%zu\n", &live,
                      &live_bytes, &total, &total_bytes, &rate) == 5,
          "no heap_v2 header in %s", path);
    CHECK(rate == R && total >= samples && total_bytes >= samples * SIZE && live >= 1,
          "header: %llu: %llu [%llu: %llu] @ heap_v2/%zu after %llu samples", live, live_bytes,
          total, total_bytes, rate, (unsigned long long)samples);
    while (f && fgets(line, sizeof line, f))
        maps |= !strcmp(line, "MAPPED_LIBRARIES:\n");
    CHECK(maps, "no MAPPED_LIBRARIES section");
    if (f)
        fclose(f);
    unlink(path);
    return check_done();
}

int main(int argc, char **argv) {
    if (argc == 2)
        return child(argv[1]);
    char dir[] = "/tmp/poolgc-unit-prof.XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char prefix[64], dump[64], env_prof[96];
    snprintf(prefix, sizeof prefix, "%s/p", dir);
    snprintf(dump, sizeof dump, "%s/dump.heap", dir);
    snprintf(env_prof, sizeof env_prof, "POOLGC_PROF=%s", prefix);
    static char err[8192];
    CHECK(run_self(dump, (char *[]){env_prof, "POOLGC_PROF_SAMPLE=4K", NULL}, err, sizeof err) == 0,
          "child: [%s]", err);
    int at_exit = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (e->d_name[0] == '.')
            continue;
        at_exit += !strncmp(e->d_name, "p.", 2) && n > 7 && !strcmp(e->d_name + n - 5, ".heap");
        char path[128];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
    CHECK(at_exit == 1, "%d files PREFIX.<pid>.heap written at exit", at_exit);
    return check_done();
}
