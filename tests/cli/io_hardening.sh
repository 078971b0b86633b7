#!/usr/bin/env bash
# Issue 13, file-system half: full disks, stale temporaries of killed writers, symlink loops
# and planted links under report output, unwritable or busy results dirs. Each case injects
# the fault for real (a tmpfs that is full, a pid that is dead, a link to ".") and checks that
# it happened before judging the outcome.
set -u
CLI=${VB_CLI:?}
S=${VB_SHARED:?}
T=${VB_TEST_TMP:?}/io_hardening
rm -rf "$T"; mkdir -p "$T"
CLIP=$S/data/videos/kinetics400/abseiling_k400.mp4
MOUNTS=()
cleanup() { for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done; }
trap cleanup EXIT

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; }
skip() { echo "SKIP: $1"; }

# A pid that certainly belongs to no process: a child that has exited and been reaped.
dead_pid() { sh -c 'echo $$' ; }

# --- stale temporaries of a killed writer (x.npy.tmp.PID.N) are removed by the next run ---
mkdir -p "$T/stale"
dead=$(dead_pid)
if kill -0 "$dead" 2>/dev/null; then
    fail "pid $dead should be dead for the stale-temporary test"
else
    head -c 100000 /dev/zero > "$T/stale/x.npy.tmp.$dead.0"
    head -c 100 /dev/zero > "$T/stale/other.npy.tmp.$dead.3"
    head -c 100 /dev/zero > "$T/stale/x.npy.tmp.$$.0"          # this shell is alive: kept
    head -c 100 /dev/zero > "$T/stale/notes.tmp.txt"            # not our pattern: kept
    "$CLI" -q frames "$CLIP" -o "$T/stale/x.npy" --num-frames 4 --size 32 >/dev/null 2>"$T/err"
    rc=$?
    if [ $rc -eq 0 ] && [ ! -e "$T/stale/x.npy.tmp.$dead.0" ] && [ ! -e "$T/stale/other.npy.tmp.$dead.3" ] \
        && [ -e "$T/stale/x.npy.tmp.$$.0" ] && [ -e "$T/stale/notes.tmp.txt" ] && [ -s "$T/stale/x.npy" ]; then
        pass "frames -o removes temporaries of dead writers, keeps a live writer's and other files"
    else
        fail "stale temporaries (exit $rc): $(ls "$T/stale") $(cat "$T/err")"
    fi
fi

# --- gif onto a full disk: the real cause, exit 1, nothing left behind ---
# (the leak of the muxer's packet shows under the SAN build, where this test runs with
# LeakSanitizer on)
FULL=$T/full
mkdir -p "$FULL"
if mount -t tmpfs -o size=64k tmpfs "$FULL" 2>/dev/null; then
    MOUNTS+=("$FULL")
    "$CLI" gif "$CLIP" -o "$FULL/a.gif" --size 112 >"$T/out" 2>"$T/err"
    rc=$?
    if [ $rc -eq 1 ] && grep -q "a.gif.*No space left on device" "$T/err" && [ -z "$(ls -A "$FULL")" ]; then
        pass "gif onto a full disk: exit 1, 'No space left on device', no file or temporary"
    else
        fail "gif onto a full disk (exit $rc): $(cat "$T/err"); left: $(ls -A "$FULL")"
    fi
    # report previews onto the same full disk: the page must not claim success
    printf 'video_id,Ground_Truth,pred_1,score_1\nabseiling_k400,abseiling,abseiling,0.9\n' > "$T/r.csv"
    "$CLI" report --results "$T/r.csv" --videos "$CLIP" -o "$FULL/r.html" --sample 1 >"$T/out" 2>"$T/err"
    rc=$?
    if [ $rc -eq 1 ] && grep -q "No space left on device" "$T/err" && [ ! -e "$FULL/r.html" ]; then
        pass "report with previews onto a full disk: exit 1 with the cause, no page"
    else
        fail "report onto a full disk (exit $rc): $(cat "$T/err" "$T/out"); left: $(ls -AR "$FULL")"
    fi
    rm -rf "${FULL:?}"/*
    "$CLI" frames "$CLIP" -o "$FULL/x.npy" --num-frames 8 --size 112 >"$T/out" 2>"$T/err"
    rc=$?
    if [ $rc -eq 1 ] && grep -q "x.npy: write failed: No space left on device" "$T/err" && [ -z "$(ls -A "$FULL")" ]; then
        pass "frames -o onto a full disk: exit 1, 'No space left on device', no file or temporary"
    else
        fail "frames onto a full disk (exit $rc): $(cat "$T/err"); left: $(ls -A "$FULL")"
    fi
else
    skip "gif/report onto a full disk: cannot mount a tmpfs here (not root?)"
fi

# --- report --videos DIR with links to "." and to a parent: each directory walked once ---
L=$T/loops
mkdir -p "$L/sub"
ln -s "$CLIP" "$L/sub/abseiling_k400.mp4"
ln -s "$CLIP" "$L/sub/same_file_again.mp4"
for i in 0 1 2 3 4 5 6 7 8 9; do ln -s . "$L/dot$i"; ln -s .. "$L/sub/up$i"; done
[ -L "$L/dot9" ] && [ -L "$L/sub/up9" ] || fail "the loop links were not created"
start=$(date +%s)
timeout 60 "$CLI" report --videos "$L" --no-previews --no-probe -o "$T/loops.html" >"$T/out" 2>"$T/err"
rc=$?
took=$(( $(date +%s) - start ))
# two names of one video are two clips; every further one would be a phantom of the loops
if [ $rc -eq 0 ] && grep -q "(2 clips" "$T/out" && [ $took -le 10 ]; then
    pass "report --videos with 20 links to . and ..: the 2 clips in ${took}s"
else
    fail "report --videos with link loops (exit $rc, ${took}s): $(cat "$T/out" "$T/err" | head -c 300)"
fi

# --- report does not write previews through a planted <name>_files link ---
P=$T/planted
mkdir -p "$P" "$T/elsewhere"
ln -s "$T/elsewhere" "$P/page_files"
"$CLI" report --videos "$CLIP" -o "$P/page.html" --sample 1 >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 1 ] && grep -q "page_files: exists and is a symbolic link" "$T/err" && [ -z "$(ls -A "$T/elsewhere")" ] \
    && [ ! -e "$P/page.html" ]; then
    pass "report refuses a <name>_files symlink and writes nothing through it"
else
    fail "planted _files link (exit $rc): $(cat "$T/err"); written through it: $(ls -A "$T/elsewhere")"
fi

# --- the shortside size limit is named, not "out of memory or invalid size" ---
if ffmpeg -loglevel error -y -f lavfi -i color=c=red:s=8192x16:d=0.2:r=10 -c:v libx264 -pix_fmt yuv420p \
    "$T/thin.mkv" 2>"$T/err" && [ -s "$T/thin.mkv" ]; then
    "$CLI" frames "$T/thin.mkv" -o "$T/thin.npy" --resize shortside >"$T/out" 2>"$T/err"
    rc=$?
    if [ $rc -eq 1 ] && grep -q "thin.mkv: cannot transform 8192x16 frames to 224 with the shortside resize" "$T/err" &&
        grep -q "long side 131072 pixels, over the 65536 limit" "$T/err"; then
        pass "an 8192x16 clip with --resize shortside: the limit and the numbers are named"
    else
        fail "shortside limit message (exit $rc): $(cat "$T/err")"
    fi
else
    skip "shortside limit message: ffmpeg could not make the 8192x16 fixture: $(head -c 200 "$T/err")"
fi

# --- evaluate: an unwritable results dir is named; two runs on one results dir are refused ---
W=$S/models/movinet-a0-stream-int8-k600
V=$S/data/videos
cat >"$T/clips.csv" <<CSV
$V/kinetics400/R6llTwEh07w.mp4,using segway,R6llTwEh07w
$V/kinetics400/SOX5yA1l24A.mp4,using segway,SOX5yA1l24A
$V/kinetics400/abseiling_k400.mp4,abseiling,
$V/kinetics400/mmaction2_demo.mp4,arm wrestling,
CSV
EVAL=(evaluate --model_type movinet --weights "$W/movinet_a0_stream_int8.tflite" --labels "$W/kinetics600_label_map.txt"
      --clips "$T/clips.csv" --threads 1 --batch_size 1 --num_videos all)
RO=$T/ro_results
mkdir -p "$RO"
if mount -t tmpfs -o ro,size=64k tmpfs "$RO" 2>/dev/null; then
    MOUNTS+=("$RO")
    "$CLI" "${EVAL[@]}" --num_frames 8 --results_dir "$RO" >"$T/out" 2>"$T/err"
    rc=$?
    if [ $rc -eq 1 ] && grep -q "results dir $RO is not writable" "$T/err" && grep -q "Read-only file system" "$T/err" \
        && ! grep -q "unable to open database file" "$T/err"; then
        pass "evaluate into a read-only results dir: names the dir and that it is not writable"
    else
        fail "read-only results dir (exit $rc): $(cat "$T/err")"
    fi
else
    skip "read-only results dir: cannot mount a read-only tmpfs here (not root?)"
fi

R=$T/busy_results
"$CLI" "${EVAL[@]}" --results_dir "$R" >"$T/first.out" 2>"$T/first.err" &
first=$!
for _ in $(seq 200); do [ -e "$R/movinet_k600_val400.sqlite.lock" ] && break; sleep 0.05; done
if ! kill -0 $first 2>/dev/null || [ ! -e "$R/movinet_k600_val400.sqlite.lock" ]; then
    fail "the first evaluate did not start or ended before the second could run: $(cat "$T/first.err")"
else
    "$CLI" "${EVAL[@]}" --results_dir "$R" >"$T/out" 2>"$T/err"
    rc=$?
    still_running=0; kill -0 $first 2>/dev/null && still_running=1
    wait $first
    first_rc=$?
    if [ $rc -eq 1 ] && grep -q "results dir $R in use by pid $first" "$T/err" && ! grep -q "UNIQUE" "$T/err" \
        && [ $still_running -eq 1 ] && [ $first_rc -eq 0 ] && [ ! -e "$R/movinet_k600_val400.sqlite.lock" ]; then
        pass "a second evaluate on a busy results dir: 'in use by pid $first'; the first finishes, lock removed"
    else
        fail "busy results dir (second exit $rc, first exit $first_rc, first running $still_running): $(cat "$T/err")"
    fi
    "$CLI" "${EVAL[@]}" --results_dir "$R" >"$T/out" 2>"$T/err"
    rc=$?
    if [ $rc -eq 0 ] && grep -q "4 from earlier runs" "$T/out" "$T/err"; then
        pass "a later evaluate on the same dir takes the lock and resumes"
    else
        fail "evaluate after the lock was released (exit $rc): $(tail -3 "$T/err")"
    fi
fi
