//! The mapping-template engine against real Velocity implementations.
//!
//! Every case of `tests/templates/*.json` is rendered by this crate's engine
//! and by two Velocity engines, airspeed-ext (PyPI, LocalStack's) and
//! velocityjs (npm, serverless-offline's), with the same context; see
//! `tests/oracles/` for how each is given API Gateway's variables.
//!
//! - A case with `aws` (AWS's documented output, or the output AWS produced
//!   as recorded in the source named by its corpus file) must render to
//!   exactly that; `aws_json` compares as JSON instead.
//! - Each oracle must render exactly what the engine does, unless the case
//!   lists it under `oracles` with the reason they differ: then it must
//!   still differ, so no such mark outlives the difference.
//!
//! The oracles live under the target directory; `scripts/template-oracles.sh`
//! installs them and `scripts/test` runs it. Without them this test fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tower_cognito_gateway::template::{Context, StrMap, Template};

/// A JSON object kept in document order (key order is visible in output).
#[derive(Debug, Default, Clone)]
struct Ordered(Vec<(String, String)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Ordered, A::Error> {
                let mut v = Vec::new();
                while let Some(entry) = m.next_entry()? {
                    v.push(entry);
                }
                Ok(Ordered(v))
            }
        }
        d.deserialize_map(V)
    }
}

impl Serialize for Ordered {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl Ordered {
    fn str_map(&self) -> StrMap<'_> {
        self.0
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
struct CaseContext {
    body: String,
    path: Ordered,
    querystring: Ordered,
    header: Ordered,
    #[serde(rename = "stageVariables")]
    stage_variables: Ordered,
    context: Ordered,
    claims: Ordered,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Text {
    One(String),
    Lines(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    template: Text,
    #[serde(default)]
    context: CaseContext,
    /// Variables set from the JSON body first, as the harness that recorded
    /// AWS's output did (see that corpus file's `source`).
    #[serde(default)]
    vars: Option<Vec<String>>,
    #[serde(default)]
    aws: Option<String>,
    #[serde(default)]
    aws_json: Option<serde_json::Value>,
    /// Oracle name -> why it differs from AWS / this engine.
    #[serde(default)]
    oracles: BTreeMap<String, String>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Corpus {
    #[allow(dead_code)]
    source: String,
    cases: Vec<Case>,
}

#[derive(Serialize)]
struct OracleCase<'a> {
    name: &'a str,
    template: &'a str,
    context: &'a CaseContext,
}

#[derive(Debug, Deserialize)]
struct OracleResult {
    out: Option<String>,
    error: Option<String>,
}

impl OracleResult {
    fn text(&self) -> String {
        match (&self.out, &self.error) {
            (Some(o), _) => o.clone(),
            (None, Some(e)) => format!("<error: {e}>"),
            (None, None) => "<no result>".to_owned(),
        }
    }
}

const ORACLES: [&str; 2] = ["airspeed", "velocityjs"];

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn oracle_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("..").join("target"));
    let target = if target.is_relative() {
        std::env::current_dir().unwrap().join(target)
    } else {
        target
    };
    target.join("template-oracles")
}

/// The template as AWS ran it, and as the oracles get it: with `vars`,
/// AWS's harness put its `#set`s on two lines; the oracles get them on none,
/// since both mishandle the whitespace between (the engine must render both
/// forms alike, which the test checks).
fn full_templates(case: &Case) -> (String, String) {
    let own = match &case.template {
        Text::One(s) => s.clone(),
        Text::Lines(l) => l.join("\n"),
    };
    match &case.vars {
        None => (own.clone(), own),
        Some(vars) => {
            let sets: Vec<String> = vars
                .iter()
                .map(|v| format!("#set(${v} = $bodyJSON.{v})"))
                .collect();
            let aws = format!(
                "#set($body = $input.body)\n#set($bodyJSON = $util.parseJson($body)) {}\n{own}",
                sets.join(" ")
            );
            let compact = format!(
                "#set($body = $input.body)#set($bodyJSON = $util.parseJson($body)){}{own}",
                sets.join("")
            );
            (aws, compact)
        }
    }
}

fn render(template: &str, c: &CaseContext) -> String {
    let t = match Template::parse(template) {
        Ok(t) => t,
        Err(e) => return format!("<parse error: {e}>"),
    };
    let ctx = Context {
        body: &c.body,
        path: c.path.str_map(),
        querystring: c.querystring.str_map(),
        header: c.header.str_map(),
        stage_variables: c.stage_variables.str_map(),
        vars: c.context.str_map(),
        claims: c.claims.str_map(),
        overrides: Default::default(),
    };
    match t.render(&ctx) {
        Ok(r) => r.body,
        Err(e) => format!("<error: {e}>"),
    }
}

fn load_corpus() -> Vec<(String, Case)> {
    let dir = manifest_dir().join("tests").join("templates");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let corpus: Corpus =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let file = f.file_name().unwrap().to_string_lossy().into_owned();
        for case in corpus.cases {
            for o in case.oracles.keys() {
                assert!(
                    ORACLES.contains(&o.as_str()),
                    "{file}/{}: unknown oracle {o}",
                    case.name
                );
            }
            cases.push((format!("{file}/{}", case.name), case));
        }
    }
    cases
}

fn run_oracle(dir: &Path, oracle: &str, input: &Path) -> BTreeMap<String, OracleResult> {
    let runners = manifest_dir().join("tests").join("oracles");
    let mut cmd = match oracle {
        "airspeed" => {
            let mut c = Command::new(dir.join("venv").join("bin").join("python"));
            c.arg(runners.join("airspeed_runner.py"));
            c
        }
        _ => {
            let mut c = Command::new("node");
            c.arg(runners.join("velocityjs_runner.js"));
            c.env("NODE_PATH", dir.join("node_modules"));
            c
        }
    };
    let out = cmd
        .arg(input)
        .output()
        .unwrap_or_else(|e| panic!("running the {oracle} oracle: {e}"));
    assert!(
        out.status.success(),
        "the {oracle} oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{oracle} output: {e}"))
}

fn require_oracles(dir: &Path) {
    let mut missing = Vec::new();
    if !dir.join("venv").join("bin").join("python").exists() {
        missing.push("airspeed-ext (venv)");
    }
    if !dir.join("node_modules").join("velocityjs").exists() {
        missing.push("velocityjs (node_modules)");
    }
    if Command::new("node").arg("--version").output().is_err() {
        missing.push("node");
    }
    assert!(
        missing.is_empty(),
        "the Velocity oracles are not installed in {}: missing {}.\n\
         Install them with `scripts/template-oracles.sh` (same CARGO_TARGET_DIR as cargo's; \
         needs python3 with venv, node and npm, and PyPI and npm registry access once).",
        dir.display(),
        missing.join(", ")
    );
}

#[test]
fn corpus_renders_as_aws_documents_and_as_the_oracles_do() {
    let dir = oracle_dir();
    require_oracles(&dir);
    let cases = load_corpus();
    assert!(
        cases.len() >= 50,
        "the corpus shrank to {} cases",
        cases.len()
    );

    let templates: Vec<(String, String)> = cases.iter().map(|(_, c)| full_templates(c)).collect();
    let oracle_cases: Vec<OracleCase<'_>> = cases
        .iter()
        .zip(&templates)
        .map(|((name, c), (_, t))| OracleCase {
            name,
            template: t,
            context: &c.context,
        })
        .collect();
    let input = dir.join(format!("cases-{}.json", std::process::id()));
    std::fs::write(&input, serde_json::to_vec(&oracle_cases).unwrap()).unwrap();
    let results: Vec<_> = ORACLES
        .iter()
        .map(|o| run_oracle(&dir, o, &input))
        .collect();
    let _ = std::fs::remove_file(&input);

    let mut failures = Vec::new();
    let (mut aws_checked, mut agreed, mut marked) = (0, 0, 0);
    for ((name, case), (template, oracle_template)) in cases.iter().zip(&templates) {
        let ours = render(template, &case.context);
        let mut fail = |what: String| {
            failures.push(format!(
                "{name}: {what}\n  template: {template:?}\n  engine:   {ours:?}"
            ))
        };
        if oracle_template != template {
            let compact = render(oracle_template, &case.context);
            if compact != ours {
                fail(format!(
                    "the oracles' form of the template renders {compact:?}"
                ));
            }
        }
        if let Some(aws) = &case.aws {
            aws_checked += 1;
            if &ours != aws {
                fail(format!("AWS renders {aws:?}"));
            }
        }
        if let Some(expected) = &case.aws_json {
            aws_checked += 1;
            match serde_json::from_str::<serde_json::Value>(&ours) {
                Ok(v) if &v == expected => {}
                Ok(v) => fail(format!(
                    "AWS's documented JSON is {expected}, the engine's is {v}"
                )),
                Err(e) => fail(format!("not JSON ({e}); AWS documents {expected}")),
            }
        }
        for (oracle, result) in ORACLES.iter().zip(&results) {
            let theirs = result
                .get(name)
                .map_or_else(|| "<missing>".to_owned(), OracleResult::text);
            match case.oracles.get(*oracle) {
                None if theirs == ours => agreed += 1,
                None => fail(format!("{oracle} renders {theirs:?}")),
                Some(_) if theirs != ours => marked += 1,
                Some(why) => fail(format!(
                    "marked as differing from {oracle} ({why}), but it renders the same: remove the mark"
                )),
            }
        }
    }
    eprintln!(
        "template corpus: {} cases, {aws_checked} checked against AWS's output, \
         {agreed} oracle renders agreeing, {marked} marked disagreements",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
