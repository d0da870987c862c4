#!/usr/bin/env bash
# Installs what is missing on a fresh machine, builds encore, and starts the demo server on the
# embedded default (SQLite + local files under ./encore-data).
#   ./scripts/setup.sh            build and serve the demo on http://127.0.0.1:8080
#   ./scripts/setup.sh --no-serve build and load the demo, then exit
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

install_system_packages
fetch_basic_pitch_model
fetch_onnxruntime
step "building encore (release; the first build takes several minutes) and starting the demo"
exec cargo run --release --locked -p encore -- demo "$@"
