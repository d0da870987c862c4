# Shared by setup.sh and test.sh.

step() { printf '\n==> %s\n' "$*" >&2; }

# Debian packages encore needs: the General MIDI SoundFont the demo renders with, and a C
# toolchain for the few crates that build C or C++ (SQLite, libvorbis, Signalsmith Stretch).
install_system_packages() {
  local missing=()
  [ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || missing+=(fluid-soundfont-gm)
  command -v cc >/dev/null 2>&1 || missing+=(build-essential)
  # The time-stretch library (ssstretch, C++ through cxx) needs a C++ compiler too.
  command -v c++ >/dev/null 2>&1 || missing+=(g++)
  command -v pg_isready >/dev/null 2>&1 || missing+=(postgresql-client)
  # sox cross-checks the engine's written audio in crates/encore-engine/tests/audio.rs.
  command -v sox >/dev/null 2>&1 || missing+=(sox)
  # pip fetches the Basic Pitch model (fetch_basic_pitch_model).
  python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
  if [ "${#missing[@]}" -gt 0 ]; then
    step "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo is missing: install Rust (rustup) first" >&2
    exit 1
  fi
}

# PostgreSQL for the second store: start the local cluster if it is down.
ensure_postgres() {
  if [ -n "${ENCORE_TEST_POSTGRES_URL:-}" ] && [[ "$ENCORE_TEST_POSTGRES_URL" != *127.0.0.1* ]]; then
    return 0
  fi
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    step "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    for _ in $(seq 1 30); do
      pg_isready -q -h 127.0.0.1 -p 5432 && break
      sleep 1
    done
  fi
  pg_isready -h 127.0.0.1 -p 5432
}

# Spotify's Basic Pitch model (Apache-2.0), which the cover generator transcribes with: the
# ONNX file inside the basic-pitch wheel on PyPI, checked against this digest and kept out of
# the repository. encore finds it at $ENCORE_BASIC_PITCH_MODEL, else
# ${ENCORE_MODELS_DIR:-$HOME/.cache/encore/models}/basic-pitch-0.4.0/nmp.onnx.
BASIC_PITCH_VERSION=0.4.0
BASIC_PITCH_MODEL_SHA256=2c3c1d144bfa61ad236e92e169c13535c880469a12a047d4e73451f2c059a0ec

fetch_basic_pitch_model() {
  local dest="${ENCORE_BASIC_PITCH_MODEL:-${ENCORE_MODELS_DIR:-$HOME/.cache/encore/models}/basic-pitch-$BASIC_PITCH_VERSION/nmp.onnx}"
  export ENCORE_BASIC_PITCH_MODEL="$dest"
  if [ -f "$dest" ] && [ "$(sha256sum "$dest" | cut -d' ' -f1)" = "$BASIC_PITCH_MODEL_SHA256" ]; then
    return 0
  fi
  step "fetching the Basic Pitch model (basic-pitch $BASIC_PITCH_VERSION from PyPI) into $dest"
  local tmp
  tmp="$(mktemp -d)"
  python3 -m pip download --quiet --no-deps --no-cache-dir --disable-pip-version-check \
    "basic-pitch==$BASIC_PITCH_VERSION" -d "$tmp"
  mkdir -p "$(dirname "$dest")"
  python3 - "$tmp" "$dest.part" <<'PY'
import glob, shutil, sys, zipfile
wheel, = glob.glob(sys.argv[1] + "/basic_pitch-*.whl")
with zipfile.ZipFile(wheel) as z, z.open("basic_pitch/saved_models/icassp_2022/nmp.onnx") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  rm -rf "$tmp"
  local got
  got="$(sha256sum "$dest.part" | cut -d' ' -f1)"
  if [ "$got" != "$BASIC_PITCH_MODEL_SHA256" ]; then
    rm -f "$dest.part"
    echo "the Basic Pitch model has SHA-256 $got, expected $BASIC_PITCH_MODEL_SHA256: refusing it" >&2
    exit 1
  fi
  mv "$dest.part" "$dest"
}

# ONNX Runtime (MIT), which runs the Basic Pitch model about 2.4 times faster than the built-in
# tract: libonnxruntime.so from the onnxruntime wheel on PyPI (the same wheel for any local Python,
# checked against this digest), loaded by encore at run time and kept out of the repository. The
# version is the one whose C API the `ort` crate in Cargo.toml speaks. encore finds it at
# $ENCORE_ONNXRUNTIME_LIB, else $ORT_DYLIB_PATH, else
# $HOME/.cache/encore/lib/libonnxruntime.so.$ONNXRUNTIME_VERSION; without it encore uses tract.
ONNXRUNTIME_VERSION=1.22.1
ONNXRUNTIME_WHEEL=onnxruntime-1.22.1-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl
ONNXRUNTIME_WHEEL_SHA256=f6effa1299ac549a05c784d50292e3378dbbf010346ded67400193b09ddc2f04
# libonnxruntime.so.1.22.1 inside that wheel.
ONNXRUNTIME_LIB_SHA256=ad9665887025474170d3e71cd28021e7e811c5bf201bc365f953e34a2c4989cc

fetch_onnxruntime() {
  local dest="${ENCORE_ONNXRUNTIME_LIB:-$HOME/.cache/encore/lib/libonnxruntime.so.$ONNXRUNTIME_VERSION}"
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    step "no ONNX Runtime wheel is fetched for $(uname -s)-$(uname -m): transcription uses tract"
    return 0
  fi
  export ENCORE_ONNXRUNTIME_LIB="$dest"
  if [ -f "$dest" ] && [ "$(sha256sum "$dest" | cut -d' ' -f1)" = "$ONNXRUNTIME_LIB_SHA256" ]; then
    return 0
  fi
  step "fetching ONNX Runtime $ONNXRUNTIME_VERSION (the onnxruntime wheel from PyPI) into $dest"
  local tmp
  tmp="$(mktemp -d)"
  python3 -m pip download --quiet --no-deps --no-cache-dir --disable-pip-version-check \
    --only-binary=:all: --python-version 3.11 --platform manylinux_2_27_x86_64 \
    "onnxruntime==$ONNXRUNTIME_VERSION" -d "$tmp"
  local wheel="$tmp/$ONNXRUNTIME_WHEEL" got
  if [ ! -f "$wheel" ]; then
    rm -rf "$tmp"
    echo "pip did not download $ONNXRUNTIME_WHEEL" >&2
    exit 1
  fi
  got="$(sha256sum "$wheel" | cut -d' ' -f1)"
  if [ "$got" != "$ONNXRUNTIME_WHEEL_SHA256" ]; then
    rm -rf "$tmp"
    echo "$ONNXRUNTIME_WHEEL has SHA-256 $got, expected $ONNXRUNTIME_WHEEL_SHA256: refusing it" >&2
    exit 1
  fi
  mkdir -p "$(dirname "$dest")"
  python3 - "$wheel" "onnxruntime/capi/libonnxruntime.so.$ONNXRUNTIME_VERSION" "$dest.part" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  rm -rf "$tmp"
  got="$(sha256sum "$dest.part" | cut -d' ' -f1)"
  if [ "$got" != "$ONNXRUNTIME_LIB_SHA256" ]; then
    rm -f "$dest.part"
    echo "libonnxruntime.so.$ONNXRUNTIME_VERSION has SHA-256 $got, expected $ONNXRUNTIME_LIB_SHA256: refusing it" >&2
    exit 1
  fi
  mv "$dest.part" "$dest"
}
