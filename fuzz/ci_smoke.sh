#!/usr/bin/env bash
# CI's short fuzzing run: every target under libFuzzer (clang,
# -fsanitize=fuzzer,address,undefined) for SECONDS each (default 50), starting
# from its seed corpus and dictionary.  New inputs go to a temporary directory,
# never into the tree; any crash, leak, timeout or out-of-memory fails the run
# and is copied to $BUILD_DIR/ci-smoke-crashes/ for reproduction.
# usage: fuzz/ci_smoke.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-50}
build=${BUILD_DIR:-build-fuzz-ci}
targets=(decode judge wire roundtrip policy container zip npy joblib decompress)

CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPJ_FUZZ_LIBFUZZER=ON \
    -DPJ_SANITIZE=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target "${targets[@]/#/fuzz_}" >/dev/null

crashes="$build/ci-smoke-crashes"
rm -rf "$crashes"
mkdir -p "$crashes"
status=0
for t in "${targets[@]}"; do
    out=$(mktemp -d)
    dict=fuzz/dict/pickle.dict
    [ -f "fuzz/dict/$t.dict" ] && dict="fuzz/dict/$t.dict"
    log="$build/ci-smoke-$t.log"
    if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$build/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -dict="$dict" -artifact_prefix="$crashes/$t-" -print_final_stats=1 \
        "$out" "corpus/fuzz/$t" >"$log" 2>&1; then
        execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
        echo "fuzz $t: ok, ${execs:-?} runs in ${secs}s"
    else
        echo "fuzz $t: FAILED (see $log; reproducer in $crashes)"
        tail -n 30 "$log"
        status=1
    fi
    rm -rf "$out"
done
exit $status
