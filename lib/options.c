/*
 * options.c - the POOLGC_* environment variables, read once at start-up with
 * secure_getenv (ignored in setuid programs) into pgc__options.
 *
 * Every option is one row of `options`: its name, what it means, how to
 * parse it and how to show its value. Parsing, the POOLGC_VERBOSE listing
 * and poolgc(3) (tests/lint/docs.sh checks the names) all read that table.
 *
 * - A value that parses replaces the default.
 * - A value that does not parse leaves the default and prints one line on
 *   stderr, verbose or not: "poolgc: NAME=VALUE: why; keeping the default D".
 * - POOLGC_VERBOSE lists every option with its value and meaning, one line
 *   each, then names each unknown POOLGC_* variable (never fatal).
 *
 * Nothing here allocates: values are parsed in place and lines are
 * formatted on the stack and written by message.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "options.h"
#include "prof.h"

pgc_options pgc__options = {
    .region_size = PGC_REGION_DEFAULT,
    .medium_max = PGC_MEDIUM_LIMIT,
    .thp = PGC_THP_DEFAULT,
};

/* ---- value parsers ----------------------------------------------------------- */

int pgc__options_parse_size(const char *text, size_t *out) {
    size_t n = 0;
    const char *p = text;
    if (*p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, (size_t)(*p - '0'), &n))
            return -1;
    }
    unsigned shift = 0;
    switch (*p) {
    case '\0':
        break;
    case 'k':
    case 'K':
        shift = 10;
        break;
    case 'm':
    case 'M':
        shift = 20;
        break;
    case 'g':
    case 'G':
        shift = 30;
        break;
    case 't':
    case 'T':
        shift = 40;
        break;
    default:
        return -1;
    }
    if (shift && *++p != '\0')
        return -1;
    if (n > (SIZE_MAX >> shift))
        return -1;
    *out = n << shift;
    return 0;
}

int pgc__options_parse_bool(const char *text, int *out) {
    static const char *const on[] = {"1", "yes", "true", "on"};
    static const char *const off[] = {"", "0", "no", "false", "off"};
    for (size_t i = 0; i < sizeof on / sizeof on[0]; i++) {
        if (!strcasecmp(text, on[i])) {
            *out = 1;
            return 0;
        }
    }
    for (size_t i = 0; i < sizeof off / sizeof off[0]; i++) {
        if (!strcasecmp(text, off[i])) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* ---- the options ----------------------------------------------------------- */

/* Each parse function sets its field and returns NULL, or leaves the field
 * alone and says why the value was refused. Each show function writes the
 * field's value as a user would set it. */

#define NOT_A_BOOL "not on or off (1, yes, true, on; 0, no, false, off or empty)"

/* POOLGC_STATS_FILE and POOLGC_STATS_PROGRAM ask for a report: without
 * POOLGC_STATS (read before them, in the table's order), the text one. */
static int stats_given;
static void stats_implied(void) {
    if (!stats_given)
        pgc__options.stats = PGC_STATS_TEXT;
}

static const char *parse_stats(const char *v) {
    int on;
    stats_given = 1;
    if (!strcasecmp(v, "json"))
        pgc__options.stats = PGC_STATS_JSON;
    else if (pgc__options_parse_bool(v, &on) == 0)
        pgc__options.stats = on ? PGC_STATS_TEXT : PGC_STATS_OFF;
    else
        return "not a report format (0, 1 or json)";
    return NULL;
}
static void show_stats(char *buf, size_t size) {
    static const char *const shown[] = {
        [PGC_STATS_OFF] = "0", [PGC_STATS_TEXT] = "1", [PGC_STATS_JSON] = "json"};
    snprintf(buf, size, "%s", shown[pgc__options.stats]);
}

/* A string option into its 256-byte field; a non-empty one implies stats. */
static const char *set_string(char field[static 256], const char *v) {
    size_t n = strlen(v);
    if (n >= 256)
        return "longer than 255 bytes";
    memcpy(field, v, n + 1);
    if (n)
        stats_implied();
    return NULL;
}
static void show_string(char *buf, size_t size, const char *field) {
    snprintf(buf, size, "%s", field[0] ? field : "\"\"");
}

_Static_assert(sizeof pgc__options.stats_file == 256, "set_string takes 256-byte fields");
static const char *parse_stats_file(const char *v) {
    return set_string(pgc__options.stats_file, v);
}
static void show_stats_file(char *buf, size_t size) {
    show_string(buf, size, pgc__options.stats_file);
}

_Static_assert(sizeof pgc__options.stats_program == 256, "set_string takes 256-byte fields");
static const char *parse_stats_program(const char *v) {
    if (strchr(v, '/'))
        return "a program's name, not a path";
    return set_string(pgc__options.stats_program, v);
}
static void show_stats_program(char *buf, size_t size) {
    show_string(buf, size, pgc__options.stats_program);
}

static const char *parse_verbose(const char *v) {
    return pgc__options_parse_bool(v, &pgc__options.verbose) ? NOT_A_BOOL : NULL;
}
static void show_verbose(char *buf, size_t size) {
    snprintf(buf, size, "%d", pgc__options.verbose);
}

static const char *parse_debug(const char *v) {
    return pgc__options_parse_bool(v, &pgc__options.debug) ? NOT_A_BOOL : NULL;
}
static void show_debug(char *buf, size_t size) {
    snprintf(buf, size, "%d", pgc__options.debug);
}

#define NOT_A_SIZE "not a size (a number with an optional K, M, G or T suffix)"

/* n with the largest suffix that divides it: 64G, 1536K, 0. */
static void show_size(char *buf, size_t size, size_t n) {
    static const char suffix[] = "TGMK";
    for (unsigned i = 0; i < 4; i++) {
        unsigned shift = 40 - 10 * i;
        if (n && (n & (((size_t)1 << shift) - 1)) == 0) {
            snprintf(buf, size, "%zu%c", n >> shift, suffix[i]);
            return;
        }
    }
    snprintf(buf, size, "%zu", n);
}

static const char *parse_region(const char *v) {
    if (pgc__options_parse_size(v, &pgc__options.region_size))
        return NOT_A_SIZE;
    return NULL;
}
static void show_region(char *buf, size_t size) {
    show_size(buf, size, pgc__options.region_size);
}

/* POOLGC_MEDIUM_MAX: up to the largest medium class; a value above it is
 * refused rather than cut down, so that a user who asks for more learns
 * that there is no more. */
static const char *parse_medium_max(const char *v) {
    size_t n;
    if (pgc__options_parse_size(v, &n))
        return NOT_A_SIZE;
    if (n > PGC_MEDIUM_LIMIT) {
        static char why[64];
        char limit[16];
        show_size(limit, sizeof limit, PGC_MEDIUM_LIMIT);
        snprintf(why, sizeof why, "more than the largest medium class, %s", limit);
        return why;
    }
    pgc__options.medium_max = n;
    return NULL;
}
static void show_medium_max(char *buf, size_t size) {
    show_size(buf, size, pgc__options.medium_max);
}

static const char *parse_thp(const char *v) {
    if (pgc__options_parse_size(v, &pgc__options.thp))
        return NOT_A_SIZE;
    return NULL;
}
static void show_thp(char *buf, size_t size) {
    show_size(buf, size, pgc__options.thp);
}

#ifdef PGC_FAULT_INJECTION
static const char *parse_fault_mmap(const char *v) {
    return pgc__os_fault_parse(v) ? "not a call number N >= 1, or N:K" : NULL;
}
#endif

static const struct option {
    const char *name;
    const char *meaning;
    const char *(*parse)(const char *value);
    void (*show)(char *buf, size_t size);
} options[] = {
    {"POOLGC_STATS", "the statistics report at exit: 0 none, 1 text, json JSON", parse_stats,
     show_stats},
    {"POOLGC_STATS_FILE", "write the report to this file (%p: the pid) instead of stderr",
     parse_stats_file, show_stats_file},
    {"POOLGC_STATS_PROGRAM",
     "report only in processes whose comm or argv[0]'s last part is this name", parse_stats_program,
     show_stats_program},
    {"POOLGC_VERBOSE", "report start-up decisions and these options on stderr", parse_verbose,
     show_verbose},
    {"POOLGC_DEBUG", "the debug allocator (double free, invalid pointer, overflow, leaks)",
     parse_debug, show_debug},
    {"POOLGC_REGION", "address space reserved for pools (K, M, G or T suffix)", parse_region,
     show_region},
    {"POOLGC_MEDIUM_MAX",
     "largest request served by the medium pools, at most the default (K suffix; 0: none)",
     parse_medium_max, show_medium_max},
    {"POOLGC_THP",
     "transparent huge pages for the pools once they take this much (K, M, G; 0: never)", parse_thp,
     show_thp},
    {"POOLGC_PROF", "sample allocations and write a heap profile to PREFIX.<pid>.heap at exit",
     pgc__prof_parse_prefix, pgc__prof_show_prefix},
    {"POOLGC_PROF_SAMPLE", "heap profile: mean bytes allocated between samples (K, M, G or T)",
     pgc__prof_parse_sample, pgc__prof_show_sample},
#ifdef PGC_FAULT_INJECTION
    {"POOLGC_FAULT_MMAP", "make the Nth mmap/mprotect/madvise (N:K: K from the Nth on) fail",
     parse_fault_mmap, pgc__os_fault_show},
#endif
};
#define OPTION_COUNT (sizeof options / sizeof options[0])

/* ---- reading them ------------------------------------------------------------ */

extern char **environ;

static int known(const char *entry) {
    if (!strncmp(entry, "POOLGC_LIB=", 11))
        return 1; /* poolgc-run's: the library it preloads (poolgc(3)) */
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        size_t n = strlen(options[i].name);
        if (!strncmp(entry, options[i].name, n) && entry[n] == '=')
            return 1;
    }
    return 0;
}

/* v as it can go in a message: at most 64 bytes of it, each byte that is
 * not printable ASCII shown as '?', so that the message stays one line. */
static void quote(char *buf, size_t size, const char *v) {
    size_t o = 0;
    for (; *v && o < 64 && o + 4 < size; v++)
        buf[o++] = *v >= ' ' && *v <= '~' ? *v : '?';
    if (*v) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
}

void pgc__options_read(void) {
    unsigned char set[OPTION_COUNT] = {0};
    char value[80], shown[80];
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const char *v = secure_getenv(options[i].name);
        if (!v)
            continue;
        const char *why = options[i].parse(v);
        if (why) {
            quote(value, sizeof value, v);
            options[i].show(shown, sizeof shown);
            pgc__message("poolgc: %s=%s: %s; keeping the default %s", options[i].name, value, why,
                         shown);
        } else {
            set[i] = 1;
        }
    }
    if (!pgc__options.verbose)
        return;
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        options[i].show(shown, sizeof shown);
        quote(value, sizeof value, shown);
        pgc__message("poolgc: option %s=%s (%s): %s", options[i].name, value,
                     set[i] ? "set" : "default", options[i].meaning);
    }
    if (!environ)
        return;
    for (char **e = environ; *e; e++) {
        if (!strncmp(*e, "POOLGC_", 7) && !known(*e))
            pgc__message("poolgc: unknown option ignored: %.*s", (int)strcspn(*e, "="), *e);
    }
}
