#!/usr/bin/env python3
"""Prints the ratios of one criterion run against the targets.

Reads the paired ratios from target/criterion/paired/<name>.json and the median
of each criterion benchmark from target/criterion/<group>/<name>/new/
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


def paired(name):
    """The median of one pair's alternated rounds (benches/common/paired.rs)."""
    with open(os.path.join(root, "paired", f"{name}.json")) as f:
        return json.load(f)


def check_pair(label, name, limit, kind="max"):
    p = paired(name)
    shown = (
        f"{p['median']:.3f} (quartiles {p['q1']:.3f}-{p['q3']:.3f}, {p['rounds']} rounds; "
        f"{fmt(p['a_ns'])} vs {fmt(p['b_ns'])})"
    )
    check(label, p["median"], limit, kind, shown)


names = ["floor_rsa_verify", "jsonwebtoken_decode", "layer_uncached", "layer_first_sight", "layer_cached", "no_layer"]
t = {name: median_ns("verify", name) for name in names}
for name in names:
    rows.append((f"median {name} (criterion)", fmt(t[name]), "", ""))
# The checked ratios come from the paired measurements: both sides alternated
# within milliseconds, the median of the rounds' ratios (see
# benches/common/paired.rs). Criterion's medians, taken seconds apart, are
# shown for reference.
check_pair("uncached layer / RSA floor", "uncached_vs_floor", 1.15)
rounds = [
    median_ns("verify", f"layer_uncached{s}") / median_ns("verify", f"floor_rsa_verify{s}")
    for s in ["", "_round2", "_round3"]
]
shown = ", ".join(f"{x:.3f}" for x in rounds)
rows.append(("the same from criterion's three rounds", shown, "", "(info)"))
check_pair("uncached layer / jsonwebtoken::decode", "uncached_vs_jsonwebtoken", 0.85)
check_pair("cached / uncached", "cached_vs_uncached", 0.02)
r = t["layer_first_sight"] / t["floor_rsa_verify"]
rows.append(("first sight with cache on / RSA floor (criterion)", f"{r:.3f}", "", "(info)"))
# Rejections against the floor: ratios, not absolute times.
for name in ["missing_header", "garbage", "expired", "unknown_kid_rate_limited"]:
    check_pair(f"rejection {name} / RSA floor", f"reject_{name}_vs_floor", 0.15)
check_pair("pools_50 / pools_1", "pools_50_vs_pools_1", 1.2)
check_pair("keys_100 / keys_2", "keys_100_vs_keys_2", 1.2)
check_pair("public_call/10000 / public_call/1", "public_call_10000_vs_1", 1.2)
check_pair("lookup/10000 / cached_call", "lookup_10000_vs_cached_call", 0.5)
a = median_ns("routes", "lookup/1")
b = median_ns("routes", "lookup/10000")
rows.append(("lookup/10000 / lookup/1 (criterion)", f"{b / a:.3f} ({fmt(b)} vs {fmt(a)})", "", "(info)"))
# A cached Lambda-authorizer decision against a cached Cognito token
# (benches/custom_authorizer.rs).
check_pair("cached Lambda authorizer decision / cached Cognito token", "lambda_cached_vs_cognito_cached", 1.1)
# Feature `metrics`: Prometheus's recorder against none on the cached path.
check_pair("cached with Prometheus recorder / without", "cached_prometheus_vs_no_recorder", 1.1)
ns = median_ns("metrics", "two_noop_increments")
rows.append(("a cached request's metric calls, no recorder", fmt(ns) if ns >= 1 else f"{ns:.2f} ns", "", "(info)"))

# The gateway's own budgets (gateway/benches).
check_pair("template JSON, 500,000 keys / serde_json::Value", "template_json_500k_keys_vs_serde_json", 3.0)
check_pair("request validator, 10 KB body, 30 properties / RSA floor", "validation_10k_30_properties_vs_floor", 0.1)
check_pair("request validator, parsed body only / RSA floor", "validate_parsed_30_properties_vs_floor", 0.1)

width = max(len(r[0]) for r in rows)
print(f"| {'measure'.ljust(width)} | value | target | |")
print(f"|{'-' * (width + 2)}|---|---|---|")
for label, value, target, verdict in rows:
    print(f"| {label.ljust(width)} | {value} | {target} | {verdict} |")
sys.exit(1 if failed else 0)
