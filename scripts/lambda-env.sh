#!/usr/bin/env bash
# Local Lambda emulator (`cargo lambda watch`, from PyPI's cargo-lambda
# package) serving the test function of gateway/tests/lambda-fn for the
# gateway's aws_proxy tests.
#
# Two ways to use it:
#   source scripts/lambda-env.sh; lambda_start; trap lambda_stop EXIT
#       (what scripts/test does; exports TOWER_COGNITO_LAMBDA_ENDPOINT)
#   scripts/lambda-env.sh run CMD [ARGS...]
#       starts the emulator, runs CMD with TOWER_COGNITO_LAMBDA_ENDPOINT set,
#       stops it, e.g.
#       `scripts/lambda-env.sh run cargo test -p tower-cognito-gateway --test lambda`
#
# Needs python3 (with venv) and cargo; the first use installs cargo-lambda
# (a prebuilt binary in a wheel) into target/lambda-venv and builds the test
# function (lambda_runtime, about 2 minutes once; the target directory is
# shared with the workspace's).
#
# Knobs (environment): PYTHON (default python3), LAMBDA_START_TIMEOUT
# (seconds, default 600: the first start compiles the function),
# LAMBDA_TARGET_DIR (default: $CARGO_TARGET_DIR or <repo>/target).

CARGO_LAMBDA_VERSION="1.9.2"
LAMBDA_FUNCTION="gateway-test-lambda"

_lambda_repo_root() {
    cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd
}

_lambda_target_dir() {
    local root dir
    root="$(_lambda_repo_root)"
    dir="${LAMBDA_TARGET_DIR:-${CARGO_TARGET_DIR:-$root/target}}"
    mkdir -p "$dir"
    (cd "$dir" && pwd)
}

_lambda_err() {
    echo "lambda-env: error: $*" >&2
}

_lambda_log() {
    echo "lambda-env: $*" >&2
}

_lambda_venv_ok() {
    local venv="$1"
    [[ -x "$venv/bin/cargo-lambda" && -x "$venv/bin/python" ]] || return 1
    "$venv/bin/python" - "$CARGO_LAMBDA_VERSION" >/dev/null 2>&1 <<'EOF'
import sys
from importlib.metadata import version
sys.exit(0 if version("cargo-lambda") == sys.argv[1] else 1)
EOF
}

# Creates (or reuses) target/lambda-venv with the pinned cargo-lambda; sets
# LAMBDA_VENV. Under a lock: the target directory may be shared.
lambda_setup() {
    local target
    target="$(_lambda_target_dir)" || return 1
    LAMBDA_VENV="$target/lambda-venv"
    if _lambda_venv_ok "$LAMBDA_VENV"; then
        return 0
    fi
    if command -v flock >/dev/null 2>&1; then
        (
            flock 9 || exit 1
            _lambda_setup_venv "$LAMBDA_VENV"
        ) 9>"$target/lambda-venv.lock"
    else
        _lambda_setup_venv "$LAMBDA_VENV"
    fi
}

_lambda_setup_venv() {
    local venv="$1" python
    python="${PYTHON:-python3}"
    if _lambda_venv_ok "$venv"; then
        return 0
    fi
    if ! command -v "$python" >/dev/null 2>&1; then
        _lambda_err "$python not found; the aws_proxy tests need Python 3 with the venv module"
        return 1
    fi
    _lambda_log "creating $venv (cargo-lambda==$CARGO_LAMBDA_VERSION from PyPI)"
    rm -rf "$venv"
    if ! "$python" -m venv "$venv" >/dev/null 2>&1; then
        _lambda_err "'$python -m venv' failed; install Python's venv module (Debian: apt-get install python3-venv)"
        rm -rf "$venv"
        return 1
    fi
    if ! "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --quiet \
        --timeout 60 "cargo-lambda==$CARGO_LAMBDA_VERSION"; then
        _lambda_err "pip install cargo-lambda==$CARGO_LAMBDA_VERSION failed (is PyPI reachable?)"
        return 1
    fi
    _lambda_venv_ok "$venv" || {
        _lambda_err "$venv was installed but has no cargo-lambda $CARGO_LAMBDA_VERSION"
        return 1
    }
}

_lambda_free_port() {
    "$LAMBDA_VENV/bin/python" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# True once the function answers an invoke (the emulator builds it first).
_lambda_ready() {
    "$LAMBDA_VENV/bin/python" - "$1" "$LAMBDA_FUNCTION" >/dev/null 2>&1 <<'EOF'
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
url = f"{sys.argv[1]}/2015-03-31/functions/{sys.argv[2]}/invocations"
req = urllib.request.Request(url, data=b'{"pathParameters":{"action":"echo"}}', method="POST")
with opener.open(req, timeout=5) as r:
    sys.exit(0 if r.status == 200 else 1)
EOF
}

_lambda_log_tail() {
    if [[ -n "${LAMBDA_LOG:-}" && -f "$LAMBDA_LOG" ]]; then
        echo "----- last lines of $LAMBDA_LOG -----" >&2
        tail -n 40 "$LAMBDA_LOG" >&2
        echo "-----" >&2
    fi
}

# Starts `cargo lambda watch` on a free 127.0.0.1 port and exports
# TOWER_COGNITO_LAMBDA_ENDPOINT. Sets LAMBDA_PID and LAMBDA_LOG. Pair with
# lambda_stop.
lambda_start() {
    lambda_setup || return 1
    local target root timeout port endpoint deadline
    target="$(_lambda_target_dir)" || return 1
    root="$(_lambda_repo_root)"
    timeout="${LAMBDA_START_TIMEOUT:-600}"
    LAMBDA_LOG="${LAMBDA_LOG:-$target/lambda-emulator.log}"
    port="$(_lambda_free_port)" || { _lambda_err "could not pick a free port"; return 1; }
    endpoint="http://127.0.0.1:$port"
    : >"$LAMBDA_LOG"
    # Its own process group, so lambda_stop ends the function it runs too.
    CARGO_TARGET_DIR="$target" setsid "$LAMBDA_VENV/bin/cargo-lambda" lambda watch \
        --manifest-path "$root/gateway/tests/lambda-fn/Cargo.toml" \
        --invoke-address 127.0.0.1 --invoke-port "$port" \
        --ignore-changes >>"$LAMBDA_LOG" 2>&1 &
    LAMBDA_PID=$!
    _lambda_log "cargo lambda watch (pid $LAMBDA_PID) at $endpoint: building the test function"
    deadline=$(($(date +%s) + timeout))
    while (($(date +%s) < deadline)); do
        if ! kill -0 "$LAMBDA_PID" 2>/dev/null; then
            _lambda_err "cargo lambda watch exited"
            LAMBDA_PID=""
            _lambda_log_tail
            return 1
        fi
        if _lambda_ready "$endpoint"; then
            export TOWER_COGNITO_LAMBDA_ENDPOINT="$endpoint"
            _lambda_log "function $LAMBDA_FUNCTION answers at $endpoint, log $LAMBDA_LOG"
            return 0
        fi
        sleep 1
    done
    _lambda_err "the function did not answer at $endpoint within ${timeout} s"
    lambda_stop
    _lambda_log_tail
    return 1
}

# Stops what lambda_start started: the emulator (which ends the function it
# runs on SIGTERM) and, should it not, the function processes it spawned (in
# process groups of their own). Safe to call twice or when nothing was started.
lambda_stop() {
    local pid="${LAMBDA_PID:-}" _ children child
    LAMBDA_PID=""
    [[ -n "$pid" ]] || return 0
    children="$(pgrep -P "$pid" 2>/dev/null || true)"
    if kill -0 "$pid" 2>/dev/null; then
        kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -9 -- "-$pid" 2>/dev/null || kill -9 "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
    for child in $children; do
        # Only if that id is still the function (ids are reused).
        if [[ "$(ps -o args= -p "$child" 2>/dev/null)" == *"$LAMBDA_FUNCTION"* ]]; then
            kill -9 "$child" 2>/dev/null || true
        fi
    done
    return 0
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    case "${1:-}" in
    setup)
        lambda_setup
        echo "$LAMBDA_VENV"
        ;;
    run)
        shift
        if (($# == 0)); then
            _lambda_err "usage: $0 run CMD [ARGS...]"
            exit 2
        fi
        trap lambda_stop EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
        lambda_start
        "$@"
        ;;
    *)
        echo "usage: $0 setup | run CMD [ARGS...]   (or source it: lambda_start / lambda_stop)" >&2
        exit 2
        ;;
    esac
fi
