/*
 * options.c - the POOLGC_* environment variables, read once at start-up with
 * secure_getenv (ignored in setuid programs) into static storage.
 *
 * Every option is one row of `options` (name, what it means, how to parse);
 * poolgc(3) documents the same rows. Unknown POOLGC_* variables are reported
 * in verbose mode, never fatal. Nothing here allocates.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

pgc_options pgc__options = {
    .region_size = PGC_REGION_DEFAULT,
};

static void parse_stats(const char *v) {
    if (!strcmp(v, "json"))
        pgc__options.stats = PGC_STATS_JSON;
    else if (*v && strcmp(v, "0") != 0)
        pgc__options.stats = PGC_STATS_TEXT;
}

static void parse_stats_file(const char *v) {
    size_t n = strlen(v);
    if (n >= sizeof pgc__options.stats_file)
        n = sizeof pgc__options.stats_file - 1;
    memcpy(pgc__options.stats_file, v, n);
    pgc__options.stats_file[n] = '\0';
}

static void parse_verbose(const char *v) {
    pgc__options.verbose = *v && strcmp(v, "0") != 0;
}
static void parse_debug(const char *v) {
    pgc__options.debug = *v && strcmp(v, "0") != 0;
}

/* A size with an optional K, M or G suffix. */
static void parse_region(const char *v) {
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    switch (*end) {
    case 'k':
    case 'K':
        n <<= 10;
        break;
    case 'm':
    case 'M':
        n <<= 20;
        break;
    case 'g':
    case 'G':
        n <<= 30;
        break;
    default:
        break;
    }
    pgc__options.region_size = (size_t)n;
}

static const struct option {
    const char *name;
    const char *meaning;
    void (*parse)(const char *value);
} options[] = {
    {"POOLGC_STATS", "1: print the statistics report at exit; json: as JSON", parse_stats},
    {"POOLGC_STATS_FILE", "write the report to this file (%p: the pid) instead of stderr",
     parse_stats_file},
    {"POOLGC_VERBOSE", "1: report start-up decisions on stderr", parse_verbose},
    {"POOLGC_DEBUG", "1: check every free (double free, invalid pointer)", parse_debug},
    {"POOLGC_REGION", "address space reserved for pools (e.g. 64G, 16M)", parse_region},
};
#define OPTION_COUNT (sizeof options / sizeof options[0])

extern char **environ;

static int known(const char *entry) {
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        size_t n = strlen(options[i].name);
        if (!strncmp(entry, options[i].name, n) && entry[n] == '=')
            return 1;
    }
    return 0;
}

void pgc__options_read(void) {
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const char *v = secure_getenv(options[i].name);
        if (v)
            options[i].parse(v);
    }
    if (!pgc__options.verbose || !environ)
        return;
    for (char **e = environ; *e; e++) {
        if (!strncmp(*e, "POOLGC_", 7) && !known(*e))
            pgc__message("poolgc: unknown option ignored: %.*s", (int)(strcspn(*e, "=")), *e);
    }
}
