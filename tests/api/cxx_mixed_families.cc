/*
 * cxx_mixed_families - wrong but common mixes of allocation families do not
 * crash, as under glibc: free(new int), delete[] of a
 * malloc'd block, delete of a calloc'd one, free of an aligned new, realloc of
 * a new[] block, and sized delete with a wrong size for small and large
 * blocks; the heap still works afterwards (100000 rounds of churn).
 */
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include "../check.h"

int main() {
    const std::size_t sizes[] = {1, 8, 100, 512, 513, 4096, 70000, 1 << 20};
    for (int round = 0; round < 100; round++) {
        for (std::size_t n : sizes) {
            /* new -> free, new[] -> free */
            void *a = ::operator new(n);
            std::memset(a, 1, n);
            std::free(a);
            char *b = new char[n];
            std::memset(b, 2, n);
            std::free(b);

            /* malloc -> delete / delete[] / sized delete */
            void *c = std::malloc(n);
            std::memset(c, 3, n);
            ::operator delete(c);
            char *d = static_cast<char *>(std::malloc(n));
            delete[] d;
            void *e = std::calloc(1, n);
            ::operator delete(e, n);
            void *f = std::malloc(n);
            ::operator delete[](f, std::nothrow);

            /* aligned new -> free; aligned_alloc -> aligned delete */
            void *g = ::operator new(n, std::align_val_t(64));
            CHECK((reinterpret_cast<std::uintptr_t>(g) & 63) == 0, "aligned new(%zu) = %p", n, g);
            std::memset(g, 4, n);
            std::free(g);
            void *h = aligned_alloc(128, n);
            ::operator delete(h, std::align_val_t(128));

            /* new[] -> realloc -> delete */
            char *i = new char[n];
            std::memset(i, 5, n);
            char *j = static_cast<char *>(std::realloc(i, 2 * n));
            CHECK(j != nullptr && j[0] == 5 && j[n - 1] == 5, "realloc(new char[%zu]) lost data",
                  n);
            delete[] j;

            /* Sized delete with a wrong size: smaller, larger, other class. */
            void *k = ::operator new(n);
            ::operator delete(k, n > 1 ? n / 2 : 7);
            void *l = ::operator new[](n);
            ::operator delete[](l, n * 3 + 1000);
            void *m = ::operator new(n, std::align_val_t(32));
            ::operator delete(m, n + 64, std::align_val_t(32));
        }
    }

    /* The heap still works: churn with content checks. */
    static unsigned char *slots[512];
    static std::size_t slot_size[512];
    std::uint32_t x = 12345;
    for (int it = 0; it < 100000; it++) {
        x = x * 1103515245u + 12345u;
        std::size_t s = (x >> 8) % 512;
        if (slots[s]) {
            for (std::size_t q = 0; q < slot_size[s]; q++)
                if (slots[s][q] != static_cast<unsigned char>(s)) {
                    CHECK(0, "churn: slot %zu of %zu bytes corrupted at %zu", s, slot_size[s], q);
                    return 1;
                }
            std::free(slots[s]);
            slots[s] = nullptr;
        } else {
            slot_size[s] = 1 + (x >> 16) % 2000;
            slots[s] = static_cast<unsigned char *>(std::malloc(slot_size[s]));
            std::memset(slots[s], static_cast<int>(s), slot_size[s]);
        }
    }
    for (auto *p : slots)
        std::free(p);

    return check_done();
}
