#!/usr/bin/env python3
"""Real traffic through cognito-gateway, its /metrics scraped every second,
and the Grafana dashboard's four panels (docs/grafana-dashboard.json) plotted
from the scraped series with matplotlib: the README's picture.

Grafana itself is not installable offline here, so each panel's PromQL is
computed in Python from the same samples: rate() over a 5 s window,
histogram_quantile() by linear interpolation within the bucket, as Prometheus
does.

The script is its own JWKS server (127.0.0.1, RSA key from `cryptography`),
mints the tokens, and makes the key endpoint fail for a while so the JWKS
failure panel has something to show. Run through scripts/dashboard-plot,
which installs the Python packages and builds the binary.

    dashboard-plot.py GATEWAY_BIN OUT.png [SECONDS]
"""
import base64
import http.client
import http.server
import json
import os
import random
import re
import subprocess
import sys
import threading
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

POOL = "us-east-1_PetStore1"
ISSUER = f"https://cognito-idp.us-east-1.amazonaws.com/{POOL}"
EXPORT = "gateway/tests/fixtures/petstore-echo.json"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Keys:
    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        nums = self.key.public_key().public_numbers()
        n = nums.n.to_bytes((nums.n.bit_length() + 7) // 8, "big")
        self.jwks = json.dumps({"keys": [{
            "kty": "RSA", "alg": "RS256", "use": "sig", "kid": "k1",
            "n": b64(n), "e": b64(nums.e.to_bytes(3, "big")),
        }]}).encode()

    def token(self, exp_in=3600, forged=False, sub=None):
        now = int(time.time())
        header = b64(json.dumps({"alg": "RS256", "kid": "k1"}).encode())
        claims = {
            "sub": sub or f"user-{random.randrange(10**9)}", "iss": ISSUER,
            "token_use": "id", "aud": "client1", "auth_time": now,
            "iat": now, "exp": now + exp_in, "cognito:username": "plot",
        }
        payload = b64(json.dumps(claims).encode())
        signer = self.other if forged else self.key
        sig = signer.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{header}.{payload}.{b64(sig)}"


class JwksHandler(http.server.BaseHTTPRequestHandler):
    keys = None
    failing = threading.Event()

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.failing.is_set():
            self.send_response(500)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        body = self.keys.jwks
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def start_gateway(binary, jwks_base):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "COGNITO_"))}
    env.update({
        "GATEWAY_ADDR": "127.0.0.1:0", "GATEWAY_ADMIN_ADDR": "127.0.0.1:0",
        "OPENAPI_FILE": EXPORT, "COGNITO_JWKS_ENDPOINT": jwks_base,
        "GATEWAY_KEY_REFRESH_SECS": "3", "GATEWAY_TOKEN_CACHE": "200",
    })
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, text=True)
    public = admin = None
    deadline = time.time() + 60
    while time.time() < deadline and not public:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("the gateway exited during startup")
        if m := re.match(r"admin: listening on http://([\d.]+:\d+)", line):
            admin = m.group(1)
        if m := re.match(r"listening on http://([\d.]+:\d+)", line):
            public = m.group(1)
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    return proc, public, admin


def drive(public, keys, stop, counts):
    """One client on one keep-alive connection: a fixed mix of requests."""
    cached = [keys.token(sub=f"cached-{i}") for i in range(40)]
    expired = keys.token(exp_in=-60)
    forged = keys.token(forged=True)
    host, port = public.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    while not stop.is_set():
        r = random.random()
        if r < 0.70:
            token = random.choice(cached)
        elif r < 0.80:
            token = keys.token()  # never seen: a cache miss and an RSA verification
        elif r < 0.88:
            token = expired
        elif r < 0.94:
            token = forged
        else:
            token = None
        headers = {"authorization": f"Bearer {token}"} if token else {}
        try:
            conn.request("GET", f"/pets/{random.randrange(100)}", headers=headers)
            conn.getresponse().read()
            counts[0] += 1
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
        time.sleep(0.002)


SAMPLE = re.compile(r'^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def scrape(admin):
    host, port = admin.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    out = {}
    for line in text.splitlines():
        if m := SAMPLE.match(line):
            labels = tuple(sorted(LABEL.findall(m.group(2) or "")))
            out[(m.group(1), labels)] = float(m.group(3))
    return out


def total(sample, name, **match):
    return sum(v for (n, labels), v in sample.items()
               if n == name and all((k, val) in labels for k, val in match.items()))


def quantile(q, buckets):
    """histogram_quantile over [(le, cumulative count)], as Prometheus computes it."""
    buckets = sorted(buckets)
    count = buckets[-1][1] if buckets else 0
    if count <= 0:
        return None
    rank = q * count
    prev_le, prev_c = 0.0, 0.0
    for le, c in buckets:
        if c >= rank:
            if le == float("inf"):
                return prev_le
            return prev_le + (le - prev_le) * (rank - prev_c) / max(c - prev_c, 1e-12)
        prev_le, prev_c = le, c
    return prev_le


def main():
    binary, out = sys.argv[1], sys.argv[2]
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 90
    keys = Keys()
    JwksHandler.keys = keys
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), JwksHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    proc, public, admin = start_gateway(binary, f"http://127.0.0.1:{server.server_port}")
    stop = threading.Event()
    counts = [0]
    clients = [threading.Thread(target=drive, args=(public, keys, stop, counts)) for _ in range(4)]
    for c in clients:
        c.start()
    samples = []
    start = time.time()
    try:
        while (t := time.time() - start) < seconds:
            # The key endpoint fails through the middle third of the run.
            if seconds / 3 <= t < 2 * seconds / 3:
                JwksHandler.failing.set()
            else:
                JwksHandler.failing.clear()
            samples.append((t, scrape(admin)))
            time.sleep(1)
    finally:
        stop.set()
        for c in clients:
            c.join()
        proc.terminate()
        proc.wait()
        server.shutdown()
    plot(samples, out, seconds, counts[0])


def plot(samples, out, seconds, sent):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    window = 5
    times, by_reason, p50, p99, failures, hit_ratio = [], {}, [], [], [], []
    reasons = sorted({dict(l)["outcome"] + ("" if dict(l)["reason"] == "none" else f" ({dict(l)['reason']})")
                      for (n, l) in samples[-1][1] if n == "tower_cognito_requests_total"
                      and samples[-1][1][(n, l)] > 0})
    for i in range(window, len(samples)):
        (t0, a), (t1, b) = samples[i - window], samples[i]
        dt = t1 - t0
        times.append(t1)
        for key in reasons:
            outcome, _, reason = key.partition(" (")
            reason = reason.rstrip(")") or "none"
            rate = (total(b, "tower_cognito_requests_total", outcome=outcome, reason=reason)
                    - total(a, "tower_cognito_requests_total", outcome=outcome, reason=reason)) / dt
            by_reason.setdefault(key, []).append(rate)
        les = {dict(l)["le"] for (n, l) in b if n == "http_server_request_duration_seconds_bucket"}
        buckets = [(float(le), total(b, "http_server_request_duration_seconds_bucket", le=le)
                    - total(a, "http_server_request_duration_seconds_bucket", le=le)) for le in les]
        p50.append((quantile(0.5, buckets) or 0) * 1000)
        p99.append((quantile(0.99, buckets) or 0) * 1000)
        failures.append(total(b, "tower_cognito_jwks_fetches_total", result="failure")
                        - total(a, "tower_cognito_jwks_fetches_total", result="failure"))
        hits = total(b, "tower_cognito_token_cache_hits_total") - total(a, "tower_cognito_token_cache_hits_total")
        misses = total(b, "tower_cognito_token_cache_misses_total") - total(a, "tower_cognito_token_cache_misses_total")
        hit_ratio.append(hits / (hits + misses) if hits + misses else 0)

    fig, axes = plt.subplots(2, 2, figsize=(13, 7.5))
    fig.suptitle("tower-cognito gateway: requests by outcome and reason, latency, JWKS failures, "
                 f"cache hit ratio ({sent} requests, {seconds} s, scraped every second)", fontsize=11)
    ax = axes[0][0]
    ax.stackplot(times, *[by_reason[k] for k in reasons], labels=reasons)
    ax.set_title("requests/s by outcome and reason")
    ax.legend(loc="lower left", fontsize=8)
    ax = axes[0][1]
    ax.plot(times, p50, label="p50")
    ax.plot(times, p99, label="p99")
    ax.set_title("request duration (ms), http_server_request_duration_seconds")
    ax.legend(fontsize=8)
    ax = axes[1][0]
    ax.bar(times, failures, width=0.9, color="tab:red")
    ax.axvspan(seconds / 3, 2 * seconds / 3, color="tab:red", alpha=0.08, label="key endpoint answering 500")
    ax.set_title("JWKS fetch failures (per 5 s)")
    ax.legend(fontsize=8)
    ax = axes[1][1]
    ax.plot(times, hit_ratio, color="tab:green")
    ax.set_ylim(0, 1)
    ax.set_title("token cache hit ratio")
    for row in axes:
        for ax in row:
            ax.set_xlabel("seconds")
            ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=80)
    print(f"{out}: {len(samples)} scrapes, {sent} requests")


if __name__ == "__main__":
    main()
