/*
 * size_class - the size classes (pgc_class_index, pgc_class_size and the
 * constants above them in lib/internal.h) agree with each other: 32 classes
 * of 16..512 bytes, request n maps to the smallest class that holds it, the
 * pool header keeps blocks 16-aligned, and every class fits at least 32
 * blocks in a 16 KiB pool.
 */
#include <stdio.h>

#include "internal.h"
#include "../check.h"

int main(void) {
    CHECK(PGC_NUM_CLASSES == 32, "PGC_NUM_CLASSES = %d", (int)PGC_NUM_CLASSES);
    CHECK(PGC_POOL_SIZE == 16384 && PGC_ARENA_SIZE == (1u << 20) && PGC_POOLS_PER_ARENA == 63,
          "pool %zu, arena %zu, %zu pools per arena", (size_t)PGC_POOL_SIZE, (size_t)PGC_ARENA_SIZE,
          (size_t)PGC_POOLS_PER_ARENA);
    CHECK(PGC_POOL_HEADER_SIZE % PGC_ALIGNMENT == 0 && PGC_POOL_HEADER_SIZE >= sizeof(pgc_pool),
          "pool header size %zu (struct %zu)", (size_t)PGC_POOL_HEADER_SIZE, sizeof(pgc_pool));

    for (size_t n = 1; n <= PGC_SMALL_MAX; n++) {
        unsigned cls = pgc_class_index(n);
        size_t size = pgc_class_size(cls);
        CHECK(cls >= 1 && cls <= PGC_NUM_CLASSES, "class_index(%zu) = %u", n, cls);
        CHECK(size >= n && size - n < PGC_ALIGNMENT && size % PGC_ALIGNMENT == 0,
              "class_size(class_index(%zu)) = %zu", n, size);
    }
    CHECK(pgc_class_index(0) == 0, "class_index(0) = %u (heaps alias 0 to class 1)",
          pgc_class_index(0));
    for (unsigned cls = 1; cls <= PGC_NUM_CLASSES; cls++) {
        size_t size = pgc_class_size(cls);
        CHECK(pgc_class_index(size) == cls, "class_index(class_size(%u)) = %u", cls,
              pgc_class_index(size));
        size_t blocks = PGC_POOL_SIZE / size;
        CHECK(blocks >= 32, "class %u (%zu bytes): only %zu blocks per pool", cls, size, blocks);
    }
    return check_done();
}
