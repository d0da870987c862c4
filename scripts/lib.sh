# Shared by setup.sh and test.sh.

step() { printf '\n==> %s\n' "$*" >&2; }

# Debian packages encore needs: the General MIDI SoundFont the demo renders with, and a C
# toolchain for the few crates that build C (SQLite).
install_system_packages() {
  local missing=()
  [ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || missing+=(fluid-soundfont-gm)
  command -v cc >/dev/null 2>&1 || missing+=(build-essential)
  command -v pg_isready >/dev/null 2>&1 || missing+=(postgresql-client)
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
