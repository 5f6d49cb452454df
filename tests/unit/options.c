/*
 * options - the POOLGC_* variables (lib/options.c). A size is decimal digits
 * with an optional K, M, G or T suffix (powers of 1024, either case) and
 * nothing else; an on/off value is 1/yes/true/on or 0/no/false/off/empty. A
 * value that does not parse keeps the default and prints exactly one line on
 * stderr naming the option and the value, verbose or not; a good value
 * prints nothing. POOLGC_VERBOSE lists every option, one line each, and
 * names unknown POOLGC_* variables (not poolgc-run's POOLGC_LIB).
 * POOLGC_MEDIUM_MAX takes a size up to the largest medium class (0 too) and
 * refuses more; POOLGC_THP takes any size (default 0, off). The start-up
 * cases run
 * this program again with only those variables set (run_self.h).
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "options.h"
#include "../check.h"
#include "run_self.h"

#define TIB ((size_t)1 << 40)

static void size_ok(const char *text, size_t want) {
    size_t got = 12345;
    CHECK(pgc__options_parse_size(text, &got) == 0 && got == want, "size \"%s\": %zu, want %zu",
          text, got, want);
}
static void size_bad(const char *text) {
    size_t got = 12345;
    CHECK(pgc__options_parse_size(text, &got) == -1 && got == 12345, "size \"%s\" accepted as %zu",
          text, got);
}
static void bool_is(const char *text, int want) {
    int got = 7;
    int rc = pgc__options_parse_bool(text, &got);
    CHECK(want < 0 ? rc == -1 && got == 7 : rc == 0 && got == want, "bool \"%s\": rc %d, %d", text,
          rc, got);
}

/* Start-up with env; the child checks its options against state. */
static char err[8192];
static int start(const char *state, char *const env[]) {
    return run_self(state, env, err, sizeof err);
}

int main(int argc, char **argv) {
    if (argc == 2) {        /* the child: exit 0 when the options read as argv[1] */
        pgc__init_ensure(); /* links init.c, whose constructor read them */
        char state[160];
        snprintf(state, sizeof state, "region=%zu verbose=%d debug=%d stats=%d medium=%zu thp=%zu",
                 pgc__options.region_size, pgc__options.verbose, pgc__options.debug,
                 (int)pgc__options.stats, pgc__options.medium_max, pgc__options.thp);
        return strcmp(state, argv[1]) != 0;
    }
    size_ok("0", 0);
    size_ok("4096", 4096);
    size_ok("1k", 1024);
    size_ok("16M", (size_t)16 << 20);
    size_ok("64G", (size_t)64 << 30);
    size_ok("1T", TIB);
    size_ok("2t", 2 * TIB);
    size_ok("16777215T", SIZE_MAX >> 40 << 40);
    size_ok("18446744073709551615", SIZE_MAX);
    const char *bad[] = {
        "",    "banana", "-1", "+1",   " 1",           "1 ",        "12X",
        "1KK", "1KB",    "K",  "0x10", "99999999999T", "16777216T", "18446744073709551616"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        size_bad(bad[i]);
    const struct {
        const char *text;
        int want; /* -1: refused */
    } bools[] = {{"1", 1},      {"yes", 1},   {"TRUE", 1}, {"on", 1}, {"0", 0},
                 {"No", 0},     {"false", 0}, {"OFF", 0},  {"", 0},   {"2", -1},
                 {"maybe", -1}, {"yes ", -1}, {"-1", -1}};
    for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++)
        bool_is(bools[i].text, bools[i].want);

    char def[128];
    snprintf(def, sizeof def, "region=%zu verbose=0 debug=0 stats=0 medium=%zu thp=0",
             PGC_REGION_DEFAULT, (size_t)PGC_MEDIUM_LIMIT);
    CHECK(start(def, (char *[]){"POOLGC_REGION=banana", NULL}) == 0, "region changed");
    CHECK(!strcmp(err, "poolgc: POOLGC_REGION=banana: not a size (a number with an optional K, "
                       "M, G or T suffix); keeping the default 64G\n"),
          "stderr: [%s]", err);
    CHECK(start(def, (char *[]){"POOLGC_VERBOSE=maybe", "POOLGC_STATS=xml", NULL}) == 0,
          "verbose or stats changed");
    CHECK(lines_with(err, "poolgc: POOLGC_VERBOSE=maybe: ") == 1 &&
              lines_with(err, "poolgc: POOLGC_STATS=xml: ") == 1 &&
              lines_with(err, "; keeping the default 0") == 2 && lines_with(err, "") == 2,
          "stderr: [%s]", err);

    /* POOLGC_MEDIUM_MAX: a size up to the largest medium class; more is
     * refused, not cut down. */
    CHECK(start(def, (char *[]){"POOLGC_MEDIUM_MAX=128K", NULL}) == 0, "medium max changed");
    CHECK(!strcmp(err, "poolgc: POOLGC_MEDIUM_MAX=128K: more than the largest medium class, 64K; "
                       "keeping the default 64K\n"),
          "stderr: [%s]", err);
    char off[128];
    snprintf(off, sizeof off, "region=%zu verbose=0 debug=0 stats=0 medium=0 thp=0",
             PGC_REGION_DEFAULT);
    CHECK(start(off, (char *[]){"POOLGC_MEDIUM_MAX=0", NULL}) == 0 && err[0] == '\0',
          "POOLGC_MEDIUM_MAX=0 not taken, or printed [%s]", err);

    /* POOLGC_THP: a size; a bad one keeps the default, off. */
    CHECK(start(def, (char *[]){"POOLGC_THP=lots", NULL}) == 0, "thp changed");
    CHECK(!strcmp(err, "poolgc: POOLGC_THP=lots: not a size (a number with an optional K, M, G or "
                       "T suffix); keeping the default 0\n"),
          "stderr: [%s]", err);

    const char *good = "region=268435456 verbose=0 debug=1 stats=2 medium=2048 thp=33554432";
    CHECK(start(good, (char *[]){"POOLGC_REGION=256M", "POOLGC_DEBUG=yes", "POOLGC_STATS=JSON",
                                 "POOLGC_STATS_FILE=/dev/null", "POOLGC_MEDIUM_MAX=2k",
                                 "POOLGC_THP=32M", NULL}) == 0,
          "good values not taken");
    CHECK(err[0] == '\0', "good values printed [%s]", err);

    CHECK(start("region=268435456 verbose=1 debug=0 stats=0 medium=65536 thp=0",
                (char *[]){"POOLGC_VERBOSE=1", "POOLGC_REGION=256M", "POOLGC_NO_SUCH=1",
                           "POOLGC_LIB=/usr/lib/libpoolgc.so", NULL}) == 0,
          "verbose start-up failed");
    const char *names[] = {"POOLGC_STATS=0 (default): ", "POOLGC_STATS_FILE=\"\" (default): ",
                           "POOLGC_VERBOSE=1 (set): ",   "POOLGC_DEBUG=0 (default): ",
                           "POOLGC_REGION=256M (set): ", "POOLGC_MEDIUM_MAX=64K (default): ",
                           "POOLGC_THP=0 (default): "};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        CHECK(lines_with(err, names[i]) == 1, "no line for %s in [%s]", names[i], err);
    int listed = lines_with(err, "poolgc: option POOLGC_");
    CHECK(listed >= 5 && lines_with(err, " (set): ") + lines_with(err, " (default): ") == listed,
          "not one line per option, NAME=VALUE (set|default): MEANING: [%s]", err);
    CHECK(lines_with(err, "unknown option ignored: POOLGC_NO_SUCH") == 1, "stderr: [%s]", err);
    CHECK(lines_with(err, "POOLGC_LIB") == 0, "poolgc-run's POOLGC_LIB reported: [%s]", err);
    return check_done();
}
