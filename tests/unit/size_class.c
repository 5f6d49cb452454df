/*
 * size_class - the size classes (lib/size_class.c, and the constants and
 * helpers above them in lib/internal.h) agree with each other:
 * - small: 32 classes of 16..512 bytes, one every 16 bytes, each fitting at
 *   least 32 blocks in a 16 KiB pool of one slot;
 * - medium: PGC_MEDIUM_CLASSES classes above 512 up to PGC_MEDIUM_LIMIT,
 *   16-aligned, increasing, class sizes as PGC_MEDIUM_BLOCKS says (the
 *   largest multiple of 16 that fits that many blocks in a 64 KiB wide
 *   pool, then in a 256 KiB wider one);
 * - every request n, small or medium, maps to the smallest class that holds
 *   it (pgc_class_index, pgc_medium_class, pgc_size_class, the table);
 * - waste, internal and tail together: a pool full of the worst request of a
 *   class (one byte above the class below) leaves at most 1/8 of itself
 *   unused in every class of n >= 7 blocks, and in a class of fewer at most
 *   1/(n + 1) and the rounding of sizes to 16 bytes: 33.4% at worst (the
 *   bound written in lib/internal.h and poolgc(3));
 * - the pool header keeps blocks 16-aligned.
 */
#include <stdio.h>

#include "internal.h"
#include "../check.h"

int main(void) {
    pgc__init_ensure(); /* fills the lookup table */
    CHECK(PGC_SMALL_CLASSES == 32 && PGC_NUM_CLASSES == PGC_SMALL_CLASSES + PGC_MEDIUM_CLASSES,
          "classes: %d small, %d in all", (int)PGC_SMALL_CLASSES, (int)PGC_NUM_CLASSES);
    CHECK(PGC_MEDIUM_LIMIT >= 8192 && PGC_MEDIUM_LIMIT <= PGC_WIDER_POOL_SIZE / 2,
          "medium limit %zu: at least 8 KiB, and two blocks a pool", (size_t)PGC_MEDIUM_LIMIT);
    CHECK(PGC_POOL_SIZE == 16384 && PGC_ARENA_SIZE == (1u << 20) && PGC_POOLS_PER_ARENA == 63,
          "pool %zu, arena %zu, %zu pools per arena", (size_t)PGC_POOL_SIZE, (size_t)PGC_ARENA_SIZE,
          (size_t)PGC_POOLS_PER_ARENA);
    CHECK(PGC_WIDE_POOL_SIZE == 65536 && PGC_WIDE_POOLS_PER_ARENA == 15 &&
              PGC_WIDER_POOL_SIZE == 262144 && PGC_WIDER_POOLS_PER_ARENA == 3 &&
              pgc_class_slots(PGC_SMALL_CLASSES) == 1 &&
              pgc_class_slots(PGC_SMALL_CLASSES + 1) == PGC_WIDE_SLOTS &&
              pgc_class_slots(PGC_SMALL_CLASSES + PGC_MEDIUM_WIDE_CLASSES) == PGC_WIDE_SLOTS &&
              pgc_class_slots(PGC_SMALL_CLASSES + PGC_MEDIUM_WIDE_CLASSES + 1) == PGC_WIDER_SLOTS &&
              pgc_class_slots(PGC_NUM_CLASSES) == PGC_WIDER_SLOTS && pgc_width_index(1) == 0 &&
              pgc_width_index(PGC_WIDE_SLOTS) == 1 && pgc_width_index(PGC_WIDER_SLOTS) == 2,
          "wide pools of %zu bytes, %d an arena; wider %zu, %d", (size_t)PGC_WIDE_POOL_SIZE,
          (int)PGC_WIDE_POOLS_PER_ARENA, (size_t)PGC_WIDER_POOL_SIZE,
          (int)PGC_WIDER_POOLS_PER_ARENA);
    CHECK(PGC_POOL_HEADER_SIZE % PGC_ALIGNMENT == 0 && PGC_POOL_HEADER_SIZE >= sizeof(pgc_pool),
          "pool header size %zu (struct %zu)", (size_t)PGC_POOL_HEADER_SIZE, sizeof(pgc_pool));

    /* The small tier: pymalloc's. */
    for (size_t n = 1; n <= PGC_SMALL_MAX; n++) {
        unsigned cls = pgc_class_index(n);
        size_t size = pgc_class_size(cls);
        CHECK(cls >= 1 && cls <= PGC_SMALL_CLASSES, "class_index(%zu) = %u", n, cls);
        CHECK(size >= n && size - n < PGC_ALIGNMENT && size % PGC_ALIGNMENT == 0,
              "class_size(class_index(%zu)) = %zu", n, size);
    }
    CHECK(pgc_class_index(0) == 0 && pgc_size_class(0) == 1,
          "class_index(0) = %u (heaps alias 0 to class 1), size_class(0) = %u", pgc_class_index(0),
          pgc_size_class(0));
    for (unsigned cls = 1; cls <= PGC_SMALL_CLASSES; cls++) {
        size_t size = pgc_class_size(cls);
        CHECK(pgc_class_index(size) == cls, "class_index(class_size(%u)) = %u", cls,
              pgc_class_index(size));
        size_t blocks = PGC_POOL_SIZE / size;
        CHECK(blocks >= 32, "class %u (%zu bytes): only %zu blocks per pool", cls, size, blocks);
    }

    /* The medium tier: the sizes PGC_MEDIUM_BLOCKS names, in order. */
#define BLOCKS(n) n
    static const unsigned blocks[] = {PGC_MEDIUM_BLOCKS(BLOCKS), PGC_MEDIUM_WIDER_BLOCKS(BLOCKS)};
    double worst_waste = 0;
    CHECK(sizeof blocks / sizeof blocks[0] == PGC_MEDIUM_CLASSES, "%zu medium classes listed",
          sizeof blocks / sizeof blocks[0]);
    CHECK(pgc_class_size(PGC_SMALL_CLASSES + 1) > PGC_SMALL_MAX &&
              pgc_class_size(PGC_NUM_CLASSES) == PGC_MEDIUM_LIMIT,
          "medium classes %zu .. %zu", pgc_class_size(PGC_SMALL_CLASSES + 1),
          pgc_class_size(PGC_NUM_CLASSES));
    for (unsigned cls = PGC_SMALL_CLASSES + 1; cls <= PGC_NUM_CLASSES; cls++) {
        size_t size = pgc_class_size(cls), below = pgc_class_size(cls - 1);
        unsigned n = blocks[cls - PGC_SMALL_CLASSES - 1];
        size_t pool = (size_t)pgc_class_slots(cls) * PGC_POOL_SIZE;
        CHECK(size % PGC_ALIGNMENT == 0 && size > below, "class %u: %zu bytes after %zu", cls, size,
              below);
        CHECK(pool / size == n && (size + PGC_ALIGNMENT) * n > pool,
              "class %u (%zu bytes) is not the largest that fits %u blocks in a pool", cls, size,
              n);
        CHECK(pgc_medium_class(size) == cls && pgc_size_class(size) == cls,
              "medium_class(class_size(%u)) = %u", cls, pgc_medium_class(size));
        /* The worst request of the class, one byte above the class below:
         * the part of a pool full of it that is not requested bytes. */
        double waste = 1.0 - (double)(n * (below + 1)) / pool;
        double bound = n >= 7 ? 1.0 / 8 : 1.0 / (n + 1) + (double)(n * PGC_ALIGNMENT) / pool;
        CHECK(waste <= bound, "class %u (%zu bytes, %u blocks): %.1f%% waste for %zu bytes", cls,
              size, n, 100 * waste, below + 1);
        if (waste > worst_waste)
            worst_waste = waste;
    }
    CHECK(worst_waste < 0.3345, "worst waste %.2f%%, not the 33.4%% documented", 100 * worst_waste);

    /* Every size up to the limit: the smallest class that holds it. */
    for (size_t n = 1; n <= PGC_MEDIUM_LIMIT; n++) {
        unsigned cls = n <= PGC_SMALL_MAX ? pgc_class_index(n) : pgc_medium_class(n);
        CHECK(cls == pgc_size_class(n) && cls == pgc__size_class_of[(n - 1) >> 4],
              "%zu bytes: class %u, size_class %u, table %u", n, cls, pgc_size_class(n),
              pgc__size_class_of[(n - 1) >> 4]);
        CHECK(cls >= 1 && cls <= PGC_NUM_CLASSES && pgc_class_size(cls) >= n &&
                  pgc_class_size(cls - 1) < n,
              "%zu bytes: class %u of %zu bytes, the class below %zu", n, cls, pgc_class_size(cls),
              pgc_class_size(cls - 1));
        if (failures > 10)
            break;
    }
    return check_done();
}
