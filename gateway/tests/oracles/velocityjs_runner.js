// Renders the template corpus with velocityjs (serverless-offline's Velocity).
//
//   node velocityjs_runner.js CASES.json  ->  {"name": {"out": str} | {"error": str}}
//
// velocityjs brings the Velocity language; API Gateway's variables ($input,
// $util, $context, $stageVariables) and the java.lang.String methods that
// JavaScript strings lack are given here the behaviour AWS documents,
// written independently of the Rust engine under test. Null references
// render as nothing (velocityjs's `silence`), as API Gateway does.
"use strict";

const fs = require("fs");
const { parse, Compile } = require("velocityjs");

function jsonPath(doc, path) {
  const re = /\.\.(\w+|\*)|\.(\w+|\*)|\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\]|\[\s*(-?\d+|\*)\s*\]/g;
  let nodes = [doc];
  let definite = true;
  const kids = (n) => (Array.isArray(n) ? n.slice() : n && typeof n === "object" ? Object.values(n) : []);
  const descend = (n, name, out) => {
    if (name === null) out.push(...kids(n));
    else if (n && typeof n === "object" && !Array.isArray(n) && name in n) out.push(n[name]);
    for (const k of kids(n)) descend(k, name, out);
  };
  for (const m of path.slice(1).matchAll(re)) {
    const [, deep, dot, sq, dq, idx] = m;
    const next = [];
    for (const n of nodes) {
      if (deep !== undefined) {
        definite = false;
        descend(n, deep === "*" ? null : deep, next);
      } else if ((dot ?? idx) === "*") {
        definite = false;
        next.push(...kids(n));
      } else if (idx !== undefined) {
        const i = Number(idx);
        if (Array.isArray(n) && i >= -n.length && i < n.length) next.push(n[i < 0 ? n.length + i : i]);
      } else {
        const name = dot ?? sq ?? dq;
        if (n && typeof n === "object" && !Array.isArray(n) && name in n) next.push(n[name]);
      }
    }
    nodes = next;
  }
  if (definite) return nodes.length ? nodes[0] : null;
  return nodes;
}

function escapeJavaScript(s) {
  const named = { 8: "\\b", 10: "\\n", 9: "\\t", 12: "\\f", 13: "\\r", 39: "\\'", 34: '\\"', 92: "\\\\", 47: "\\/" };
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    if (named[u]) out += named[u];
    else if (u < 0x20 || u > 0x7f) out += "\\u" + u.toString(16).toUpperCase().padStart(4, "0");
    else out += s[i];
  }
  return out;
}

function javaUrlEncode(s) {
  return encodeURIComponent(s)
    .replace(/[!'()~]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase())
    .replace(/%20/g, "+");
}

function makeInput(ctx) {
  const body = ctx.body ?? "";
  const params = { path: { ...(ctx.path ?? {}) }, querystring: { ...(ctx.querystring ?? {}) }, header: { ...(ctx.header ?? {}) } };
  const doc = () => (body.trim() ? JSON.parse(body) : {});
  return {
    body,
    path: (p) => jsonPath(doc(), p),
    json: (p) => JSON.stringify(jsonPath(doc(), p)),
    params: (name) => {
      if (name === undefined) return params;
      for (const kind of ["path", "querystring", "header"]) if (name in params[kind]) return params[kind][name];
      return "";
    },
  };
}

const util = {
  escapeJavaScript: (s) => (s === undefined || s === null ? s : escapeJavaScript(String(s))),
  parseJson: (s) => JSON.parse(s),
  urlEncode: (s) => javaUrlEncode(String(s)),
  urlDecode: (s) => decodeURIComponent(String(s).replace(/\+/g, " ")),
  base64Encode: (s) => Buffer.from(String(s), "utf8").toString("base64"),
  base64Decode: (s) => Buffer.from(String(s), "base64").toString("utf8"),
};

function contextMap(ctx) {
  const root = {};
  for (const [dotted, value] of Object.entries(ctx.context ?? {})) {
    const parts = dotted.split(".");
    let node = root;
    for (const p of parts.slice(0, -1)) node = node[p] ??= {};
    node[parts[parts.length - 1]] = value;
  }
  (root.authorizer ??= {}).claims = { ...(ctx.claims ?? {}) };
  root.requestOverride = { header: {}, querystring: {}, path: {} };
  root.responseOverride = { header: {} };
  return root;
}

// java.lang.String methods that JavaScript strings lack or spell differently.
const str = (name, fn) => ({
  uid: "java.lang.String." + name,
  match: ({ property, context }) => property === name && typeof context === "string",
  resolve: ({ context, params }) => fn(context, ...params),
});
const javaRegex = (p, flags) => new RegExp(p, flags);
const stringMethods = [
  str("length", (s) => s.length),
  str("contains", (s, x) => s.includes(String(x))),
  str("isEmpty", (s) => s.length === 0),
  str("equals", (s, x) => s === x),
  str("equalsIgnoreCase", (s, x) => typeof x === "string" && s.toLowerCase() === x.toLowerCase()),
  str("replace", (s, a, b) => s.split(String(a)).join(String(b))),
  str("replaceAll", (s, p, r) => s.replace(javaRegex(p, "g"), r)),
  str("matches", (s, p) => javaRegex("^(?:" + p + ")$").test(s)),
  str("split", (s, p) => {
    const parts = s.split(javaRegex(p));
    while (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
    return parts;
  }),
  str("toString", (s) => s),
];
const mapMethods = [
  {
    uid: "java.util.Map.containsKey",
    match: ({ property, context }) => property === "containsKey" && context && typeof context === "object",
    resolve: ({ context, params }) => Object.prototype.hasOwnProperty.call(context, params[0]),
  },
  {
    uid: "java.util.Map.values",
    match: ({ property, context }) => property === "values" && context && typeof context === "object" && !Array.isArray(context),
    resolve: ({ context }) => Object.values(context),
  },
  {
    uid: "java.util.List.isEmpty",
    match: ({ property, context }) => property === "isEmpty" && context && typeof context === "object",
    resolve: ({ context }) => (Array.isArray(context) ? context.length : Object.keys(context).length) === 0,
  },
  {
    uid: "java.util.List.contains",
    match: ({ property, context }) => property === "contains" && Array.isArray(context),
    resolve: ({ context, params }) => context.includes(params[0]),
  },
];

function render(c) {
  const ctx = c.context ?? {};
  const data = {
    input: makeInput(ctx),
    util,
    context: contextMap(ctx),
    stageVariables: { ...(ctx.stageVariables ?? {}) },
  };
  const compiled = new Compile(parse(c.template), { customMethodHandlers: [...stringMethods, ...mapMethods] });
  return compiled.render(data, undefined, true);
}

const cases = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const results = {};
for (const c of cases) {
  try {
    results[c.name] = { out: String(render(c)) };
  } catch (e) {
    results[c.name] = { error: String(e && e.message ? e.message : e) };
  }
}
process.stdout.write(JSON.stringify(results));
