# gc_model with a fixed seed, in make check: 20000 operations.
# The rule is in tests/fuzz/gc_model.c's header; make fuzz runs random seeds.
exec "$top_builddir/tests/fuzz/gc_model" seed=3 ops=20000
