# Shared by scripts/bench-wrk and scripts/soak: build and start the
# cognito-gateway binary in release, find its address, stop it. Source it.

target_dir="${CARGO_TARGET_DIR:-target}"
GATEWAY_BIN="$target_dir/release/cognito-gateway"
# The echo export: every operation answers with its route and claims.
GATEWAY_EXPORT="gateway/tests/fixtures/petstore-echo.json"
GATEWAY_PIDS=()

need_wrk() {
    if ! command -v wrk >/dev/null 2>&1; then
        if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
            echo "==> installing wrk (apt)" >&2
            apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
        else
            echo "wrk is required: install it (Debian/Ubuntu: apt-get install wrk)" >&2
            exit 2
        fi
    fi
}

build_gateway() {
    echo "==> cargo build --release -p tower-cognito-gateway" >&2
    cargo build --locked --release -p tower-cognito-gateway >&2
}

# start_gateway LOG [VAR=value...]: starts the gateway on a free loopback
# port and sets GATEWAY_URL and GATEWAY_PID.
start_gateway() {
    local log="$1"
    shift
    env -u OPENAPI_FILE GATEWAY_ADDR=127.0.0.1:0 GATEWAY_DEV_ISSUER=1 "$@" \
        "$GATEWAY_BIN" --openapi "$GATEWAY_EXPORT" >"$log" 2>&1 &
    GATEWAY_PID=$!
    GATEWAY_PIDS+=("$GATEWAY_PID")
    local i
    for ((i = 0; i < 600; i++)); do
        if GATEWAY_URL="$(grep -oE 'listening on http://[0-9.]+:[0-9]+' "$log" | sed 's/listening on //')" &&
            [[ -n "$GATEWAY_URL" ]]; then
            return 0
        fi
        if ! kill -0 "$GATEWAY_PID" 2>/dev/null; then
            echo "gateway exited early:" >&2
            cat "$log" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "gateway did not start within 60 s:" >&2
    cat "$log" >&2
    exit 1
}

stop_gateways() {
    local pid
    for pid in "${GATEWAY_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    GATEWAY_PIDS=()
}

# dev_token NAME LOG: the value of a NAME='...' line the dev issuer printed.
dev_token() {
    grep -oE "^$1='[^']+'" "$2" | head -1 | sed -E "s/^$1='(.*)'$/\1/"
}

# rss_kb PID: resident set size in KiB.
rss_kb() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}
