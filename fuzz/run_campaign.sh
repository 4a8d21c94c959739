#!/usr/bin/env bash
# Time-boxed fuzzing campaign on every target (fuzz/README.md).
#
#   fuzz/run_campaign.sh libfuzzer|afl SECONDS_PER_TARGET [TARGET...]
#   fuzz/run_campaign.sh coverage [TARGET...]
#
# Runs the targets one after another on ONE core, at nice 10, each for
# SECONDS_PER_TARGET, starting from corpus/fuzz/<target>/ with the target's
# dictionary; then merges the inputs that add coverage into the corpus
# (libFuzzer -merge=1; afl-cmin over corpus + queue, new files only) and
# lists every crash, hang and slow unit found.  Seeds are never deleted.
# `coverage` replays the corpora and regressions through a clang
# source-coverage build of the targets, runs that build's `picklejail scan`
# over the container corpus (the sandboxed child included), and prints
# llvm-cov's line coverage of src/ and sandbox/.
#
# Builds, if missing: build-fuzz-lf (clang, -DPJ_FUZZ_LIBFUZZER=ON),
# build-fuzz-afl (afl-clang-fast), build-fuzz-cov (clang, coverage); all
# with ASan/UBSan except the coverage one.  Override with BUILD_DIR=.
# Results (logs, crashes, summary.txt) go to $WORK_DIR, by default
# build-fuzz-<engine>/campaign-<date>/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ALL_TARGETS=(decode judge wire roundtrip policy container zip npy joblib decompress)

usage() {
    echo "usage: $0 libfuzzer|afl SECONDS_PER_TARGET [TARGET...] | $0 coverage [TARGET...]" >&2
    exit 2
}

[ $# -ge 1 ] || usage
ENGINE=$1
shift
case $ENGINE in
libfuzzer | afl)
    [ $# -ge 1 ] || usage
    SECS=$1
    shift
    [[ $SECS =~ ^[0-9]+$ ]] || usage
    ;;
coverage) SECS=0 ;;
*) usage ;;
esac
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL_TARGETS[@]}")

dict_of() {
    case $1 in
    decode | judge | roundtrip | joblib) echo "$ROOT/fuzz/dict/pickle.dict" ;;
    container | wire | policy | zip | npy | decompress) echo "$ROOT/fuzz/dict/$1.dict" ;;
    *) echo "unknown target $1" >&2; exit 2 ;;
    esac
}

# Mutes reported, unfixed bugs (fuzz/known-bugs.supp); everything else halts.
SUPP="$ROOT/fuzz/known-bugs.supp"

configure() { # dir, cmake args...
    local dir=$1
    shift
    if [ ! -f "$dir/CMakeCache.txt" ]; then
        "$@" -S "$ROOT" -B "$dir" >/dev/null
    fi
    local targets=("${EXTRA_BUILD_TARGETS[@]}")
    for t in "${ALL_TARGETS[@]}"; do targets+=("fuzz_$t"); done
    nice -n 10 cmake --build "$dir" -j1 --target "${targets[@]}" \
        >"$dir/build.log" 2>&1 || { tail -30 "$dir/build.log"; exit 1; }
}

EXTRA_BUILD_TARGETS=()

sha1() { sha1sum "$1" | cut -c1-40; }

# ---------------------------------------------------------------- libFuzzer

run_libfuzzer() { # target
    local t=$1 bin="$BUILD/fuzz/fuzz_$1" w="$WORK/$1"
    mkdir -p "$w/new" "$w/artifacts"
    echo "== libFuzzer: $t for ${SECS}s"
    # New inputs go to $w/new (the first directory); the corpus is read only.
    UBSAN_OPTIONS="suppressions=$SUPP:halt_on_error=1:print_stacktrace=1" \
    ASAN_OPTIONS="detect_leaks=1" \
        nice -n 10 "$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
        -dict="$(dict_of "$t")" -artifact_prefix="$w/artifacts/" -print_final_stats=1 \
        "$w/new" "$ROOT/corpus/fuzz/$t" >"$w/fuzz.log" 2>&1 || true
    local before after execs rate
    before=$(find "$ROOT/corpus/fuzz/$t" -type f | wc -l)
    # Merge: only inputs that add coverage enter the corpus.
    UBSAN_OPTIONS="suppressions=$SUPP:halt_on_error=1" ASAN_OPTIONS="detect_leaks=0" \
        nice -n 10 "$bin" -merge=1 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$w/artifacts/merge-" \
        "$ROOT/corpus/fuzz/$t" "$w/new" >"$w/merge.log" 2>&1 || true
    after=$(find "$ROOT/corpus/fuzz/$t" -type f | wc -l)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$w/fuzz.log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$w/fuzz.log" | tail -1)
    local crashes
    crashes=$(find "$w/artifacts" -type f | wc -l)
    printf '%-10s %-9s %6ss %12s execs %8s exec/s  +%d corpus  %d artifacts\n' \
        "$t" libfuzzer "$SECS" "${execs:-?}" "${rate:-?}" $((after - before)) "$crashes" \
        | tee -a "$WORK/summary.txt"
    find "$w/artifacts" -type f | sed 's/^/    artifact: /' | tee -a "$WORK/summary.txt"
    grep -m3 -E "^SUMMARY|ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|runtime error" \
        "$w/fuzz.log" | sed 's/^/    /' | tee -a "$WORK/summary.txt" || true
}

# ---------------------------------------------------------------- AFL++

afl_env() {
    # afl-fuzz insists on these when the sanitizers are linked in.
    export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1
    # thousands of seeds: three calibration runs each, not eight
    export AFL_FAST_CAL=1
    export ASAN_OPTIONS="abort_on_error=1:symbolize=0:detect_leaks=0"
    export UBSAN_OPTIONS="suppressions=$SUPP:halt_on_error=1:abort_on_error=1:symbolize=0"
}

afl_merge() { # target, binary, queue dir, scratch dir, log
    local t=$1 bin=$2 queue=$3 m=$4 log=$5
    rm -rf "$m"
    mkdir -p "$m/all"
    cp "$ROOT/corpus/fuzz/$t"/* "$m/all/"
    for f in "$queue"/id:*; do
        [ -f "$f" ] && cp "$f" "$m/all/afl-$(sha1 "$f")"
    done
    if nice -n 10 afl-cmin -i "$m/all" -o "$m/min" -m none -t 2000 -- "$bin" >"$log" 2>&1; then
        for f in "$m/min"/afl-*; do
            [ -f "$f" ] || continue
            [ -e "$ROOT/corpus/fuzz/$t/$(basename "$f")" ] || cp "$f" "$ROOT/corpus/fuzz/$t/"
        done
    else
        echo "    afl-cmin failed, corpus unchanged (see $log)" | tee -a "$WORK/summary.txt"
    fi
    rm -rf "$m"
}

run_afl() { # target
    local t=$1 bin="$BUILD/fuzz/fuzz_$1" w="$WORK/$1"
    mkdir -p "$w"
    echo "== AFL++: $t for ${SECS}s"
    afl_env
    nice -n 10 afl-fuzz -V "$SECS" -m none -t 2000 -x "$(dict_of "$t")" \
        -i "$ROOT/corpus/fuzz/$t" -o "$w/out" -- "$bin" >"$w/fuzz.log" 2>&1 || true
    local st="$w/out/default/fuzzer_stats" execs rate stab
    execs=$(sed -n 's/^execs_done *: *//p' "$st" 2>/dev/null || echo '?')
    rate=$(awk -F' *: *' '/^execs_done/{e=$2} /^run_time/{r=$2} END{if (r>0) printf "%.0f", e/r; else print "?"}' "$st" 2>/dev/null)
    stab=$(sed -n 's/^stability *: *//p' "$st" 2>/dev/null || echo '?')
    # Merge: afl-cmin over the corpus and the queue; add what it keeps that
    # the corpus does not hold yet.  (afl-cmin refuses to work under /tmp,
    # so its directories live in the build directory.)
    local before after m="$BUILD/cmin-$t"
    before=$(find "$ROOT/corpus/fuzz/$t" -type f | wc -l)
    afl_merge "$t" "$bin" "$w/out/default/queue" "$m" "$w/cmin.log"
    after=$(find "$ROOT/corpus/fuzz/$t" -type f | wc -l)
    local crashes hangs
    crashes=$(find "$w/out/default/crashes" -type f -name 'id:*' 2>/dev/null | wc -l)
    hangs=$(find "$w/out/default/hangs" -type f -name 'id:*' 2>/dev/null | wc -l)
    printf '%-10s %-9s %6ss %12s execs %8s exec/s  +%d corpus  %d crashes %d hangs  stability %s\n' \
        "$t" afl "$SECS" "${execs:-?}" "${rate:-?}" $((after - before)) "$crashes" "$hangs" \
        "${stab:-?}" | tee -a "$WORK/summary.txt"
    find "$w/out/default/crashes" "$w/out/default/hangs" -type f -name 'id:*' 2>/dev/null \
        | sed 's/^/    artifact: /' | tee -a "$WORK/summary.txt"
}

# ---------------------------------------------------------------- coverage

run_coverage() {
    local prof="$WORK/profiles"
    mkdir -p "$prof"
    local objs=()
    for t in "${TARGETS[@]}"; do
        local dirs=("$ROOT/corpus/fuzz/$t")
        [ -d "$ROOT/corpus/regressions/$t" ] && dirs+=("$ROOT/corpus/regressions/$t")
        echo "== coverage: replaying $t"
        LLVM_PROFILE_FILE="$prof/$t-%p.profraw" nice -n 10 "$BUILD/fuzz/fuzz_$t" "${dirs[@]}" \
            >"$WORK/$t.log" 2>&1 || echo "    replay of $t failed (see $WORK/$t.log)"
        objs+=(-object "$BUILD/fuzz/fuzz_$t")
    done
    # sandbox/ is in no target: the CLI scans the container corpus, each
    # file decoded in a forked, seccomp-confined child.  The child ends with
    # _exit and may not open files, so its counters are kept by continuous
    # mode (%c): they live in the profile file, mapped shared before fork.
    if [[ " ${TARGETS[*]} " == *" container "* ]]; then
        echo "== coverage: picklejail scan over the container corpus (sandboxed)"
        find "$ROOT/corpus/fuzz/container" "$ROOT/corpus/regressions/container" -type f -print0 \
            | LLVM_PROFILE_FILE="$prof/cli-%c%p.profraw" \
                xargs -0 -n 200 nice -n 10 "$BUILD/picklejail" scan --format json \
                >/dev/null 2>"$WORK/cli.log" || true # exit 1: files were rejected
        objs+=(-object "$BUILD/picklejail")
    fi
    llvm-profdata merge -sparse "$prof"/*.profraw -o "$WORK/all.profdata"
    llvm-cov report "${objs[@]:1}" -instr-profile="$WORK/all.profdata" \
        "$ROOT/src" "$ROOT/sandbox" | tee "$WORK/summary.txt"
    echo "per-line view: llvm-cov show ${objs[*]:1} -instr-profile=$WORK/all.profdata $ROOT/src $ROOT/sandbox"
}

# ---------------------------------------------------------------- main

case $ENGINE in
libfuzzer)
    BUILD=${BUILD_DIR:-$ROOT/build-fuzz-lf}
    configure "$BUILD" env CC=clang cmake -DPJ_FUZZ_LIBFUZZER=ON -DPJ_SANITIZE=ON
    ;;
afl)
    command -v afl-fuzz >/dev/null || { echo "afl-fuzz not found (apt install afl++)" >&2; exit 1; }
    BUILD=${BUILD_DIR:-$ROOT/build-fuzz-afl}
    configure "$BUILD" env CC=afl-clang-fast cmake -DPJ_SANITIZE=ON
    ;;
coverage)
    BUILD=${BUILD_DIR:-$ROOT/build-fuzz-cov}
    EXTRA_BUILD_TARGETS=(picklejail)
    # -runtime-counter-relocation: continuous mode (%c) on Linux needs it
    configure "$BUILD" env CC=clang cmake \
        "-DCMAKE_C_FLAGS=-fprofile-instr-generate -fcoverage-mapping -mllvm -runtime-counter-relocation"
    ;;
esac
WORK=${WORK_DIR:-$BUILD/campaign-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$WORK"
echo "campaign: $ENGINE, ${SECS}s per target, targets: ${TARGETS[*]}; results in $WORK"

if [ "$ENGINE" = coverage ]; then
    run_coverage
    exit 0
fi
for t in "${TARGETS[@]}"; do
    if [ "$ENGINE" = libfuzzer ]; then run_libfuzzer "$t"; else run_afl "$t"; fi
done
echo "summary ($WORK/summary.txt):"
cat "$WORK/summary.txt"
cat <<EOF
To reproduce an artifact:     $BUILD/fuzz/fuzz_TARGET ARTIFACT   (any build; a default
                              build's replay driver runs it under gdb too)
To minimise (libFuzzer):      $ROOT/build-fuzz-lf/fuzz/fuzz_TARGET -minimize_crash=1 -runs=20000 ARTIFACT
To minimise (AFL++):          afl-tmin -m none -i ARTIFACT -o MIN -- $ROOT/build-fuzz-afl/fuzz/fuzz_TARGET
Then keep it as corpus/regressions/TARGET/<bug-name> and report it.
EOF
