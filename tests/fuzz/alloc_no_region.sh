# alloc_model with a fixed seed, in make check: 20000 operations on 3 threads
# with no pools (POOLGC_REGION=0: jemalloc serves every size, as when an
# address-space limit leaves no room for the region).
# The rule is in tests/fuzz/alloc_model.c's header; make fuzz runs random seeds.
POOLGC_REGION=0 exec "$top_builddir/tests/fuzz/alloc_model" seed=2 ops=20000 threads=3
