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
