#!/usr/bin/env bash
# encore's transcription against the official Python basic-pitch 0.4.0 (ONNX Runtime backend), on
# the same files, one thread each (BENCHMARKS.md, issue 4).
#
#   scripts/bench-transcribe.sh
#
# It fetches the model and ONNX Runtime as setup does, installs basic-pitch and its pinned runtime
# dependencies (scripts/bench/requirements-basic-pitch.txt) into a virtual environment under
# ${XDG_CACHE_HOME:-~/.cache}/encore/bench-venv, renders the test material (PIECES pieces of random
# notes with known ground truth, as 44.1 kHz stereo and again as 22,050 Hz mono, and the demo
# catalog's mixes), transcribes every file with encore
# on ONNX Runtime, encore on tract and Python, each pinned to one core, and prints a markdown
# table of speeds and note-level F1 (same pitch, onset within 50 ms) to paste into BENCHMARKS.md.
#
# Environment: PIECES (12), SEED (2024), DEMO_SONGS (all 16), ROUNDS (3) and REPEAT (2: each time
# is the fastest of ROUNDS x REPEAT runs), CPU (the core to pin to: 1), BENCH_DIR
# (/tmp/encore-bench-transcribe).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

PIECES="${PIECES:-12}"
SEED="${SEED:-2024}"
DEMO_SONGS="${DEMO_SONGS:-16}"
REPEAT="${REPEAT:-2}"
ROUNDS="${ROUNDS:-3}"
BENCH_DIR="${BENCH_DIR:-/tmp/encore-bench-transcribe}"
if [ -z "${CPU:-}" ]; then
  CPU=0
  [ "$(getconf _NPROCESSORS_ONLN)" -gt 1 ] && CPU=1
fi
VENV="${XDG_CACHE_HOME:-$HOME/.cache}/encore/bench-venv"
REQUIREMENTS=scripts/bench/requirements-basic-pitch.txt

install_system_packages
fetch_basic_pitch_model
fetch_onnxruntime
# Debian's own python3 makes virtual environments only with python3-venv.
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  step "installing python3-venv"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv >/dev/null
fi

step "Python basic-pitch 0.4.0 in $VENV"
want="$(cat "$REQUIREMENTS" <(python3 --version) | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$VENV/.encore-requirements" 2>/dev/null)" != "$want" ]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
    -r "$REQUIREMENTS"
  echo "$want" >"$VENV/.encore-requirements"
fi
"$VENV/bin/python" -c 'import basic_pitch, onnxruntime; print("basic-pitch 0.4.0, onnxruntime", onnxruntime.__version__)' 2>/dev/null

step "building the benchmark (release)"
cargo build --release --locked -p encore-engine --example transcribe_bench
BIN="${CARGO_TARGET_DIR:-target}/release/examples/transcribe_bench"

step "rendering $PIECES pieces with known notes (seed $SEED) and $DEMO_SONGS demo songs into $BENCH_DIR"
rm -rf "$BENCH_DIR"
mkdir -p "$BENCH_DIR"
"$BIN" render "$BENCH_DIR" --pieces "$PIECES" --seed "$SEED" --demo-songs "$DEMO_SONGS"
files=("$BENCH_DIR"/known/*.wav "$BENCH_DIR"/known22/*.wav "$BENCH_DIR"/demo/*.wav)

# One thread everywhere, pinned to one core. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which this
# workplace sets for old OpenBLAS builds, slow a current numpy: the Python run goes without them.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
pin=(taskset -c "$CPU")
command -v taskset >/dev/null 2>&1 || pin=()

# Busy and total jiffies of every core but the pinned one, to say how busy the rest of the
# machine was while measuring.
others_jiffies() {
  awk -v pinned="cpu$CPU" '/^cpu[0-9]/ && $1 != pinned {
    total += $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; busy += $2 + $3 + $4 + $7 + $8 + $9 }
    END { print busy + 0, total + 0 }' /proc/stat
}
step "load before measuring: $(uptime | sed 's/.*load average/load average/')"
ps -eo pcpu=,comm= --sort=-pcpu | awk '$1 > 20 { print "  busy: " $2 " (" $1 "% CPU)" }' | head -5 >&2
read -r busy0 total0 < <(others_jiffies)

# ROUNDS rounds, each running the three engines in turn, so that a change in the machine's load
# during the run falls on all three alike; each time is the fastest over the rounds (and over
# REPEAT runs within a round, which also leaves out first-run warm-up).
ort_runs="" tract_runs="" py_runs=""
for round in $(seq 1 "$ROUNDS"); do
  step "round $round/$ROUNDS: encore, ONNX Runtime backend (${#files[@]} files, $REPEAT runs each)"
  "${pin[@]}" "$BIN" run --backend onnxruntime --threads 1 --repeat "$REPEAT" \
    --out "$BENCH_DIR/encore-onnxruntime.$round.json" "${files[@]}"
  ort_runs+="$BENCH_DIR/encore-onnxruntime.$round.json,"

  step "round $round/$ROUNDS: encore, tract backend"
  "${pin[@]}" "$BIN" run --backend tract --repeat "$REPEAT" \
    --out "$BENCH_DIR/encore-tract.$round.json" "${files[@]}"
  tract_runs+="$BENCH_DIR/encore-tract.$round.json,"

  step "round $round/$ROUNDS: Python basic-pitch 0.4.0, ONNX Runtime backend"
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "${pin[@]}" "$VENV/bin/python" \
    scripts/bench/transcribe_py.py run --threads 1 --repeat "$REPEAT" \
    --out "$BENCH_DIR/python.$round.json" "${files[@]}"
  py_runs+="$BENCH_DIR/python.$round.json,"
done

read -r busy1 total1 < <(others_jiffies)
others_busy=$(( (busy1 - busy0) * 100 / (total1 - total0 > 0 ? total1 - total0 : 1) ))
step "load after measuring: $(uptime | sed 's/.*load average/load average/'); the other cores were ${others_busy}% busy meanwhile"
step "results"
echo
echo "Machine: $(getconf _NPROCESSORS_ONLN) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -n1), $(free -g | awk '/^Mem:/ { print $2 " GiB" }'); pinned to core $CPU, the others ${others_busy}% busy during the run; $(date -u +%Y-%m-%d) at $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (uncommitted changes)')."
echo
"$VENV/bin/python" scripts/bench/transcribe_py.py score \
  --python "$py_runs" \
  --encore "onnxruntime=$ort_runs" \
  --encore "tract=$tract_runs" \
  --json "$BENCH_DIR/scores.json" --details
echo
echo "Speed: seconds of audio per second of model and note tracking (wall clock), one thread, model load"
echo "and decoding excluded; ratio = Python's time / encore's time (goal >= 1.0), in wall-clock time and in"
echo "the computing thread's CPU time (which leaves out waits for a shared core). F1: mir_eval note"
echo "matching, same pitch, onset within 50 ms, offsets ignored, summed over each set's files (goal vs"
echo "Python >= 0.95)."
