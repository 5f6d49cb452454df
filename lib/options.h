/*
 * options.h - the value parsers of options.c, for its unit test
 * (tests/unit/options.c). Everything else reads pgc__options (internal.h).
 */
#ifndef POOLGC_OPTIONS_H
#define POOLGC_OPTIONS_H

#include <stddef.h>

#include "internal.h"

/* A size: decimal digits, then optionally one of K, M, G, T (either case,
 * powers of 1024), nothing else. Returns 0 and sets *out, or -1 (empty,
 * a sign, a stray character, an unknown suffix, more than SIZE_MAX) and
 * leaves *out alone. */
PGC_INTERNAL int pgc__options_parse_size(const char *text, size_t *out);

/* On/off: 1 yes true on, 0 no false off (either case), and the empty
 * string (off). Returns 0 and sets *out to 0 or 1, or -1. */
PGC_INTERNAL int pgc__options_parse_bool(const char *text, int *out);

#endif /* POOLGC_OPTIONS_H */
