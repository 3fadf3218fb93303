#!/usr/bin/env python3
"""Prints the ratios of one criterion run against the targets.

Reads the median of each benchmark from target/criterion/<group>/<name>/new/
estimates.json (all written by the same `cargo bench` run) and exits 1 if a
target is missed, so `scripts/bench` says plainly whether they hold.
"""
import json
import os
import sys

root = os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "criterion")


def median_ns(group, name):
    # criterion writes "a/b" benchmark names as directory "a_b".
    path = os.path.join(root, group, name.replace("/", "_"), "new", "estimates.json")
    with open(path) as f:
        return json.load(f)["median"]["point_estimate"]


def fmt(ns):
    return f"{ns / 1000:.3f} µs" if ns >= 1000 else f"{ns:.0f} ns"


rows = []
failed = False


def check(label, value, limit, kind, shown):
    global failed
    ok = value <= limit if kind == "max" else value >= limit
    failed |= not ok
    sign = "≤" if kind == "max" else "≥"
    rows.append((label, shown, f"{sign} {limit:g}", "ok" if ok else "MISSED"))


names = ["floor_rsa_verify", "jsonwebtoken_decode", "layer_uncached", "layer_first_sight", "layer_cached", "no_layer"]
t = {name: median_ns("verify", name) for name in names}
for name in names:
    rows.append((f"median {name}", fmt(t[name]), "", ""))
# The floor and the uncached layer are measured back to back in three rounds
# spread over the run; the median of the three ratios is the one checked.
rounds = [
    median_ns("verify", f"layer_uncached{s}") / median_ns("verify", f"floor_rsa_verify{s}")
    for s in ["", "_round2", "_round3"]
]
r = sorted(rounds)[1]
shown = ", ".join(f"{x:.3f}" for x in rounds)
check("uncached layer / RSA floor (median of 3 rounds)", r, 1.15, "max", f"{r:.3f} ({shown})")
r = t["layer_first_sight"] / t["floor_rsa_verify"]
rows.append(("first sight with cache on / RSA floor", f"{r:.3f}", "", "(info)"))
r = t["layer_uncached"] / t["jsonwebtoken_decode"]
check("uncached layer / jsonwebtoken::decode", r, 0.85, "max", f"{r:.3f}")
r = t["layer_cached"] / t["layer_uncached"]
check("cached / uncached", r, 0.02, "max", f"{r:.4f} ({fmt(t['layer_cached'])}, {t['layer_uncached'] / t['layer_cached']:.0f}x faster)")
# Rejections against the floor of the same run: ratios, not absolute times.
for name in ["missing_header", "garbage", "expired", "unknown_kid_rate_limited"]:
    ns = median_ns("reject", name)
    r = ns / t["floor_rsa_verify"]
    check(f"rejection {name} / RSA floor", r, 0.15, "max", f"{r:.3f} ({fmt(ns)})")
for group, small, large in [
    ("scale", "pools_1", "pools_50"),
    ("scale", "keys_2", "keys_100"),
    ("routes", "public_call/1", "public_call/10000"),
]:
    a = median_ns(group, small)
    b = median_ns(group, large)
    check(f"{large} / {small}", b / a, 1.2, "max", f"{b / a:.3f} ({fmt(b)} vs {fmt(a)})")
# A lookup among 10,000 routes against a cached-token call, both measured in
# the routes bench.
a = median_ns("routes", "cached_call")
b = median_ns("routes", "lookup/10000")
check("lookup/10000 / cached_call", b / a, 0.5, "max", f"{b / a:.3f} ({fmt(b)} vs {fmt(a)})")
b1 = median_ns("routes", "lookup/1")
rows.append(("lookup/10000 / lookup/1", f"{b / b1:.3f} ({fmt(b)} vs {fmt(b1)})", "", "(info)"))

# Feature `metrics`: Prometheus's recorder against none on the cached path,
# three rounds back to back, the median ratio checked.
rounds = [
    median_ns("metrics", f"cached_prometheus{s}") / median_ns("metrics", f"cached_no_recorder{s}")
    for s in ["", "_round2", "_round3"]
]
r = sorted(rounds)[1]
shown = ", ".join(f"{x:.3f}" for x in rounds)
check("cached with Prometheus recorder / without (median of 3 rounds)", r, 1.1, "max", f"{r:.3f} ({shown})")
ns = median_ns("metrics", "two_noop_increments")
rows.append(("a cached request's metric calls, no recorder", fmt(ns) if ns >= 1 else f"{ns:.2f} ns", "", "(info)"))

width = max(len(r[0]) for r in rows)
print(f"| {'measure'.ljust(width)} | value | target | |")
print(f"|{'-' * (width + 2)}|---|---|---|")
for label, value, target, verdict in rows:
    print(f"| {label.ljust(width)} | {value} | {target} | {verdict} |")
sys.exit(1 if failed else 0)
