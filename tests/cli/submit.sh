#!/usr/bin/env bash
# vidbench submit on a real one-node Slurm cluster (tests/tools/slurm_cluster.sh: munged,
# slurmctld, slurmd from Debian, as root): the real MoViNet on 8 shared clips as a 3-task job
# array plus a merge job; the merged CSV must equal an unsharded run byte for byte; one task is
# killed mid-run with `scancel --signal=KILL`, `submit --status` must name it and its log, and
# `submit --resubmit` must finish the run with the same CSV, computing nothing twice. Also
# --dry-run scripts (bash -n, sbatch --test-only) and usage errors. Partition shards: a Kinetics
# mirror of 4 partitions on 127.0.0.1 evaluated as 3 tasks with the registry's MoViNet, each task
# fetching only its own partitions into its own data dir; merged CSV = the unsharded run's.
set -u
CLI=${VB_CLI:-build/vidbench}
SHARED=${VB_SHARED:-../shared}
ROOT=${VB_ROOT:-$PWD}
TMP=${VB_TEST_TMP:-$(mktemp -d)}/submit_sh
mkdir -p "$TMP"
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; }
check() { if [ "$2" -eq 0 ]; then pass "$1"; else fail "$1"; fi; }

"$CLI" submit --help >"$TMP/o" 2>&1; check "--help exits 0" $?
"$CLI" submit --model_type movinet >"$TMP/o" 2>"$TMP/e"
check "no --tasks is a usage error" $([ $? -eq 2 ] && grep -q -- "--tasks" "$TMP/e" && echo 0 || echo 1)
"$CLI" submit --tasks 0 >"$TMP/o" 2>"$TMP/e"; check "--tasks 0 is a usage error" $([ $? -eq 2 ] && echo 0 || echo 1)
"$CLI" submit --status "$TMP/nothing" >"$TMP/o" 2>"$TMP/e"
check "--status of a dir with no submission exits 1 naming it" \
    $([ $? -eq 1 ] && grep -q "nothing was submitted" "$TMP/e" && echo 0 || echo 1)

if [ "$(id -u)" -ne 0 ] || ! command -v sbatch >/dev/null || [ ! -x /usr/sbin/slurmctld ]; then
    echo "SKIP: slurm cluster -- needs root and Debian's slurm-wlm + munge (scripts/install-deps.sh)"
    exit 0
fi
CLUSTER=$TMP/cluster
trap 'bash "$ROOT/tests/tools/slurm_cluster.sh" stop "$CLUSTER"' EXIT
if ! eval "$(bash "$ROOT/tests/tools/slurm_cluster.sh" start "$CLUSTER")"; then
    fail "start a one-node Slurm cluster (logs in $CLUSTER/log)"
    exit 0
fi
pass "one-node Slurm cluster up ($(sinfo -h -o '%N %c CPUs %t'))"

WEIGHTS=$SHARED/models/movinet-a0-stream-int8-k600/movinet_a0_stream_int8.tflite
LABELS=$SHARED/models/movinet-a0-stream-int8-k600/kinetics600_label_map.txt
V=$SHARED/data/videos
cat >"$TMP/clips.csv" <<EOF
$V/kinetics400/R6llTwEh07w.mp4,using segway,R6llTwEh07w
$V/kinetics400/SOX5yA1l24A.mp4,using segway,SOX5yA1l24A
$V/kinetics400/mmaction2_demo.mp4,arm wrestling,
$V/kinetics400/abseiling_k400.mp4,abseiling,
$V/ucf101/v_SoccerJuggling_g23_c01.avi,juggling soccer ball,
$V/ucf101/v_Basketball_g01_c01.avi,,
$V/kinetics400_unverified/mmaction2_demo_2020-06.mp4,,
$V/hmdb51/RATRACE_wave_f_nm_np1_fr_goo_37.avi,,
EOF
# Every frame (24 under the sanitizers, which run the interpreter ~10x slower), one clip per
# batch: each task commits clip by clip, so a kill lands mid-run.
FRAMES=0
[ "${VB_SANITIZED:-0}" = 1 ] && FRAMES=24
cat >"$TMP/config.txt" <<EOF
--model_type movinet
--weights $WEIGHTS
--labels $LABELS
--clips $TMP/clips.csv
--num_frames $FRAMES
--min_frames 0
--batch_size 1
--num_videos all
--threads 1
EOF
NAME=movinet_k600_val400

start=$(date +%s%N)
"$CLI" evaluate @"$TMP/config.txt" --results_dir "$TMP/single" >"$TMP/single.out" 2>&1
check "unsharded evaluate" $?
single_s=$(( ($(date +%s%N) - start) / 1000000 ))

# ---- dry run: valid scripts ----
(cd "$TMP" && "$CLI" submit @config.txt --results_dir "$TMP/dry" --tasks 3 --time 00:30:00 --dry-run >"$TMP/dry.out" 2>&1)
check "--dry-run exits 0" $?
sed -n '1,/^# ---- merge job/p' "$TMP/dry.out" | sed '$d' >"$TMP/dry-evaluate.sbatch"
sed -n '/^# ---- merge job/,$p' "$TMP/dry.out" | sed '1d' >"$TMP/dry-merge.sbatch"
check "--dry-run: the array script passes bash -n" $(bash -n "$TMP/dry-evaluate.sbatch" && grep -q '^#SBATCH --array=0-2$' "$TMP/dry-evaluate.sbatch" && echo 0 || echo 1)
check "--dry-run: the merge script passes bash -n" $(bash -n "$TMP/dry-merge.sbatch" && grep -q "shard2of3.sqlite" "$TMP/dry-merge.sbatch" && echo 0 || echo 1)
sbatch --test-only "$TMP/dry-evaluate.sbatch" >"$TMP/testonly" 2>&1
check "--dry-run: sbatch --test-only accepts the array script" $([ $? -eq 0 ] && grep -q "to start" "$TMP/testonly" && echo 0 || echo 1)
check "--dry-run submits and writes nothing" $([ ! -e "$TMP/dry" ] && echo 0 || echo 1)

# ---- 3 tasks + merge, waited for ----
start=$(date +%s%N)
(cd "$TMP" && "$CLI" submit @config.txt --results_dir "$TMP/sharded" --tasks 3 --wait >"$TMP/submit.out" 2>&1)
rc=$?
sharded_s=$(( ($(date +%s%N) - start) / 1000000 ))
check "submit --tasks 3 --wait exits 0" $rc
check "submit prints the array and merge job ids" $(grep -q "submitted array job [0-9]* (3 tasks" "$TMP/submit.out" && grep -q "merge job [0-9]*" "$TMP/submit.out" && echo 0 || echo 1)
check "3 tasks completed" $([ "$(grep -cE '^[0-2] +COMPLETED +[0-9]+/[0-9]+$' "$TMP/submit.out")" -eq 3 ] && echo 0 || echo 1)
check "merged CSV equals the unsharded run byte for byte" $(cmp -s "$TMP/sharded/$NAME.csv" "$TMP/single/$NAME.csv" && echo 0 || echo 1)
echo "timing: unsharded ${single_s} ms, 3 tasks + merge on this node ${sharded_s} ms (one 2-core node: overhead, not speed-up)"

# ---- partition shards: a Kinetics mirror of 4 partitions, one data dir per task ----
# The registry's MoViNet (installed from ../shared into a temporary VIDBENCH_HOME, which sbatch
# passes on to the tasks), the dataset path: download -> prepare -> evaluate. Task i must fetch
# only partitions p with p mod 3 == i: each task has its own data dir (VIDBENCH_DATA_DIR with
# Slurm's %a), and the mirror's request log must show every partition fetched exactly once.
PM=$TMP/pmirror
rm -rf "$PM" "$TMP"/pdata-* "$TMP/psingle" "$TMP/psharded" "$TMP/preq.log" "$TMP/pport"
VB_SHARED=$SHARED /usr/bin/python3 "$ROOT/tests/tools/partition_mirror.py" "$PM" >"$TMP/partitions.txt"
check "a mirror of 4 partitions built from ../shared clips" $([ "$(wc -l <"$TMP/partitions.txt")" -eq 4 ] && echo 0 || echo 1)
/usr/bin/python3 "$ROOT/tests/tools/mirror_server.py" --root "$PM" --port-file "$TMP/pport" --log "$TMP/preq.log" \
    --max-seconds 1200 &
mirror_pid=$!
trap 'kill $mirror_pid 2>/dev/null; bash "$ROOT/tests/tools/slurm_cluster.sh" stop "$CLUSTER"' EXIT
for _ in $(seq 200); do [ -s "$TMP/pport" ] && break; sleep 0.05; done
export VIDBENCH_HOME=$TMP/home
"$CLI" model fetch movinet-a0-stream-k600 --from "$SHARED/models/movinet-a0-stream-int8-k600" >"$TMP/fetch.out" 2>&1
check "MoViNet-A0-Stream installed from ../shared" $?
PFRAMES=50
[ "${VB_SANITIZED:-0}" = 1 ] && PFRAMES=8
printf '%s\n' "--model_type movinet" "--num_videos all" "--num_frames $PFRAMES" "--min_frames 0" "--batch_size 1" \
    "--threads 1" "--mirror http://127.0.0.1:$(cat "$TMP/pport")/" >"$TMP/pconfig.txt"
"$CLI" submit @"$TMP/pconfig.txt" --num_videos 4 --tasks 3 --dry-run >"$TMP/o" 2>"$TMP/e"
check "submit refuses --num_videos N with partition shards, saying why" \
    $([ $? -ne 0 ] && grep -q "num_videos 4 with --shard 0/3 by partition" "$TMP/e" && echo 0 || echo 1)
start=$(date +%s%N)
VIDBENCH_DATA_DIR=$TMP/pdata-single "$CLI" evaluate @"$TMP/pconfig.txt" --results_dir "$TMP/psingle" >"$TMP/psingle.out" 2>&1
check "unsharded evaluate on the mirror" $?
psingle_s=$(( ($(date +%s%N) - start) / 1000000 ))
single_requests=$(wc -l <"$TMP/preq.log")
start=$(date +%s%N)
(cd "$TMP" && VIDBENCH_DATA_DIR="$TMP/pdata-%a" "$CLI" submit @pconfig.txt --results_dir "$TMP/psharded" --tasks 3 --wait \
    >"$TMP/psubmit.out" 2>&1)
rc=$?
psharded_s=$(( ($(date +%s%N) - start) / 1000000 ))
check "partition shards: submit --tasks 3 --wait exits 0" $rc
check "partition shards: 3 tasks completed" $([ "$(grep -cE '^[0-2] +COMPLETED +[0-9]+/[0-9]+$' "$TMP/psubmit.out")" -eq 3 ] && echo 0 || echo 1)
# all 6 clips (the corrupted file decodes in part; --min_frames 0 keeps it) in listing order:
# partition by partition, as partitions.txt lists them
check "partition shards: the merged CSV lists all 6 clips in partition order" \
    $([ "$(tail -n +2 "$TMP/psharded/$NAME.csv" 2>/dev/null | cut -d, -f1 | tr '\n' ' ')" = \
        "$(cut -d' ' -f2- "$TMP/partitions.txt" | tr '\n' ' ')" ] && echo 0 || echo 1)
check "partition shards: merged CSV equals the unsharded run byte for byte" \
    $(cmp -s "$TMP/psharded/$NAME.csv" "$TMP/psingle/$NAME.csv" && echo 0 || echo 1)
/usr/bin/python3 - "$TMP" "$single_requests" <<'PYEOF'
import json, os, sqlite3, sys
tmp, skip = sys.argv[1], int(sys.argv[2])
parts = {}
for line in open(os.path.join(tmp, "partitions.txt")):
    name, *clips = line.split()
    parts[int(name[len("part_"):-len(".tar.gz")])] = clips
for task in range(3):
    own = sorted(p for p in parts if p % 3 == task)
    d = os.path.join(tmp, "pdata-%d" % task)
    try:
        db = sqlite3.connect("file:%s/vidbench-data.db?mode=ro" % d, uri=True)
        done = sorted(r[0] for r in db.execute("SELECT idx FROM partitions WHERE state='done'"))
        rows = sorted(r[0] for r in db.execute("SELECT idx FROM partitions"))
        raw = sorted(f[:-4] for f in os.listdir(os.path.join(d, "raw/kinetics/400/val")))
    except Exception as e:   # no data dir: the task never ran
        done, rows, raw = str(e), None, None
    want = sorted(c for p in own for c in parts[p])
    good = done == own and rows == own and raw == want
    print(("PASS" if good else "FAIL") + ": task %d's data dir holds only its partitions %s (done %s, clips %s)"
          % (task, own, done, raw))
# the requests of the sharded run only: every partition once, so no task fetched another's
got = [json.loads(l)["path"] for l in open(os.path.join(tmp, "preq.log")).readlines()[skip:]]
counts = {p: sum(g.endswith("/part_%d.tar.gz" % p) for g in got) for p in parts}
good = all(c == 1 for c in counts.values())
print(("PASS" if good else "FAIL") + ": the mirror log shows each partition fetched once by the 3 tasks %s" % counts)
PYEOF
echo "timing (partition shards): unsharded ${psingle_s} ms, 3 tasks + merge on this node ${psharded_s} ms" \
     "(download, prepare, evaluate; one 2-core node: overhead, not speed-up)"
kill $mirror_pid 2>/dev/null
unset VIDBENCH_HOME

# ---- a task killed mid-run, then resubmitted ----
(cd "$TMP" && "$CLI" submit @config.txt --results_dir "$TMP/killed" --tasks 3 >"$TMP/submit2.out" 2>&1)
check "second submission" $?
array=$(sed -n 's/^submitted array job \([0-9]*\).*/\1/p' "$TMP/submit2.out")
store=$TMP/killed/$NAME.shard1of3.sqlite
killed=no
for _ in $(seq 3000); do   # up to 5 minutes: kill task 1 once it has committed a clip, before its last
    p=$(/usr/bin/python3 - "$store" 2>/dev/null <<'EOF'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
print(db.execute("SELECT count(*) FROM results r JOIN selection s ON s.clip_id=r.clip_id").fetchone()[0],
      db.execute("SELECT count(*) FROM selection").fetchone()[0])
EOF
)
    set -- $p
    if [ $# -eq 2 ] && [ "$1" -ge 1 ] && [ "$1" -lt "$2" ]; then
        scancel --signal=KILL "${array}_1" && killed="yes, after $1 of $2 clips"
        break
    fi
    sleep 0.1
done
check "task 1 killed mid-run ($killed)" $([ "${killed%%,*}" = yes ] && echo 0 || echo 1)
for _ in $(seq 600); do   # until nothing of the submission is active
    "$CLI" submit --status "$TMP/killed" >"$TMP/status.out" 2>&1
    status_rc=$?
    grep -qE ' (PENDING|RUNNING|COMPLETING) ' "$TMP/status.out" || break
    grep -q "FAILED" "$TMP/status.out" && ! grep -qE '^[02] +(PENDING|RUNNING)' "$TMP/status.out" && break
    sleep 0.5
done
check "submit --status exits 1 and names the failed task" $([ $status_rc -eq 1 ] && grep -qE '^1 .*FAILED' "$TMP/status.out" && echo 0 || echo 1)
check "submit --status shows the failed task's log" $(grep -q "log $TMP/killed/slurm/logs/task-1.log" "$TMP/status.out" && grep -q "| vidbench submit: task 1/3" "$TMP/status.out" && echo 0 || echo 1)
check "the merge job did not run" $([ ! -e "$TMP/killed/$NAME.csv" ] && echo 0 || echo 1)
bash "$TMP/killed/slurm/merge.sbatch" >"$TMP/merge-early.out" 2>&1
check "merging with an unfinished shard fails naming it" $([ $? -ne 0 ] && grep -q "shard1of3" "$TMP/merge-early.out" && echo 0 || echo 1)
(cd "$TMP" && "$CLI" submit --resubmit "$TMP/killed" --wait >"$TMP/resubmit.out" 2>&1)
check "submit --resubmit --wait exits 0" $?
check "resubmitted exactly the failed task" $(grep -q "resubmitted 1 task(s)" "$TMP/resubmit.out" && echo 0 || echo 1)
check "after the kill: merged CSV equals the unsharded run byte for byte" $(cmp -s "$TMP/killed/$NAME.csv" "$TMP/single/$NAME.csv" && echo 0 || echo 1)
/usr/bin/python3 - "$TMP/killed/$NAME.shard1of3.summary.json" "${killed#yes, after }" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))["clips"]
before = int(sys.argv[2].split()[0])
# The resumed task took the clips committed before the kill from its store and computed the rest.
ok = s["from_earlier_runs"] >= before and s["evaluated"] + s["skipped"] == s["selected"] \
     and s["evaluated"] + s["skipped"] - s["from_earlier_runs"] <= s["selected"] - before
print(("PASS" if ok else "FAIL") + ": the resumed task computed no clip twice (%s)" % s)
EOF
