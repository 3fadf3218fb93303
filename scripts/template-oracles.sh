#!/usr/bin/env bash
# Installs the Velocity implementations that gateway/tests/template_oracle.rs
# renders its corpus with, under the target directory:
#
#   <target>/template-oracles/venv           PyPI airspeed-ext (LocalStack's)
#   <target>/template-oracles/node_modules   npm velocityjs (serverless-offline's)
#
#   scripts/template-oracles.sh        installs (once; later runs reuse them)
#
# Needs python3 (with venv) and node + npm; uses PyPI and the npm registry on
# first use. <target> is $CARGO_TARGET_DIR, else <repo>/target, as cargo's.
set -euo pipefail

AIRSPEED_VERSION="0.6.9"
VELOCITYJS_VERSION="2.1.7"

# shellcheck source=scripts/moto-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/moto-env.sh"

log() { echo "template-oracles: $*" >&2; }
die() { echo "template-oracles: error: $*" >&2; exit 1; }

TARGET="$(MOTO_TARGET_DIR="${CARGO_TARGET_DIR:-}" _moto_target_dir)"
DIR="$TARGET/template-oracles"
mkdir -p "$DIR"

airspeed_ok() {
    [[ -x "$DIR/venv/bin/python" ]] && "$DIR/venv/bin/python" - "$AIRSPEED_VERSION" >/dev/null 2>&1 <<'PY'
import sys
import airspeed  # noqa: F401
from importlib.metadata import version
sys.exit(0 if version("airspeed-ext") == sys.argv[1] else 1)
PY
}

velocityjs_ok() {
    [[ -f "$DIR/node_modules/velocityjs/package.json" ]] &&
        node -e 'process.exit(require(process.argv[1]).version === process.argv[2] ? 0 : 1)' \
            "$DIR/node_modules/velocityjs/package.json" "$VELOCITYJS_VERSION" 2>/dev/null
}

install_airspeed() {
    airspeed_ok && return 0
    local python="${PYTHON:-python3}"
    command -v "$python" >/dev/null || die "$python not found (needed for airspeed-ext)"
    log "installing airspeed-ext==$AIRSPEED_VERSION into $DIR/venv"
    rm -rf "$DIR/venv"
    if ! "$python" -m venv "$DIR/venv" >/dev/null 2>&1; then
        rm -rf "$DIR/venv"
        "$python" -m venv --without-pip "$DIR/venv" || die "'$python -m venv' failed (Debian: apt-get install python3-venv)"
        _moto_bootstrap_pip "$python" "$DIR/venv" || die "could not install pip into $DIR/venv"
    fi
    "$DIR/venv/bin/python" -m pip install --disable-pip-version-check --no-input --quiet --timeout 60 \
        "airspeed-ext==$AIRSPEED_VERSION" || die "pip install airspeed-ext==$AIRSPEED_VERSION failed (is PyPI reachable?)"
    airspeed_ok || die "$DIR/venv does not import airspeed-ext $AIRSPEED_VERSION"
}

install_velocityjs() {
    velocityjs_ok && return 0
    command -v node >/dev/null || die "node not found (needed for velocityjs; Debian: apt-get install nodejs npm)"
    command -v npm >/dev/null || die "npm not found (Debian: apt-get install npm)"
    log "installing velocityjs@$VELOCITYJS_VERSION into $DIR/node_modules"
    [[ -f "$DIR/package.json" ]] || echo '{"name": "template-oracles", "private": true}' >"$DIR/package.json"
    npm install --prefix "$DIR" --no-audit --no-fund --no-save --silent "velocityjs@$VELOCITYJS_VERSION" ||
        die "npm install velocityjs@$VELOCITYJS_VERSION failed (is the npm registry reachable?)"
    velocityjs_ok || die "$DIR/node_modules has no velocityjs $VELOCITYJS_VERSION"
}

# Several checkouts may share a target directory: one installer at a time.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$DIR.lock"
    flock 9
fi
install_airspeed
install_velocityjs
log "ready in $DIR"
