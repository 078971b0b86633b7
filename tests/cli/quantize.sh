#!/usr/bin/env bash
# vidbench model quantize: the golden tiny I3D calibrated on the shared Kinetics-400 clips gives
# an int8 file that classify runs with --precision int8 (and auto) and refuses with fp32; bad
# inputs (a missing path, an undecodable clip among the calibration clips, either calibrated or
# held back, an unknown method, an output directory that cannot be written) fail naming the
# cause and leave nothing in the output directory, neither the model nor a temporary file.
# Dispatch: VIDBENCH_MAX_ISA caps oneDNN and the int8 results stay the same; bad values of it and
# of VIDBENCH_INT8_VNNI are errors.
set -u
CLI=${VB_CLI:?}
SHARED=${VB_SHARED:?}
TMP=${VB_TEST_TMP:-/tmp}/quantize.$$
mkdir -p "$TMP"
trap 'rm -rf "$TMP"' EXIT
W=$SHARED/golden/i3d-tiny-k400/weights.safetensors
L=$SHARED/data/labelmaps/kinetics400_label_map.txt
K=$SHARED/data/videos/kinetics400
CLIP=$K/abseiling_k400.mp4
HOLD1=$SHARED/data/videos/kinetics400_unverified/mmaction2_tests_test.mp4
HOLD2=$SHARED/data/videos/ucf101/v_Basketball_g01_c01.avi
CORRUPT=$SHARED/data/robustness/mp4parse/zero_empty_stsc.mp4        # no frame decodes
UNREADABLE=$SHARED/data/robustness/mp4parse/chunk_out_of_range.mp4  # not a readable media file

check() { # name expected_rc actual_rc [pattern file]
    local name=$1 want=$2 got=$3
    if [ "$got" -ne "$want" ]; then echo "FAIL: $name (exit $got, expected $want):"; [ $# -ge 5 ] && sed 's/^/    /' "$5"; return; fi
    if [ $# -ge 5 ] && ! grep -q -E -- "$4" "$5"; then
        echo "FAIL: $name (output lacks '$4'):"; sed 's/^/    /' "$5"; return
    fi
    echo "PASS: $name"
}

check_empty() { # name dir: a failed run leaves no model and no temporary file behind
    local left
    left=$(ls -A "$2")
    [ -z "$left" ] && echo "PASS: $1: nothing left in the output directory" ||
        echo "FAIL: $1: left behind in $2: $left"
}

# ---- a good run ----
OUT=$TMP/good/tiny-int8.safetensors
mkdir -p "$TMP/good"
"$CLI" model quantize --weights "$W" --calibration "$K" --holdout "$HOLD1" --holdout "$HOLD2" --num-frames 16 \
    -o "$OUT" >"$TMP/out" 2>"$TMP/err"
check "quantize the golden tiny I3D on the kinetics400 clips" 0 $? "^wrote .*tiny-int8.safetensors \(int8, minmax calibration on 4 clip\(s\)\)" "$TMP/out"
check "it names the ISA int8 ran on" 0 0 "^int8 ran on oneDNN ISA [a-z0-9_]+" "$TMP/out"
check "agreement on the 2 held-back clips" 0 0 "^int8 against fp32 on 2 held-back clip\(s\):" "$TMP/out"
for line in "top-1 agreement +[0-2]/2 \([0-9.]+%\)" "top-5 overlap +[0-9.]+%" "mean KL divergence +[0-9.e+-]+" \
    "max \|logit error\| +[0-9.e+-]+ \([0-9.]+% of the largest fp32 logit range"; do
    check "agreement line: $line" 0 0 "^  $line" "$TMP/out"
done
check "progress on stderr names each calibration clip" 0 0 "calibrating 4/4: .*mmaction2_demo.mp4" "$TMP/err"
[ "$(ls -A "$TMP/good")" = "tiny-int8.safetensors" ] && echo "PASS: only the model in the output directory" ||
    echo "FAIL: output directory holds: $(ls -A "$TMP/good")"

# ---- the file it wrote ----
"$CLI" classify --weights "$OUT" --labels "$L" --precision int8 --num-frames 16 --top 3 "$CLIP" >"$TMP/out" 2>"$TMP/err"
check "classify --precision int8 runs the quantized file" 0 $? "abseiling_k400.mp4" "$TMP/out"
n=$(grep -c -E '^  [01]\.[0-9]{4}  [a-z]' "$TMP/out")
[ "$n" -eq 3 ] && echo "PASS: three top-k lines from the int8 model" || echo "FAIL: expected 3 top-k lines, got $n"
check "classify names int8 and the oneDNN ISA on stderr" 0 0 "int8 on oneDNN ISA [a-z0-9_]+" "$TMP/err"
"$CLI" classify --weights "$OUT" --labels "$L" --num-frames 16 --top 3 "$CLIP" >"$TMP/out" 2>"$TMP/err"
check "classify with the default precision (auto) runs it in int8" 0 $? "int8 on oneDNN ISA" "$TMP/err"
"$CLI" classify --weights "$OUT" --labels "$L" --precision fp32 --num-frames 16 "$CLIP" >"$TMP/out" 2>&1
check "classify --precision fp32 on the int8 file fails" 1 $? "tiny-int8.safetensors is an int8 model .*run it with precision int8" "$TMP/out"
"$CLI" classify --weights "$W" --labels "$L" --precision int8 --num-frames 16 "$CLIP" >"$TMP/out" 2>&1
check "classify --precision int8 on an fp32 file points to model quantize" 1 $? "vidbench model quantize" "$TMP/out"

# ---- without -o: NAME.int8.safetensors beside the fp32 file, found by --precision int8 ----
mkdir -p "$TMP/sibling"
cp "$W" "$TMP/sibling/tiny.safetensors"
"$CLI" model quantize --weights "$TMP/sibling/tiny.safetensors" --calibration "$CLIP" --num-frames 16 >"$TMP/out" 2>"$TMP/err"
check "without -o the model goes beside the fp32 file" 0 $? "^wrote .*sibling/tiny.int8.safetensors " "$TMP/out"
"$CLI" classify --weights "$TMP/sibling/tiny.safetensors" --labels "$L" --precision int8 --num-frames 16 --top 1 "$CLIP" \
    >"$TMP/out" 2>"$TMP/err"
check "--precision int8 on the fp32 file runs its int8 sibling" 0 $? "tiny.int8.safetensors, 400 classes, .* int8 on oneDNN ISA" "$TMP/err"
"$CLI" classify --weights "$TMP/sibling/tiny.safetensors" --labels "$L" --num-frames 16 --top 1 "$CLIP" \
    >"$TMP/out" 2>"$TMP/err"
check "without --precision the fp32 file itself runs (fp32)" 0 $? "abseiling_k400.mp4" "$TMP/out"
grep -q "int8" "$TMP/err" && echo "FAIL: the default run mentions int8: $(cat "$TMP/err")" || echo "PASS: the default run is fp32"

# ---- bad inputs: each in its own empty directory ----
run_bad() { # case-name, then quantize arguments; output goes to $TMP/<case-name>/out.safetensors
    local name=$1
    shift
    mkdir -p "$TMP/$name"
    "$CLI" model quantize --weights "$W" "$@" --num-frames 16 -o "$TMP/$name/out.safetensors" >"$TMP/out" 2>&1
}

run_bad missing --calibration "$SHARED/data/videos/no-such-dir"
check "missing calibration path exits 1 naming it" 1 $? "no-such-dir: no such file or directory" "$TMP/out"
check_empty "missing calibration path" "$TMP/missing"

run_bad corrupt --calibration "$CLIP" --calibration "$CORRUPT" --holdout "$HOLD1"
check "an undecodable calibration clip exits 1 naming it" 1 $? "zero_empty_stsc.mp4: no frame could be decoded" "$TMP/out"
check_empty "undecodable calibration clip" "$TMP/corrupt"

# without --holdout the last quarter of the clips is held back: here the unreadable one, which
# fails after the model was written (the run must take it back)
run_bad corrupt-held --calibration "$CLIP" --calibration "$K/R6llTwEh07w.mp4" --calibration "$UNREADABLE"
check "an unreadable held-back clip exits 1 naming it" 1 $? "chunk_out_of_range.mp4: not a readable media file" "$TMP/out"
check "  (it was the held-back one)" 0 0 "checking 1/1: .*chunk_out_of_range.mp4" "$TMP/out"
check_empty "unreadable held-back clip" "$TMP/corrupt-held"

run_bad method --calibration "$CLIP" --method bogus
check "--method bogus is a usage error" 2 $? "--method: expected minmax, percentile or entropy, got 'bogus'" "$TMP/out"
check_empty "--method bogus" "$TMP/method"

"$CLI" model quantize --weights "$W" --calibration "$CLIP" --num-frames 9 -o "$TMP/no-such-dir/out.safetensors" \
    >"$TMP/out" 2>&1
check "an output directory that does not exist exits 1 naming the file" 1 $? \
    "no-such-dir/out.safetensors: cannot create: No such file or directory" "$TMP/out"
[ ! -e "$TMP/no-such-dir" ] && echo "PASS: no output directory made" || echo "FAIL: $TMP/no-such-dir was created"

mkdir -p "$TMP/notdir"
: >"$TMP/notdir/file"
"$CLI" model quantize --weights "$W" --calibration "$CLIP" --num-frames 9 -o "$TMP/notdir/file/out.safetensors" \
    >"$TMP/out" 2>&1
check "an output path under a regular file exits 1 naming it" 1 $? "notdir/file/out.safetensors: cannot create" "$TMP/out"
[ "$(ls -A "$TMP/notdir")" = "file" ] && echo "PASS: nothing but the file next to it" ||
    echo "FAIL: left behind: $(ls -A "$TMP/notdir")"


# ---- dispatch: VIDBENCH_MAX_ISA caps oneDNN; the int8 arithmetic is the same on every ISA ----
"$CLI" classify --weights "$OUT" --labels "$L" --precision int8 --num-frames 16 --top 3 "$CLIP" >"$TMP/isa_default" 2>"$TMP/err"
check "int8 classify at the machine's ISA" 0 $?
VIDBENCH_MAX_ISA=avx "$CLI" classify --weights "$OUT" --labels "$L" --precision int8 --num-frames 16 --top 3 "$CLIP" \
    >"$TMP/isa_avx" 2>"$TMP/err"
check "VIDBENCH_MAX_ISA=avx: int8 runs, capped below avx2" 0 $? "int8 on oneDNN ISA (avx|sse41)[;,]" "$TMP/err"
cmp -s "$TMP/isa_default" "$TMP/isa_avx" && echo "PASS: the same top-3 classes and probabilities under the cap" ||
    { echo "FAIL: capped run differs:"; diff "$TMP/isa_default" "$TMP/isa_avx" | sed 's/^/    /'; }
VIDBENCH_MAX_ISA=avx9 "$CLI" classify --weights "$OUT" --labels "$L" --precision int8 --num-frames 16 "$CLIP" >"$TMP/out" 2>&1
check "VIDBENCH_MAX_ISA naming no ISA is an error that says so" 1 $? "VIDBENCH_MAX_ISA is 'avx9': expected" "$TMP/out"
VIDBENCH_INT8_VNNI=2 "$CLI" classify --weights "$OUT" --labels "$L" --num-frames 16 "$CLIP" >"$TMP/out" 2>&1
check "VIDBENCH_INT8_VNNI=2 is refused" 1 $? "VIDBENCH_INT8_VNNI is '2': expected 1" "$TMP/out"
if grep -q avx512_vnni /proc/cpuinfo; then
    echo "PASS: (AVX-512 VNNI present: VNNI's arithmetic runs on oneDNN here)"
else
    VIDBENCH_INT8_VNNI=1 "$CLI" classify --weights "$OUT" --labels "$L" --num-frames 16 "$CLIP" >"$TMP/out" 2>&1
    check "VNNI's arithmetic on oneDNN without VNNI is refused (it would saturate)" 1 $? "needs AVX-512 VNNI" "$TMP/out"
    VIDBENCH_INT8_VNNI=1 "$CLI" classify --weights "$OUT" --labels "$L" --num-frames 16 --backend reference "$CLIP" \
        >"$TMP/out" 2>&1
    check "VNNI's arithmetic runs on the reference backend anywhere" 0 $? "abseiling_k400.mp4" "$TMP/out"
fi
