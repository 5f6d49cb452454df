#!/bin/sh
# run.sh - what `make fuzz` runs (from the build directory): the model-based
# fuzzers of tests/fuzz/ for SECONDS in all, with one or both engines:
#   seeds      tests/fuzz/alloc_model and tests/fuzz/gc_model again and
#              again, with random seeds, 1 to 4 threads and, one run in four
#              each, an RLIMIT_AS (alloc_model's aslimit=1) and no pools
#              (POOLGC_REGION=0: jemalloc serves every size);
#   libfuzzer  tests/fuzz/bin/alloc_fuzz and tests/fuzz/bin/gc_fuzz: the same
#              models built by clang with -fsanitize=fuzzer over a copy of the
#              library compiled with coverage, their choices an input's bytes
#              (one thread); corpora kept in tests/fuzz/corpus/ from one run
#              to the next, a crashing input saved in tests/fuzz/artifacts/.
# With both, the seeds get half the time and each libFuzzer target a quarter.
# Stops at the first failure, prints how to rerun it, exits 1.
# usage: run.sh SECONDS ENGINES   (ENGINES: "seeds", "libfuzzer" or both)
set -u
seconds=${1:-60}
engines=${2:-seeds}
case $seconds in '' | *[!0-9]*)
    echo "run.sh: FUZZ_SECONDS=$seconds is not a number of seconds" >&2
    exit 2
    ;;
esac
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# seeds SECONDS: random seeds until the time is up.
seeds() {
    end=$(($(date +%s) + $1))
    runs=0
    while [ "$(date +%s)" -lt "$end" ]; do
        seed=$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')
        seed=${seed%?} # a digit less: below 2^63
        seed=${seed:-0}
        threads=$((seed % 4 + 1))
        aslimit=$((seed / 4 % 4 == 0))
        region=
        [ $((seed / 16 % 4)) -eq 0 ] && region=POOLGC_REGION=0
        alloc="alloc_model seed=$seed ops=100000 threads=$threads aslimit=$aslimit"
        gc="gc_model seed=$seed ops=50000"
        for cmd in "$region tests/fuzz/$alloc" "$region tests/fuzz/$gc"; do
            # shellcheck disable=SC2086 # the words split on purpose
            timeout 600 env $cmd >"$tmp/out" 2>&1
            rc=$?
            if [ $rc -ne 0 ]; then
                tail -n 20 "$tmp/out"
                [ $rc -eq 124 ] && echo "fuzz: timed out (10 minutes)"
                # shellcheck disable=SC2086 # one space between the words
                echo "fuzz: FAILED (exit $rc); rerun:" $cmd
                exit 1
            fi
        done
        runs=$((runs + 1))
    done
    echo "fuzz: seeds: $runs random seeds, alloc_model and gc_model each, no failure"
}

# libfuzzer TARGET SECONDS
libfuzzer() {
    mkdir -p "tests/fuzz/corpus/$1" tests/fuzz/artifacts
    echo "fuzz: libFuzzer: tests/fuzz/bin/$1 for $2 s (corpus tests/fuzz/corpus/$1)"
    if ! "./tests/fuzz/bin/$1" -max_total_time="$2" -timeout=120 -print_final_stats=1 \
        -artifact_prefix="tests/fuzz/artifacts/$1-" "tests/fuzz/corpus/$1" >"$tmp/out" 2>&1; then
        tail -n 40 "$tmp/out"
        echo "fuzz: FAILED: rerun the input saved above with tests/fuzz/bin/$1 ARTIFACT"
        exit 1
    fi
    grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units)' "$tmp/out"
}

case $engines in
*seeds*libfuzzer* | *libfuzzer*seeds*)
    seeds $((seconds / 2))
    libfuzzer alloc_fuzz $((seconds / 4 + 1))
    libfuzzer gc_fuzz $((seconds / 4 + 1))
    ;;
*libfuzzer*)
    libfuzzer alloc_fuzz $((seconds / 2 + 1))
    libfuzzer gc_fuzz $((seconds / 2 + 1))
    ;;
*seeds*)
    seeds "$seconds"
    ;;
*)
    echo "run.sh: unknown engines '$engines' (seeds, libfuzzer, or both)" >&2
    exit 2
    ;;
esac
exit 0
