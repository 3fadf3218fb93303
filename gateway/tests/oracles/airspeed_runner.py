"""Renders the template corpus with airspeed-ext (LocalStack's Velocity).

    python airspeed_runner.py CASES.json  ->  {"name": {"out": str} | {"error": str}}

airspeed-ext brings the Velocity language; API Gateway's variables
($input, $util, $context, $stageVariables) are given here the behaviour AWS
documents, written independently of the Rust engine under test.
"""

import base64
import json
import re
import sys
from urllib.parse import quote_plus, unquote_plus

import airspeed
import airspeed.operators as ops


class JMap(dict):
    """A java.util.Map: `{k=v, k2=v2}`."""

    def __str__(self):
        return "{" + ", ".join(f"{k}={java_str(v)}" for k, v in self.items()) + "}"


class JList(list):
    """A JSON array from Jayway JsonPath: rendered as compact JSON."""

    def __str__(self):
        return json.dumps(self, separators=(",", ":"), ensure_ascii=False)


def java_str(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def wrap(v):
    if isinstance(v, dict):
        return JMap((k, wrap(x)) for k, x in v.items())
    if isinstance(v, list):
        return JList(wrap(x) for x in v)
    return v


for cls, base in ((JMap, dict), (JList, list)):
    ops.__additional_methods__[cls] = ops.__additional_methods__[base]


def json_path(doc, path):
    """The JSONPath subset AWS documents: $ .a ['a'] [n] [*] .* ..a"""
    tokens = re.findall(r"\.\.(\w+|\*)|\.(\w+|\*)|\[\s*'([^']*)'\s*\]|\[\s*\"([^\"]*)\"\s*\]|\[\s*(-?\d+|\*)\s*\]", path[1:])
    nodes, definite = [doc], True
    for deep, dot, sq, dq, idx in tokens:
        nxt = []
        for n in nodes:
            if deep:
                definite = False
                nxt.extend(descend(n, None if deep == "*" else deep))
            elif (dot or idx) == "*":
                definite = False
                nxt.extend(n.values() if isinstance(n, dict) else n if isinstance(n, list) else [])
            elif idx:
                i = int(idx)
                if isinstance(n, list) and -len(n) <= i < len(n):
                    nxt.append(n[i])
            else:
                name = dot or sq or dq
                if isinstance(n, dict) and name in n:
                    nxt.append(n[name])
        nodes = nxt
    if definite:
        return nodes[0] if nodes else None
    return JList(nodes)


def descend(n, name):
    out = []
    kids = list(n.values()) if isinstance(n, dict) else list(n) if isinstance(n, list) else []
    if name is None:
        out.extend(kids)
    elif isinstance(n, dict) and name in n:
        out.append(n[name])
    for k in kids:
        out.extend(descend(k, name))
    return out


class Input:
    def __init__(self, ctx):
        self.body = ctx.get("body", "")
        self._params = JMap(
            path=JMap(ctx.get("path", {})),
            querystring=JMap(ctx.get("querystring", {})),
            header=JMap(ctx.get("header", {})),
        )

    def _doc(self):
        return wrap(json.loads(self.body)) if self.body.strip() else JMap()

    def path(self, p):
        return json_path(self._doc(), p)

    def json(self, p):
        return json.dumps(json_path(self._doc(), p), separators=(",", ":"), ensure_ascii=False)

    def params(self, name=None):
        if name is None:
            return self._params
        for kind in ("path", "querystring", "header"):
            if name in self._params[kind]:
                return self._params[kind][name]
        return ""


class Util:
    def escapeJavaScript(self, s):
        if s is None:
            return None
        out = []
        for unit in java_str(s).encode("utf-16-be").hex(" ", 2).split():
            u = int(unit, 16)
            named = {8: "\\b", 10: "\\n", 9: "\\t", 12: "\\f", 13: "\\r", 39: "\\'", 34: '\\"', 92: "\\\\", 47: "\\/"}
            if u in named:
                out.append(named[u])
            elif u < 0x20 or u > 0x7F:
                out.append("\\u%04X" % u)
            else:
                out.append(chr(u))
        return "".join(out)

    def parseJson(self, s):
        return wrap(json.loads(s))

    def urlEncode(self, s):
        return quote_plus(s, safe="*").replace("~", "%7E")

    def urlDecode(self, s):
        return unquote_plus(s, errors="strict")

    def base64Encode(self, s):
        return base64.b64encode(java_str(s).encode()).decode()

    def base64Decode(self, s):
        return base64.b64decode(s, validate=True).decode("utf-8", "replace")


def context_map(ctx):
    root = JMap()
    for dotted, value in ctx.get("context", {}).items():
        node = root
        *parents, last = dotted.split(".")
        for p in parents:
            node = node.setdefault(p, JMap())
        node[last] = value
    root.setdefault("authorizer", JMap())["claims"] = JMap(ctx.get("claims", {}))
    root["requestOverride"] = JMap(header=JMap(), querystring=JMap(), path=JMap())
    root["responseOverride"] = JMap(header=JMap())
    return root


def render(case):
    ctx = case.get("context", {})
    namespace = {
        "input": Input(ctx),
        "util": Util(),
        "context": context_map(ctx),
        "stageVariables": JMap(ctx.get("stageVariables", {})),
    }
    return airspeed.Template(case["template"]).merge(namespace)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    results = {}
    for case in cases:
        try:
            results[case["name"]] = {"out": render(case)}
        except Exception as e:  # an oracle's failure is a result to compare
            results[case["name"]] = {"error": f"{type(e).__name__}: {e}"}
    json.dump(results, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
