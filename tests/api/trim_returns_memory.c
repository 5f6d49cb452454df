/*
 * trim_returns_memory - after a program frees everything it allocated,
 * malloc_trim(0) brings the resident set back down:
 * 128 MiB of 64 KiB blocks, then 128 MiB of 100-byte blocks, each touched,
 * freed and trimmed; RSS ends within 40 MiB of where it started.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"

#define MIB (1024L * 1024)

static long rss_bytes(void) {
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld %ld", &size, &resident) != 2) {
        fprintf(stderr, "%s:%d: cannot read /proc/self/statm\n", __FILE__, __LINE__);
        exit(77);
    }
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

static int phase(const char *what, size_t block, size_t total) {
    size_t n = total / block;
    void **v = calloc(n, sizeof *v);
    if (!v)
        return 1;
    long before = rss_bytes();
    for (size_t i = 0; i < n; i++) {
        v[i] = malloc(block);
        if (!v[i]) {
            fprintf(stderr, "%s:%d: %s: malloc(%zu) #%zu failed\n", __FILE__, __LINE__, what, block,
                    i);
            return 1;
        }
        memset(v[i], 0x5a, block);
    }
    long peak = rss_bytes();
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
    int t = malloc_trim(0);
    long after = rss_bytes();
    if (t != 0 && t != 1) {
        fprintf(stderr, "%s:%d: malloc_trim(0) = %d\n", __FILE__, __LINE__, t);
        return 1;
    }
    if (peak - before < (long)total / 2) {
        fprintf(stderr, "note: %s: RSS grew by only %ld MiB; nothing to check\n", what,
                (peak - before) / MIB);
        return 0;
    }
    if (after - before > 40 * MIB) {
        fprintf(stderr,
                "%s:%d: %s: RSS %ld MiB before, %ld MiB at the peak, %ld MiB after "
                "free + malloc_trim(0) (want within 40 MiB of the start)\n",
                __FILE__, __LINE__, what, before / MIB, peak / MIB, after / MIB);
        return 1;
    }
    return 0;
}

int main(void) {
    failures += phase("64 KiB blocks", 64 * 1024, 128 * MIB);
    failures += phase("100-byte blocks", 100, 128 * MIB);
    return check_done();
}
