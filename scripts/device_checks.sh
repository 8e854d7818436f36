#!/usr/bin/env bash
# What a lent GPU machine's minutes are for (issues 17 and 18), as one command that ends within
# seven minutes (most of it GPU work), leaving some of the session's fifteen for a second try.
#
# Here, once per checkout:  bash scripts/device_wheels.sh   (the wheels the device image lacks, into .whl/)
# Then with the device tool, in the repository root:
#     run(command="bash scripts/device_checks.sh", carry=[".whl"], timeout_s=600), then give_back.
# Under $OUT it leaves:
#   gpu.txt    nvidia-smi, torch and CUDA versions
#   speed.txt  benchmarks/speed.py --gpu-only: trackpy, the GPU rows and the 500 MP/s target, judged on
#              one detect() call over a stack of 100 frames of 512 x 512
#   profile.txt  benchmarks/gpu_profile.py: where that stack's time goes (batch sizes, precisions, the
#              network alone, the copy, the decode, torch.profiler's busiest operations)
#   round.txt  benchmarks/round_time.py --device cuda: rounds with the dock's GPU defaults (finetune.round_defaults;
#              the 24-frame stack with 8 pseudo-labelled frames against the 10 s target)
#   train.txt, runs.tar  only with TRAIN_MINUTES > 0 or TRAIN_UNTIL > 0: the recipes in TRAIN_RECIPES
#              trained on for TRAIN_MINUTES each, or (TRAIN_UNTIL) until that many seconds after this
#              script started, less a minute for the last epoch's validation and the copy back; resumed
#              from recipes/runs/ (unpack runs.tar over the checkout here and commit). Training is fed by
#              the CPU generator, so a GPU minute teaches about what a few CPU-thread minutes do; the
#              timings above come first.
# A dry run here (no GPU): OUT=out/device DEVICE=cpu bash scripts/device_checks.sh
# Each part has its own time limit, so one that hangs leaves the others their minutes.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-out/device}
DEVICE=${DEVICE:-cuda}
TRAIN_MINUTES=${TRAIN_MINUTES:-0}
TRAIN_UNTIL=${TRAIN_UNTIL:-0}
# rods-long4 (the last default) is done; name a recipe to train one (its runs come back in runs.tar).
TRAIN_RECIPES=${TRAIN_RECIPES:-}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
if ls .whl/*.whl >/dev/null 2>&1; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD
fi
{ date; nvidia-smi 2>&1; $PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"; } > "$OUT/gpu.txt" 2>&1
cuda_flag=$([ "$DEVICE" = cuda ] || echo --no-cuda)
timeout 170 $PY benchmarks/speed.py --gpu-only --resnet none $cuda_flag > "$OUT/speed.txt" 2>&1
speed_exit=$?
echo "speed.py exit $speed_exit at ${SECONDS} s" >> "$OUT/gpu.txt"
timeout 150 $PY benchmarks/gpu_profile.py --device "$DEVICE" > "$OUT/profile.txt" 2>&1
echo "gpu_profile.py exit $? at ${SECONDS} s" >> "$OUT/gpu.txt"
timeout 200 $PY benchmarks/round_time.py --device "$DEVICE" > "$OUT/round.txt" 2>&1
round_exit=$?
echo "round_time.py exit $round_exit at ${SECONDS} s" >> "$OUT/gpu.txt"
train_seconds=$((TRAIN_MINUTES * 60))
if [ "$TRAIN_UNTIL" != 0 ]; then
    train_seconds=$(( (TRAIN_UNTIL - SECONDS - 60) / $(echo $TRAIN_RECIPES | wc -w) ))
fi
if [ "$speed_exit" != 0 ] || [ "$round_exit" != 0 ]; then
    # A timing that failed is what the session's minutes are for: end now, so there is time to fix and rerun.
    echo "no training: a timing failed" >> "$OUT/gpu.txt"
elif [ -z "$TRAIN_RECIPES" ]; then
    echo "no training: TRAIN_RECIPES is empty" >> "$OUT/gpu.txt"
elif [ "$train_seconds" -gt 30 ]; then
    echo "training $train_seconds s per recipe" >> "$OUT/gpu.txt"
    runs=""
    for recipe in $TRAIN_RECIPES; do
        timeout $((train_seconds + 45)) $PY -c 'import sys; from napari_particle_detect.cli.main import main; sys.exit(main())' \
            recipe "$recipe" --device "$DEVICE" --minutes "$(awk "BEGIN {print $train_seconds / 60}")" >> "$OUT/train.txt" 2>&1
        echo "$recipe exit $? at ${SECONDS} s" >> "$OUT/gpu.txt"
        runs="$runs recipes/runs/$(basename "$recipe" .toml)"
    done
    # The trained runs alone: every run together is over the 16 MiB a file brought back may hold.
    tar cf "$OUT/runs.tar" $runs
fi
cat "$OUT/gpu.txt"
