#!/usr/bin/env bash
# Local Cognito emulator (moto_server) for the interop tests.
#
# Two ways to use it:
#   source scripts/moto-env.sh; moto_start; trap moto_stop EXIT
#       (what scripts/test does; exports TOWER_COGNITO_MOTO_ENDPOINT)
#   scripts/moto-env.sh run CMD [ARGS...]
#       starts moto, runs CMD with TOWER_COGNITO_MOTO_ENDPOINT set, stops moto,
#       e.g. `scripts/moto-env.sh run cargo test --test interop`
#
# Needs only python3 (3.9+) and access to PyPI on first use. The venv lives in
# target/moto-venv and is reused while it imports the pinned versions.
#
# Knobs (environment): PYTHON (default python3), MOTO_START_TIMEOUT (seconds,
# default 30), MOTO_TARGET_DIR (default: $CARGO_TARGET_DIR or <repo>/target).

# Pinned so every machine emulates the same Cognito (token claims, JWKS).
# Bump together with scripts/moto-constraints.txt (transitive pins).
MOTO_VERSION="5.2.5"
BOTO3_VERSION="1.44.8"

_moto_repo_root() {
    cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd
}

_moto_target_dir() {
    local root dir
    root="$(_moto_repo_root)"
    dir="${MOTO_TARGET_DIR:-${CARGO_TARGET_DIR:-$root/target}}"
    # cargo resolves a relative CARGO_TARGET_DIR against the cwd; so do we.
    mkdir -p "$dir"
    (cd "$dir" && pwd)
}

_moto_err() {
    echo "moto-env: error: $*" >&2
}

_moto_log() {
    echo "moto-env: $*" >&2
}

# True when the venv imports exactly the pinned versions (a half-finished
# install fails this and is rebuilt).
_moto_venv_ok() {
    local venv="$1"
    [[ -x "$venv/bin/python" && -x "$venv/bin/moto_server" ]] || return 1
    "$venv/bin/python" - "$MOTO_VERSION" "$BOTO3_VERSION" >/dev/null 2>&1 <<'EOF'
import sys
import boto3, flask, flask_cors, joserfc, moto  # noqa: F401  (what moto_server + cognito need)
from importlib.metadata import version
sys.exit(0 if (version("moto"), version("boto3")) == (sys.argv[1], sys.argv[2]) else 1)
EOF
}

# Installs pip into a venv created with --without-pip (Debian's python3
# without python3-venv has no ensurepip). Uses the host's pip if there is one,
# else the pip wheel from PyPI, run straight from the wheel file.
_moto_bootstrap_pip() {
    local python="$1" venv="$2"
    if "$python" -m pip --version >/dev/null 2>&1; then
        _moto_log "no ensurepip; installing pip into the venv with the host's pip"
        "$python" -m pip --disable-pip-version-check --no-input --python "$venv/bin/python" \
            install --quiet --timeout 60 pip && return 0
    fi
    _moto_log "no ensurepip; bootstrapping pip from its PyPI wheel"
    local wheel_dir
    wheel_dir="$(mktemp -d)"
    "$venv/bin/python" - "$wheel_dir" <<'EOF' || { rm -rf "$wheel_dir"; return 1; }
import json, sys, urllib.parse, urllib.request
with urllib.request.urlopen("https://pypi.org/pypi/pip/json", timeout=60) as r:
    base, files = r.geturl(), json.load(r)["urls"]
wheel = next(f for f in files if f["packagetype"] == "bdist_wheel")
dest = f"{sys.argv[1]}/{wheel['filename']}"
# Some mirrors answer with relative file URLs.
url = urllib.parse.urljoin(base, wheel["url"])
with urllib.request.urlopen(url, timeout=120) as r, open(dest, "wb") as out:
    out.write(r.read())
EOF
    local wheel
    wheel="$(ls "$wheel_dir"/pip-*.whl)"
    "$venv/bin/python" "$wheel/pip" install --quiet --no-index "$wheel"
    local rc=$?
    rm -rf "$wheel_dir"
    return "$rc"
}

# Creates (or reuses) target/moto-venv with the pinned moto and boto3.
# Sets MOTO_VENV. Runs under a lock where flock(1) exists, since a target
# directory may be shared by several checkouts (CARGO_TARGET_DIR) whose
# first runs would otherwise rebuild the same venv at once.
moto_setup() {
    local target
    target="$(_moto_target_dir)" || return 1
    MOTO_VENV="$target/moto-venv"
    if _moto_venv_ok "$MOTO_VENV"; then
        return 0
    fi
    if command -v flock >/dev/null 2>&1; then
        (
            flock 9 || exit 1
            _moto_setup_venv "$MOTO_VENV"
        ) 9>"$target/moto-venv.lock"
    else
        _moto_setup_venv "$MOTO_VENV"
    fi
}

_moto_setup_venv() {
    local venv="$1" python started
    python="${PYTHON:-python3}"
    # Another run may have built it while we waited for the lock.
    if _moto_venv_ok "$venv"; then
        return 0
    fi
    if ! command -v "$python" >/dev/null 2>&1; then
        _moto_err "$python not found; the interop tests need Python 3.9+ with the venv module"
        return 1
    fi
    started="$(date +%s)"
    _moto_log "creating $venv (moto[server]==$MOTO_VERSION, boto3==$BOTO3_VERSION); takes ~40 s once"
    rm -rf "$venv"
    if ! "$python" -m venv "$venv" >/dev/null 2>&1; then
        rm -rf "$venv"
        if ! "$python" -m venv --without-pip "$venv"; then
            _moto_err "'$python -m venv' failed; install Python's venv module (Debian: apt-get install python3-venv)"
            return 1
        fi
        if ! _moto_bootstrap_pip "$python" "$venv"; then
            _moto_err "could not install pip into $venv"
            return 1
        fi
    fi
    if ! "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --quiet --timeout 60 \
        --constraint "$(_moto_repo_root)/scripts/moto-constraints.txt" \
        "moto[server]==$MOTO_VERSION" "boto3==$BOTO3_VERSION"; then
        _moto_err "pip install of moto[server]==$MOTO_VERSION failed (is PyPI reachable?)"
        return 1
    fi
    if ! _moto_venv_ok "$venv"; then
        _moto_err "$venv was installed but does not import moto $MOTO_VERSION / boto3 $BOTO3_VERSION"
        return 1
    fi
    _moto_log "venv ready in $(($(date +%s) - started)) s"
}

_moto_free_port() {
    "$MOTO_VENV/bin/python" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# Answers once moto serves a JWKS (any pool id works there); 1 s per try.
_moto_ready() {
    "$MOTO_VENV/bin/python" - "$1" >/dev/null 2>&1 <<'EOF'
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
with opener.open(sys.argv[1] + "/us-east-1_ready/.well-known/jwks.json", timeout=1) as r:
    sys.exit(0 if r.status == 200 else 1)
EOF
}

_moto_log_tail() {
    if [[ -n "${MOTO_LOG:-}" && -f "$MOTO_LOG" ]]; then
        echo "----- last lines of $MOTO_LOG -----" >&2
        tail -n 40 "$MOTO_LOG" >&2
        echo "-----" >&2
    fi
}

# Starts moto_server on a free 127.0.0.1 port and exports
# TOWER_COGNITO_MOTO_ENDPOINT. Sets MOTO_PID and MOTO_LOG (the server's log;
# set MOTO_LOG beforehand to choose the file, default target/moto-server.log).
# Pair with moto_stop.
moto_start() {
    moto_setup || return 1
    local target timeout attempt port endpoint deadline
    target="$(_moto_target_dir)" || return 1
    timeout="${MOTO_START_TIMEOUT:-30}"
    MOTO_LOG="${MOTO_LOG:-$target/moto-server.log}"
    # The port is free when picked but could be taken before moto binds it;
    # a few attempts cover that race.
    for attempt in 1 2 3; do
        port="$(_moto_free_port)" || { _moto_err "could not pick a free port"; return 1; }
        endpoint="http://127.0.0.1:$port"
        : >"$MOTO_LOG"
        "$MOTO_VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >>"$MOTO_LOG" 2>&1 &
        MOTO_PID=$!
        deadline=$(($(date +%s) + timeout))
        while (($(date +%s) < deadline)); do
            if ! kill -0 "$MOTO_PID" 2>/dev/null; then
                break
            fi
            if _moto_ready "$endpoint"; then
                export TOWER_COGNITO_MOTO_ENDPOINT="$endpoint"
                _moto_log "moto_server $MOTO_VERSION (pid $MOTO_PID) at $endpoint, log $MOTO_LOG"
                return 0
            fi
            sleep 0.2
        done
        if kill -0 "$MOTO_PID" 2>/dev/null; then
            _moto_err "moto_server did not answer at $endpoint within ${timeout} s"
            moto_stop
            _moto_log_tail
            return 1
        fi
        wait "$MOTO_PID" 2>/dev/null || true
        MOTO_PID=""
        _moto_log "moto_server exited early (attempt $attempt, port $port)"
    done
    _moto_err "moto_server failed to start"
    _moto_log_tail
    return 1
}

# Stops the server started by moto_start; safe to call twice or when nothing
# was started (it is meant for `trap moto_stop EXIT`).
moto_stop() {
    local pid="${MOTO_PID:-}" _
    MOTO_PID=""
    [[ -n "$pid" ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -9 "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
    return 0
}

# Run as a program: `scripts/moto-env.sh run CMD...` or `scripts/moto-env.sh setup`.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    case "${1:-}" in
    setup)
        moto_setup
        echo "$MOTO_VENV"
        ;;
    run)
        shift
        if (($# == 0)); then
            _moto_err "usage: $0 run CMD [ARGS...]"
            exit 2
        fi
        trap moto_stop EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
        moto_start
        "$@"
        ;;
    *)
        echo "usage: $0 setup | run CMD [ARGS...]   (or source it: moto_start / moto_stop)" >&2
        exit 2
        ;;
    esac
fi
