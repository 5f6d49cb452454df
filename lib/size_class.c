/*
 * size_class.c - the size classes of both pool tiers (internal.h: the
 * constants, PGC_MEDIUM_BLOCKS, and the waste bound they keep).
 *
 *            small                        medium
 *   classes  1 .. PGC_SMALL_CLASSES       .. PGC_NUM_CLASSES
 *   sizes    PGC_ALIGNMENT apart,         PGC_MEDIUM_SIZE(n) for each n of
 *            up to PGC_SMALL_MAX          PGC_MEDIUM_BLOCKS, then the same of
 *                                         PGC_MEDIUM_WIDER_BLOCKS, up to
 *                                         PGC_MEDIUM_LIMIT
 *   lookup   pgc_class_index: computed    pgc_medium_class: this table
 *
 * Small classes are computed (pgc_class_index, pgc_class_size). Medium
 * classes have a table of sizes, made at compile time from the two lists,
 * and a lookup table, one byte per 16-byte step of
 * sizes (every class is a multiple of 16, so one step never straddles two
 * classes), made from the sizes at start-up: pgc__init_ensure calls
 * pgc__size_class_init before any heap exists, and until then every
 * heap's pools are the empty sentinel, whatever class the malloc fast path
 * finds. The lookup table covers the small sizes too, with their classes,
 * so that it can be checked whole.
 */
#include <string.h>

#include "internal.h"

const uint32_t pgc__size_class_medium[PGC_MEDIUM_CLASSES] = {
    PGC_MEDIUM_BLOCKS(PGC_MEDIUM_SIZE), PGC_MEDIUM_WIDER_BLOCKS(PGC_MEDIUM_WIDER_SIZE)};
_Static_assert(sizeof((uint32_t[]){PGC_MEDIUM_BLOCKS(PGC_MEDIUM_SIZE)}) ==
                   PGC_MEDIUM_WIDE_CLASSES * sizeof(uint32_t),
               "PGC_MEDIUM_WIDE_CLASSES is not the length of PGC_MEDIUM_BLOCKS");
_Static_assert(sizeof((uint32_t[]){PGC_MEDIUM_BLOCKS(PGC_MEDIUM_SIZE),
                                   PGC_MEDIUM_WIDER_BLOCKS(PGC_MEDIUM_WIDER_SIZE)}) ==
                   sizeof pgc__size_class_medium,
               "PGC_MEDIUM_CLASSES is not the length of both lists");
_Static_assert(PGC_NUM_CLASSES <= UINT8_MAX, "a size class table entry is too narrow");

/* Read by every medium malloc, written once: cache lines of its own. */
_Alignas(64) uint8_t pgc__size_class_of[PGC_MEDIUM_LIMIT >> PGC_ALIGNMENT_SHIFT];

/* Entry i is the class of sizes i * 16 + 1 .. (i + 1) * 16: a class of
 * size s takes the entries from the class below's s / 16 up to its own,
 * one memset a class (every process pays for this at start-up: a loop over
 * the entries took 54 thousand instructions, a sixth of /bin/true's). */
void pgc__size_class_init(void) {
    size_t from = 0;
    for (unsigned cls = 1; cls <= PGC_NUM_CLASSES; cls++) {
        size_t to = pgc_class_size(cls) >> PGC_ALIGNMENT_SHIFT;
        memset(pgc__size_class_of + from, (int)cls, to - from);
        from = to;
    }
    pgc_assert(from == sizeof pgc__size_class_of); /* the last class is PGC_MEDIUM_LIMIT */
}
