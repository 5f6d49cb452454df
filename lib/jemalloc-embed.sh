#!/bin/sh
# Build lib/jemalloc-embedded/libjemalloc-embedded.a from Debian's
# libjemalloc_pic.a so that it can live inside libpoolgc.so:
#   - every public jemalloc name (malloc, mallocx, mallctl, malloc_conf, ...)
#     is renamed pgc__je_NAME, so it neither shadows nor is shadowed by ours;
#   - its calls to mmap/munmap go to pgc__je_mmap/pgc__je_munmap (lib/large.c),
#     which record which pages belong to jemalloc;
#   - the C++ part (operator new/delete, which needs libstdc++) is left out;
#   - its constructor is dropped: jemalloc initialises on first use, so a
#     process that never makes a large request pays nothing for it.
# Usage: jemalloc-embed.sh ARCHIVE OBJCOPY AR OUTDIR
set -eu
archive=$1 objcopy=$2 ar=$3 out=$4
mkdir -p "$out"
work=$(cd "$out" && pwd)/objects
rm -rf "$work" && mkdir -p "$work"
cd "$work"
"$ar" x "$archive"
rm -f jemalloc_cpp.pic.o

public="malloc free calloc realloc posix_memalign aligned_alloc memalign valloc
malloc_usable_size mallocx rallocx xallocx sallocx dallocx sdallocx nallocx
mallctl mallctlnametomib mallctlbymib malloc_stats_print malloc_message
malloc_conf malloc_conf_2_conf_harder"
for s in $public; do echo "$s pgc__je_$s"; done > ../rename.map
printf '%s\n' "mmap pgc__je_mmap" "munmap pgc__je_munmap" >> ../rename.map

for o in *.o; do
    "$objcopy" --redefine-syms=../rename.map "$o"
done
"$objcopy" --remove-section=.init_array --remove-section=.rela.init_array jemalloc.pic.o
rm -f ../libjemalloc-embedded.a
"$ar" rcs ../libjemalloc-embedded.a *.o
