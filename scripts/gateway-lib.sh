# Shared by scripts/bench-wrk and scripts/soak: build and start the
# cognito-gateway binary in release, find its address, stop it. Source it.

target_dir="${CARGO_TARGET_DIR:-target}"
GATEWAY_BIN="$target_dir/release/cognito-gateway"
# The echo export: every operation answers with its route and claims.
GATEWAY_EXPORT="${GATEWAY_EXPORT:-gateway/tests/fixtures/petstore-echo.json}"
GATEWAY_PIDS=()

need_wrk() {
    need_package wrk wrk
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
        if GATEWAY_URL="$(grep -oE '^listening on http://[0-9.]+:[0-9]+' "$log" | sed 's/listening on //')" &&
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

# admin_url LOG: the admin listener's base URL from the gateway's startup log.
admin_url() {
    grep -oE '^admin: listening on http://[0-9.]+:[0-9]+' "$1" | sed 's/admin: listening on //'
}

# stop_pids ARRAY: stops and reaps the processes whose ids the array named
# ARRAY holds, then empties it.
stop_pids() {
    local -n pids="$1"
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    pids=()
}

stop_gateways() {
    stop_pids GATEWAY_PIDS
}

# dev_token NAME LOG: the value of a NAME='...' line the dev issuer printed.
dev_token() {
    grep -oE "^$1='[^']+'" "$2" | head -1 | sed -E "s/^$1='(.*)'$/\1/"
}

# need_package COMMAND PACKAGE [WHAT]: COMMAND on the PATH, installed with
# apt when running as root, else a message saying how to get it.
need_package() {
    local command="$1" package="$2" what="${3:-$1}"
    if ! command -v "$command" >/dev/null 2>&1; then
        if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
            echo "==> installing $package (apt)" >&2
            apt-get update -qq >/dev/null && apt-get install -y -qq "$package" >/dev/null
        else
            echo "$what is required: install it (Debian/Ubuntu: apt-get install $package)" >&2
            exit 2
        fi
    fi
}

need_nginx() {
    need_package nginx nginx
}

# wait_port PORT NAME LOG: until something listens on 127.0.0.1:PORT (10 s),
# else NAME's LOG and exit.
wait_port() {
    local port="$1" name="$2" log="$3" i
    for ((i = 0; i < 100; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "$name did not start on $port:" >&2
    cat "$log" >&2
    exit 1
}

NGINX_PIDS=()

# start_nginx DIR PORT BODY: nginx in the foreground under DIR, NGINX_WORKERS
# workers (default 1), on 127.0.0.1:PORT; BODY is the server block's
# location content.
start_nginx() {
    local dir="$1" port="$2" body="$3"
    mkdir -p "$dir"
    cat >"$dir/nginx.conf" <<CONF
worker_processes ${NGINX_WORKERS:-1};
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    keepalive_requests 1000000;
    upstream backend { server 127.0.0.1:${BACKEND_PORT:-1}; keepalive 64; }
    server {
        listen 127.0.0.1:$port;
        location / { $body }
    }
}
CONF
    nginx -p "$dir" -c "$dir/nginx.conf" &
    NGINX_PIDS+=("$!")
    wait_port "$port" nginx "$dir/error.log"
}

stop_nginx() {
    stop_pids NGINX_PIDS
}

# free_port: a free loopback port.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# rss_kb PID: resident set size in KiB.
rss_kb() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

need_haproxy() {
    need_package haproxy haproxy "haproxy (2.5 or later, for jwt_verify)"
}

HAPROXY_PIDS=()

# start_haproxy_jwt DIR PORT JWKS_URL KID ISS: HAProxy with one thread on
# 127.0.0.1:PORT checking each request's Authorization header as the
# authorizer does, with its own converters: RS256 against the key KID of
# JWKS_URL (converted to PEM once, at startup), `iss` equal to ISS,
# `token_use` `id`, `exp` not past; then answering `{}` itself (the
# gateway's echo in empty mode), 401 otherwise.
start_haproxy_jwt() {
    local dir="$1" port="$2" jwks="$3" kid="$4" iss="$5"
    mkdir -p "$dir"
    python3 scripts/jwk-to-pem.py "$jwks" "$kid" >"$dir/key.pem"
    cat >"$dir/haproxy.cfg" <<CONF
global
    nbthread 1
defaults
    mode http
    timeout client 10s
    timeout connect 5s
    timeout server 10s
frontend jwt
    bind 127.0.0.1:$port
    http-request set-var(txn.token) req.hdr(authorization)
    http-request set-var(txn.alg) var(txn.token),jwt_header_query('\$.alg')
    http-request set-var(txn.iss) var(txn.token),jwt_payload_query('\$.iss')
    http-request set-var(txn.use) var(txn.token),jwt_payload_query('\$.token_use')
    http-request set-var(txn.exp) var(txn.token),jwt_payload_query('\$.exp','int')
    http-request set-var(txn.now) date()
    http-request return status 401 content-type application/json string '{"message":"Unauthorized"}' unless { var(txn.alg) -m str RS256 } { var(txn.iss) -m str $iss } { var(txn.use) -m str id }
    http-request return status 401 content-type application/json string '{"message":"The incoming token has expired"}' if { var(txn.exp),sub(txn.now) -m int lt 0 }
    http-request return status 401 content-type application/json string '{"message":"Unauthorized"}' unless { var(txn.token),jwt_verify(txn.alg,"$dir/key.pem") -m int 1 }
    http-request return status 200 content-type application/json string '{}'
CONF
    haproxy -f "$dir/haproxy.cfg" >"$dir/haproxy.log" 2>&1 &
    HAPROXY_PIDS+=("$!")
    wait_port "$port" haproxy "$dir/haproxy.log"
}

stop_haproxy() {
    stop_pids HAPROXY_PIDS
}
