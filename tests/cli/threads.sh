#!/usr/bin/env bash
# The thread policy seen from the CLI: classify and evaluate without --threads run MoViNet and
# I3D on every core (or VIDBENCH_THREADS), and report the count the engine resolved. The count
# comes from the interpreter / oneDNN engine itself (vb_*_threads), not from the CLI's argument.
set -u
CLI=${VB_CLI:?}
SHARED=${VB_SHARED:?}
TMP=${VB_TEST_TMP:-/tmp}/threads
mkdir -p "$TMP"
CORES=$(nproc)
M=$SHARED/models/movinet-a0-stream-int8-k600
MOVINET=(--weights "$M/movinet_a0_stream_int8.tflite" --labels "$M/kinetics600_label_map.txt")
I3D=(--weights "$SHARED/golden/i3d-tiny-k400/weights.safetensors" --labels "$SHARED/data/labelmaps/kinetics400_label_map.txt")
CLIP=$SHARED/data/videos/kinetics400/abseiling_k400.mp4

threads_of() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[0]['threads'])" "$1" 2>/dev/null; }

expect() { # name want got
    if [ "$2" = "$3" ]; then echo "PASS: $1 ($3 threads)"; else echo "FAIL: $1 (got '$3' threads, expected $2)"; fi
}

for model in MOVINET I3D; do
    declare -n args=$model
    (unset VIDBENCH_THREADS; "$CLI" classify --format json --top 1 --num-frames 16 "${args[@]}" "$CLIP" >"$TMP/out.json" 2>"$TMP/err")
    expect "classify $model default runs on every core ($CORES)" "$CORES" "$(threads_of "$TMP/out.json")"
    VIDBENCH_THREADS=1 "$CLI" classify --format json --top 1 --num-frames 16 "${args[@]}" "$CLIP" >"$TMP/out.json" 2>"$TMP/err"
    expect "classify $model honours VIDBENCH_THREADS=1" 1 "$(threads_of "$TMP/out.json")"
    VIDBENCH_THREADS=1 "$CLI" classify --format json --top 1 --num-frames 16 --threads "$CORES" "${args[@]}" "$CLIP" \
        >"$TMP/out.json" 2>"$TMP/err"
    expect "classify $model --threads wins over VIDBENCH_THREADS" "$CORES" "$(threads_of "$TMP/out.json")"
done

# evaluate: -v prints the engine's resolved count.
printf '%s,abseiling,\n' "$CLIP" >"$TMP/clips.txt"
evaluate_threads() { # model_type args... -> the "N threads" of the -v line
    "$CLI" -v evaluate --model_type "$1" "${@:2}" --clips "$TMP/clips.txt" --num_frames 16 --num_videos all \
        --results_dir "$TMP/results-$1-$RANDOM" >"$TMP/eval.out" 2>"$TMP/eval.err"
    sed -n 's/.* classes, \([0-9]*\) threads).*/\1/p' "$TMP/eval.err" | head -n 1
}
for model in MOVINET I3D; do
    declare -n args=$model
    type=$(echo "$model" | tr 'A-Z' 'a-z')
    expect "evaluate $model default runs on every core ($CORES)" "$CORES" "$(unset VIDBENCH_THREADS; evaluate_threads "$type" "${args[@]}")"
    expect "evaluate $model honours VIDBENCH_THREADS=1" 1 "$(VIDBENCH_THREADS=1 evaluate_threads "$type" "${args[@]}")"
done
