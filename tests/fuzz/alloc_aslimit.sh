# alloc_model with a fixed seed, in make check: 10000 operations on 2 threads
# under an RLIMIT_AS, so that blocks of 1 MiB and more take lib/huge.c's path.
# The rule is in tests/fuzz/alloc_model.c's header; make fuzz runs random seeds.
exec "$top_builddir/tests/fuzz/alloc_model" seed=4 ops=10000 threads=2 aslimit=1
