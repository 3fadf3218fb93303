//! CloudFormation's intrinsic functions, resolved offline where they decide
//! routes, authorizers or integrations.
//!
//! What each resolves to:
//!
//! | | offline value |
//! |---|---|
//! | `Ref` a parameter | `--parameter-overrides`, else its `Default`; lists (`CommaDelimitedList`, `List<...>`) split at commas |
//! | `Ref AWS::Region` | `us-east-1` |
//! | `Ref AWS::AccountId` | `123456789012` |
//! | `Ref AWS::StackName` | `local` |
//! | `Ref AWS::StackId` | `arn:aws:cloudformation:{region}:{account}:stack/{name}/51af3dc0-da77-11e4-872e-1234567db123` |
//! | `Ref AWS::Partition`, `AWS::URLSuffix` | from the region: `aws` and `amazonaws.com` (`aws-cn`, `amazonaws.com.cn` in `cn-*`; `aws-us-gov` in `us-gov-*`) |
//! | `Ref AWS::NotificationARNs` | `[]` |
//! | `Ref AWS::NoValue` | the property is left out |
//! | `Ref` a function (`AWS::Serverless::Function`, `AWS::Lambda::Function`) | its `FunctionName`, else its logical ID (the names `sam local start-lambda` knows) |
//! | `Fn::GetAtt Function.Arn` | `arn:{partition}:lambda:{region}:{account}:function:{name}` |
//! | `Ref` a user pool (`AWS::Cognito::UserPool`) | `{region}_{LogicalId}` (a pool ID only the dev issuer serves) |
//! | `Fn::GetAtt Pool.Arn` / `.ProviderName` / `.ProviderURL` / `.UserPoolId` | that ID's ARN, `cognito-idp.{region}.amazonaws.com/{id}`, `https://` the same, the ID |
//! | `Fn::GetAtt Api.RootResourceId` | the API's root resource |
//! | `Ref` a function's alias (`AWS::Lambda::Alias`) | the function's ARN and `:{Name}` |
//! | `Ref` any other resource | its logical ID |
//!
//! Pseudo parameters take `--parameter-overrides` too (`AWS::Region=eu-west-1`).
//! The stand-ins are SAM CLI's (`samcli/lib/intrinsic_resolver`), but for
//! `AWS::URLSuffix`, here the real one.
//!
//! `Fn::Sub`, `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::FindInMap`,
//! `Fn::If` (with the template's `Conditions`), `Fn::Equals`, `Fn::Not`,
//! `Fn::And`, `Fn::Or` and `Fn::Base64` are evaluated. What has no value
//! before deployment (`Fn::ImportValue`, `Fn::GetAZs`, `Fn::Cidr`,
//! `Fn::Transform`, other attributes, an SSM parameter without an override)
//! stops startup with the resource and property it decides, since serving
//! a guess could change who is let in.
//!
//! Bounded: values nest at most as deep as the loader allows; references
//! from one resource or condition to another are followed at most
//! [`MAX_HOPS`] deep, and a cycle (`A` named after `B` named after `A`) is
//! an error naming it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use base64::Engine as _;
use serde_json::{Map, Value};

mod references;

mod functions;

/// How many resources or conditions one value may lead through.
const MAX_HOPS: usize = 32;
/// How deep evaluation may nest in all, hops included: a reload runs on a
/// worker thread's stack, which a template must not exhaust.
const MAX_DEPTH: usize = 256;

/// The intrinsic functions with no offline value.
const UNRESOLVABLE: &[&str] = &[
    "Fn::ImportValue",
    "Fn::GetAZs",
    "Fn::Cidr",
    "Fn::Transform",
    "Fn::Length",
    "Fn::ToJsonString",
    "Fn::ForEach",
];

/// A parameter's value.
#[derive(Debug, Clone)]
enum Parameter {
    Value(Value),
    /// No default and no override.
    Unset,
    /// `AWS::SSM::Parameter::Value<...>` without an override.
    Ssm(String),
}

/// Resolves values of one template.
pub(crate) struct Resolver<'t> {
    resources: &'t Map<String, Value>,
    mappings: Option<&'t Map<String, Value>>,
    conditions: Option<&'t Map<String, Value>>,
    parameters: HashMap<String, Parameter>,
    pseudo: HashMap<&'static str, Value>,
    condition_values: RefCell<HashMap<String, bool>>,
    /// What is being resolved now, for cycles.
    in_progress: RefCell<Vec<String>>,
    hops: Cell<usize>,
    depth: Cell<usize>,
}

/// `{"Ref": ...}`, `{"Fn::...": ...}`: the function and its argument.
pub(crate) fn as_intrinsic(value: &Value) -> Option<(&str, &Value)> {
    let map = value.as_object()?;
    if map.len() != 1 {
        return None;
    }
    let (key, arg) = map.iter().next()?;
    (key == "Ref" || key.starts_with("Fn::")).then_some((key.as_str(), arg))
}

/// A value's text as CloudFormation turns scalars into strings.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

impl<'t> Resolver<'t> {
    /// Reads `Parameters`, `Mappings`, `Conditions` and `Resources`, with the
    /// overrides (`NAME=VALUE`, parameters and pseudo parameters).
    pub(crate) fn new(template: &'t Value, overrides: &[(String, String)]) -> Result<Self, String> {
        let section = |name: &str| -> Result<Option<&'t Map<String, Value>>, String> {
            match template.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Object(map)) => Ok(Some(map)),
                Some(other) => Err(format!("{name}: expected an object, found {}", kind(other))),
            }
        };
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        let resources = section("Resources")?.unwrap_or_else(|| EMPTY.get_or_init(Map::new));
        let mut given: HashMap<&str, &str> = HashMap::new();
        for (name, value) in overrides {
            given.insert(name.as_str(), value.as_str());
        }
        let declared = section("Parameters")?;
        let mut parameters = HashMap::new();
        for (name, spec) in declared.into_iter().flatten() {
            let parameter = parameter(name, spec, given.get(name.as_str()).copied())?;
            parameters.insert(name.clone(), parameter);
        }
        let region = given.get("AWS::Region").copied().unwrap_or("us-east-1");
        let (partition, suffix) = if region.starts_with("cn-") {
            ("aws-cn", "amazonaws.com.cn")
        } else if region.starts_with("us-gov-") {
            ("aws-us-gov", "amazonaws.com")
        } else {
            ("aws", "amazonaws.com")
        };
        let account = given
            .get("AWS::AccountId")
            .copied()
            .unwrap_or("123456789012");
        let stack = given.get("AWS::StackName").copied().unwrap_or("local");
        let partition = given.get("AWS::Partition").copied().unwrap_or(partition);
        let mut pseudo: HashMap<&'static str, Value> = HashMap::new();
        pseudo.insert("AWS::Region", region.into());
        pseudo.insert("AWS::AccountId", account.into());
        pseudo.insert("AWS::StackName", stack.into());
        pseudo.insert(
            "AWS::StackId",
            given
                .get("AWS::StackId")
                .map(|s| s.to_string())
                .unwrap_or_else(|| {
                    format!(
                        "arn:{partition}:cloudformation:{region}:{account}:stack/{stack}/\
                         51af3dc0-da77-11e4-872e-1234567db123"
                    )
                })
                .into(),
        );
        pseudo.insert("AWS::Partition", partition.into());
        pseudo.insert(
            "AWS::URLSuffix",
            given
                .get("AWS::URLSuffix")
                .copied()
                .unwrap_or(suffix)
                .into(),
        );
        pseudo.insert("AWS::NotificationARNs", Value::Array(Vec::new()));
        for name in given.keys() {
            if !parameters.contains_key(*name) && !pseudo.contains_key(name) {
                let mut known: Vec<&str> = parameters.keys().map(String::as_str).collect();
                known.sort_unstable();
                return Err(format!(
                    "--parameter-overrides {name}: the template has no parameter {name} \
                     (its parameters: {})",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ));
            }
        }
        Ok(Self {
            resources,
            mappings: section("Mappings")?,
            conditions: section("Conditions")?,
            parameters,
            pseudo,
            condition_values: RefCell::new(HashMap::new()),
            in_progress: RefCell::new(Vec::new()),
            hops: Cell::new(0),
            depth: Cell::new(0),
        })
    }

    /// The template's resources.
    pub(crate) fn resources(&self) -> &'t Map<String, Value> {
        self.resources
    }

    /// `AWS::Region` as resolved.
    pub(crate) fn region(&self) -> &str {
        self.pseudo["AWS::Region"].as_str().unwrap_or("us-east-1")
    }

    /// `AWS::StackName` as resolved.
    pub(crate) fn stack_name(&self) -> &str {
        self.pseudo["AWS::StackName"].as_str().unwrap_or("local")
    }

    /// A resource's `Type` (empty when it has none).
    pub(crate) fn type_of(&self, logical: &str) -> &'t str {
        self.resources
            .get(logical)
            .and_then(|r| r.get("Type"))
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// Whether a resource exists in this deployment (its `Condition`).
    pub(crate) fn enabled(&self, logical: &str) -> Result<bool, String> {
        match self.resources.get(logical).and_then(|r| r.get("Condition")) {
            None => Ok(true),
            Some(Value::String(name)) => self
                .condition(name)
                .map_err(|e| format!("resource {logical}, Condition: {e}")),
            Some(other) => Err(format!(
                "resource {logical}, Condition: expected a condition name, found {}",
                kind(other)
            )),
        }
    }

    /// `value` with every intrinsic function resolved; `AWS::NoValue` gives
    /// `None`. Errors start with `at`.
    pub(crate) fn resolve(&self, value: &Value, at: &str) -> Result<Option<Value>, String> {
        let mut path = Vec::new();
        self.eval(value, &mut path).map_err(|e| {
            if path.is_empty() {
                format!("{at}: {e}")
            } else {
                format!("{at}.{}: {e}", path.join("."))
            }
        })
    }

    /// [`Resolver::resolve`], `AWS::NoValue` giving `Null`.
    pub(crate) fn value(&self, value: &Value, at: &str) -> Result<Value, String> {
        Ok(self.resolve(value, at)?.unwrap_or(Value::Null))
    }

    /// [`Resolver::resolve`] as a string (numbers and booleans written out).
    pub(crate) fn string(&self, value: &Value, at: &str) -> Result<String, String> {
        let resolved = self.value(value, at)?;
        scalar_text(&resolved)
            .ok_or_else(|| format!("{at}: expected a string, found {}", kind(&resolved)))
    }

    /// A property of a resource, resolved (`None`: absent or `AWS::NoValue`).
    pub(crate) fn property(&self, logical: &str, name: &str) -> Result<Option<Value>, String> {
        let Some(raw) = self
            .resources
            .get(logical)
            .and_then(|r| r.get("Properties"))
            .and_then(|p| p.get(name))
        else {
            return Ok(None);
        };
        self.resolve(raw, &self.at(logical, name))
    }

    /// `resource X (Type), property Name`.
    pub(crate) fn at(&self, logical: &str, property: &str) -> String {
        format!(
            "resource {logical} ({}), property {property}",
            self.type_of(logical)
        )
    }

    fn eval(&self, value: &Value, path: &mut Vec<String>) -> Result<Option<Value>, String> {
        if self.depth.get() >= MAX_DEPTH {
            return Err(format!("values nested deeper than {MAX_DEPTH}"));
        }
        self.depth.set(self.depth.get() + 1);
        let out = self.eval_at_depth(value, path);
        self.depth.set(self.depth.get() - 1);
        out
    }

    fn eval_at_depth(
        &self,
        value: &Value,
        path: &mut Vec<String>,
    ) -> Result<Option<Value>, String> {
        if let Some((function, arg)) = as_intrinsic(value) {
            return self.function(function, arg, path);
        }
        match value {
            Value::Object(map) => {
                let mut out = Map::with_capacity(map.len());
                for (key, child) in map {
                    path.push(key.clone());
                    let resolved = self.eval(child, path)?;
                    path.pop();
                    if let Some(v) = resolved {
                        out.insert(key.clone(), v);
                    }
                }
                Ok(Some(Value::Object(out)))
            }
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, child) in items.iter().enumerate() {
                    path.push(i.to_string());
                    let resolved = self.eval(child, path)?;
                    path.pop();
                    out.extend(resolved);
                }
                Ok(Some(Value::Array(out)))
            }
            other => Ok(Some(other.clone())),
        }
    }

    /// Evaluates to a value that must be present.
    fn present(&self, value: &Value, path: &mut Vec<String>, what: &str) -> Result<Value, String> {
        self.eval(value, path)?
            .ok_or_else(|| format!("{what}: AWS::NoValue where a value is needed"))
    }

    fn text(&self, value: &Value, path: &mut Vec<String>, what: &str) -> Result<String, String> {
        let v = self.present(value, path, what)?;
        scalar_text(&v).ok_or_else(|| format!("{what}: expected a string, found {}", kind(&v)))
    }

    fn list(
        &self,
        value: &Value,
        path: &mut Vec<String>,
        what: &str,
    ) -> Result<Vec<Value>, String> {
        match self.present(value, path, what)? {
            Value::Array(items) => Ok(items),
            other => Err(format!("{what}: expected a list, found {}", kind(&other))),
        }
    }

    /// The arguments of a function taking a fixed-length list.
    fn args<'a>(
        function: &str,
        arg: &'a Value,
        n: std::ops::RangeInclusive<usize>,
    ) -> Result<&'a [Value], String> {
        match arg {
            Value::Array(items) if n.contains(&items.len()) => Ok(items),
            _ => Err(format!(
                "{function}: expected a list of {} arguments",
                if n.start() == n.end() {
                    n.start().to_string()
                } else {
                    format!("{} to {}", n.start(), n.end())
                }
            )),
        }
    }
}

/// The stand-in of `Fn::GetAtt Api.RootResourceId` (a dot never appears in
/// a logical ID, so it names no resource).
pub(crate) fn root_resource_id(api: &str) -> String {
    format!("{api}.RootResourceId")
}

/// A declared parameter's value, with its override.
fn parameter(name: &str, spec: &Value, given: Option<&str>) -> Result<Parameter, String> {
    let at = format!("parameter {name}");
    let ty = spec.get("Type").and_then(Value::as_str).unwrap_or("String");
    let raw = match given {
        Some(v) => Some(v.to_owned()),
        None => match spec.get("Default") {
            None | Some(Value::Null) => None,
            Some(v) => {
                Some(scalar_text(v).ok_or_else(|| format!("{at}: Default must be a string"))?)
            }
        },
    };
    let Some(raw) = raw else {
        return Ok(Parameter::Unset);
    };
    if ty.starts_with("AWS::SSM::Parameter::Value<") && given.is_none() {
        return Ok(Parameter::Ssm(raw));
    }
    let list =
        ty == "CommaDelimitedList" || ty.starts_with("List<") || ty.contains("::Value<List<");
    let values: Vec<String> = if list {
        raw.split(',').map(|s| s.trim().to_owned()).collect()
    } else {
        vec![raw.clone()]
    };
    if let Some(allowed) = spec.get("AllowedValues").and_then(Value::as_array) {
        let allowed: Vec<String> = allowed.iter().filter_map(scalar_text).collect();
        for v in &values {
            if !allowed.contains(v) {
                return Err(format!(
                    "{at}: {v:?} is not one of its AllowedValues ({})",
                    allowed.join(", ")
                ));
            }
        }
    }
    if ty == "Number" && raw.trim().parse::<f64>().is_err() {
        return Err(format!("{at}: {raw:?} is not a Number"));
    }
    Ok(Parameter::Value(if list {
        Value::Array(values.into_iter().map(Value::String).collect())
    } else {
        Value::String(raw)
    }))
}

#[cfg(test)]
mod tests;
