# alloc_model with a fixed seed, in make check: 20000 operations on 3 threads.
# The rule is in tests/fuzz/alloc_model.c's header; make fuzz runs random seeds.
exec "$top_builddir/tests/fuzz/alloc_model" seed=1 ops=20000 threads=3
