# alloc_model with a fixed seed, in make check: 10000 operations on 2 threads
# under an RLIMIT_AS, so that big blocks take the paths poolgc uses under a limit.
# The rule is in tests/fuzz/alloc_model.c's header; make fuzz runs random seeds.
exec "$top_builddir/tests/fuzz/alloc_model" seed=4 ops=10000 threads=2 aslimit=1
