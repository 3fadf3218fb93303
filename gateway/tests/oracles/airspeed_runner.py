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


class VList(list):
    """A java.util.List (keySet(), values(), split()): `[a, b]`."""

    def __str__(self):
        return "[" + ", ".join(java_str(v) for v in self) + "]"


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


def java_index(s, sub, start=0, last=False):
    try:
        return s.rindex(sub, 0, start + len(sub)) if last else s.index(sub, max(start, 0))
    except ValueError:
        return -1


def java_replacement(r):
    # Java's `$1` is Python's `\g<1>`; Java's `\x` is a literal x.
    out, i = [], 0
    while i < len(r):
        c = r[i]
        if c == "\\" and i + 1 < len(r):
            out.append(r[i + 1].replace("\\", "\\\\"))
            i += 2
        elif c == "$" and i + 1 < len(r) and r[i + 1].isdigit():
            j = i + 1
            while j < len(r) and r[j].isdigit():
                j += 1
            out.append("\\g<" + r[i + 1 : j] + ">")
            i = j
        else:
            out.append(c.replace("\\", "\\\\"))
            i += 1
    return "".join(out)


def java_split(s, p):
    parts = re.split(p, s)
    while len(parts) > 1 and parts[-1] == "":
        parts.pop()
    return VList(parts)


# java.lang.String, java.util.List and java.util.Map methods that airspeed's
# Python types lack.
STRING_METHODS = {
    "length": lambda s: len(s.encode("utf-16-le")) // 2,
    "contains": lambda s, x: java_str(x) in s,
    "isEmpty": lambda s: s == "",
    "equals": lambda s, x: isinstance(x, str) and s == x,
    "equalsIgnoreCase": lambda s, x: isinstance(x, str) and s.lower() == x.lower(),
    "toLowerCase": lambda s: s.lower(),
    "toUpperCase": lambda s: s.upper(),
    "trim": lambda s: s.strip("".join(chr(c) for c in range(33))),
    "startsWith": lambda s, x: s.startswith(x),
    "endsWith": lambda s, x: s.endswith(x),
    "indexOf": lambda s, x, start=0: java_index(s, x, start),
    "lastIndexOf": lambda s, x, start=None: java_index(s, x, len(s) if start is None else start, last=True),
    "substring": lambda s, b, e=None: s[b:] if e is None else s[b:e],
    "replace": lambda s, a, b: s.replace(java_str(a), java_str(b)),
    "replaceAll": lambda s, p, r: re.sub(p, java_replacement(r), s),
    "matches": lambda s, p: re.fullmatch(p, s) is not None,
    "split": java_split,
    "toString": lambda s: s,
}
MAP_METHODS = {
    "size": lambda m: len(m),
    "isEmpty": lambda m: len(m) == 0,
    "containsKey": lambda m, k: k in m,
    "keySet": lambda m: VList(m.keys()),
    "values": lambda m: VList(m.values()),
    "toString": lambda m: str(m),
}
LIST_METHODS = dict(ops.__additional_methods__[list], toString=lambda l: str(l))
ops.__additional_methods__[str] = dict(ops.__additional_methods__[str], **STRING_METHODS)
ops.__additional_methods__[dict] = dict(ops.__additional_methods__[dict], **MAP_METHODS)
ops.__additional_methods__[JMap] = ops.__additional_methods__[dict]
for cls in (list, JList, VList):
    ops.__additional_methods__[cls] = LIST_METHODS


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
