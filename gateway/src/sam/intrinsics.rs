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

    fn function(
        &self,
        function: &str,
        arg: &Value,
        path: &mut Vec<String>,
    ) -> Result<Option<Value>, String> {
        match function {
            "Ref" => {
                let name = arg
                    .as_str()
                    .ok_or_else(|| format!("Ref: expected a name, found {}", kind(arg)))?;
                self.reference(name)
            }
            "Fn::GetAtt" => {
                let (resource, attribute) = match arg {
                    Value::String(s) => s
                        .split_once('.')
                        .map(|(r, a)| (r.to_owned(), a.to_owned()))
                        .ok_or_else(|| format!("Fn::GetAtt {s}: expected Resource.Attribute"))?,
                    Value::Array(items) if items.len() == 2 => {
                        let resource = items[0]
                            .as_str()
                            .ok_or("Fn::GetAtt: the resource must be a logical ID")?
                            .to_owned();
                        let attribute = self.text(&items[1], path, "Fn::GetAtt")?;
                        (resource, attribute)
                    }
                    _ => return Err("Fn::GetAtt: expected [Resource, Attribute]".into()),
                };
                self.attribute(&resource, &attribute).map(Some)
            }
            "Fn::Sub" => {
                let (text, variables) = match arg {
                    Value::String(s) => (s.as_str(), None),
                    Value::Array(items) if items.len() == 2 => {
                        let text = items[0]
                            .as_str()
                            .ok_or("Fn::Sub: the first argument must be a string")?;
                        let vars = items[1]
                            .as_object()
                            .ok_or("Fn::Sub: the second argument must be an object")?;
                        (text, Some(vars))
                    }
                    _ => return Err("Fn::Sub: expected a string or [string, {variables}]".into()),
                };
                self.substitute(text, variables, path)
                    .map(|s| Some(s.into()))
            }
            "Fn::Join" => {
                let args = Self::args(function, arg, 2..=2)?;
                let delimiter = args[0]
                    .as_str()
                    .ok_or("Fn::Join: the delimiter must be a string")?;
                let items = self.list(&args[1], path, "Fn::Join")?;
                let parts = items
                    .iter()
                    .map(|v| {
                        scalar_text(v).ok_or_else(|| {
                            format!("Fn::Join: expected strings to join, found {}", kind(v))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Some(parts.join(delimiter).into()))
            }
            "Fn::Select" => {
                let args = Self::args(function, arg, 2..=2)?;
                let index = self.text(&args[0], path, "Fn::Select")?;
                let index: usize = index
                    .trim()
                    .parse()
                    .map_err(|_| format!("Fn::Select: index {index:?} is not a number"))?;
                let items = self.list(&args[1], path, "Fn::Select")?;
                let len = items.len();
                items
                    .into_iter()
                    .nth(index)
                    .map(Some)
                    .ok_or_else(|| format!("Fn::Select: index {index} of a list of {len}"))
            }
            "Fn::Split" => {
                let args = Self::args(function, arg, 2..=2)?;
                let delimiter = args[0]
                    .as_str()
                    .ok_or("Fn::Split: the delimiter must be a string")?;
                if delimiter.is_empty() {
                    return Err("Fn::Split: empty delimiter".into());
                }
                let source = self.text(&args[1], path, "Fn::Split")?;
                Ok(Some(Value::Array(
                    source
                        .split(delimiter)
                        .map(|s| Value::String(s.to_owned()))
                        .collect(),
                )))
            }
            "Fn::FindInMap" => {
                let args = Self::args(function, arg, 3..=3)?;
                let map = self.text(&args[0], path, "Fn::FindInMap")?;
                let top = self.text(&args[1], path, "Fn::FindInMap")?;
                let second = self.text(&args[2], path, "Fn::FindInMap")?;
                self.mappings
                    .and_then(|m| m.get(&map))
                    .and_then(|m| m.get(&top))
                    .and_then(|m| m.get(&second))
                    .cloned()
                    .map(Some)
                    .ok_or_else(|| format!("Fn::FindInMap: Mappings has no {map}.{top}.{second}"))
            }
            "Fn::If" => {
                let args = Self::args(function, arg, 3..=3)?;
                let name = args[0]
                    .as_str()
                    .ok_or("Fn::If: the first argument must be a condition name")?;
                let branch = if self.condition(name)? {
                    &args[1]
                } else {
                    &args[2]
                };
                self.eval(branch, path)
            }
            "Fn::Equals" | "Fn::Not" | "Fn::And" | "Fn::Or" => self
                .truth_of(function, arg, path)
                .map(|b| Some(Value::Bool(b))),
            "Fn::Base64" => {
                let text = self.text(arg, path, "Fn::Base64")?;
                Ok(Some(
                    base64::engine::general_purpose::STANDARD
                        .encode(text)
                        .into(),
                ))
            }
            f if UNRESOLVABLE.contains(&f) => Err(format!(
                "{f} has no value before the stack is deployed; replace it with a parameter \
                 and pass --parameter-overrides"
            )),
            f => Err(format!("unknown intrinsic function {f}")),
        }
    }

    /// `Ref name`.
    fn reference(&self, name: &str) -> Result<Option<Value>, String> {
        if name == "AWS::NoValue" {
            return Ok(None);
        }
        if let Some(v) = self.pseudo.get(name) {
            return Ok(Some(v.clone()));
        }
        match self.parameters.get(name) {
            Some(Parameter::Value(v)) => return Ok(Some(v.clone())),
            Some(Parameter::Unset) => {
                return Err(format!(
                    "parameter {name} has no Default: pass --parameter-overrides {name}=VALUE"
                ))
            }
            Some(Parameter::Ssm(key)) => {
                return Err(format!(
                    "parameter {name} is read from Systems Manager ({key}) on deployment: pass \
                     --parameter-overrides {name}=VALUE"
                ))
            }
            None => {}
        }
        if self.resources.contains_key(name) {
            return self.physical_id(name).map(|s| Some(s.into()));
        }
        Err(format!(
            "Ref {name}: the template has no parameter or resource {name}"
        ))
    }

    /// Follows a reference to another resource: bounded, cycles refused.
    fn hop<T>(&self, what: String, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
        if self.in_progress.borrow().contains(&what) {
            let chain = self.in_progress.borrow().join(" -> ");
            return Err(format!("circular reference: {chain} -> {what}"));
        }
        if self.hops.get() >= MAX_HOPS {
            return Err(format!("{what}: references nested deeper than {MAX_HOPS}"));
        }
        self.in_progress.borrow_mut().push(what);
        self.hops.set(self.hops.get() + 1);
        let out = f();
        self.hops.set(self.hops.get() - 1);
        self.in_progress.borrow_mut().pop();
        out
    }

    /// What `Ref` gives for a resource.
    pub(crate) fn physical_id(&self, logical: &str) -> Result<String, String> {
        match self.type_of(logical) {
            "AWS::Serverless::Function" | "AWS::Lambda::Function" => self.function_name(logical),
            "AWS::Cognito::UserPool" => Ok(self.pool_id(logical)),
            "AWS::Lambda::Alias" => self.alias_arn(logical),
            _ => Ok(logical.to_owned()),
        }
    }

    /// An alias's ARN: its function's, `:` its `Name` (what CDK's
    /// `LambdaIntegration` of an alias puts in the uri).
    fn alias_arn(&self, logical: &str) -> Result<String, String> {
        self.hop(format!("{logical}.Arn"), || {
            let text = |name: &str| -> Result<String, String> {
                self.property(logical, name)?
                    .as_ref()
                    .and_then(scalar_text)
                    .ok_or_else(|| format!("{}: expected a string", self.at(logical, name)))
            };
            let function = text("FunctionName")?;
            let alias = text("Name")?;
            if function.starts_with("arn:") {
                return Ok(format!("{function}:{alias}"));
            }
            let region = self.region();
            let account = self.pseudo["AWS::AccountId"].as_str().unwrap_or_default();
            let partition = self.pseudo["AWS::Partition"].as_str().unwrap_or("aws");
            Ok(format!(
                "arn:{partition}:lambda:{region}:{account}:function:{function}:{alias}"
            ))
        })
    }

    /// A function's name: `FunctionName`, else the logical ID.
    pub(crate) fn function_name(&self, logical: &str) -> Result<String, String> {
        self.hop(format!("{logical}.FunctionName"), || {
            match self.property(logical, "FunctionName")? {
                None => Ok(logical.to_owned()),
                Some(v) => scalar_text(&v).ok_or_else(|| {
                    format!("{}: expected a string", self.at(logical, "FunctionName"))
                }),
            }
        })
    }

    /// A declared user pool's stand-in ID.
    pub(crate) fn pool_id(&self, logical: &str) -> String {
        let id: String = logical
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(55)
            .collect();
        format!("{}_{id}", self.region())
    }

    fn attribute(&self, logical: &str, attribute: &str) -> Result<Value, String> {
        if !self.resources.contains_key(logical) {
            return Err(format!(
                "Fn::GetAtt {logical}.{attribute}: the template has no resource {logical}"
            ));
        }
        let region = self.region();
        let account = self.pseudo["AWS::AccountId"].as_str().unwrap_or_default();
        let partition = self.pseudo["AWS::Partition"].as_str().unwrap_or("aws");
        let ty = self.type_of(logical);
        let value = match (ty, attribute) {
            ("AWS::Serverless::Function" | "AWS::Lambda::Function", "Arn") => {
                let name = self.function_name(logical)?;
                format!("arn:{partition}:lambda:{region}:{account}:function:{name}")
            }
            ("AWS::Cognito::UserPool", _) => {
                let id = self.pool_id(logical);
                match attribute {
                    "Arn" => {
                        format!("arn:{partition}:cognito-idp:{region}:{account}:userpool/{id}")
                    }
                    "ProviderName" => format!("cognito-idp.{region}.amazonaws.com/{id}"),
                    "ProviderURL" => format!("https://cognito-idp.{region}.amazonaws.com/{id}"),
                    "UserPoolId" => id,
                    _ => return Err(self.no_attribute(logical, attribute)),
                }
            }
            ("AWS::ApiGateway::RestApi" | "AWS::Serverless::Api", "RootResourceId") => {
                root_resource_id(logical)
            }
            ("AWS::ApiGateway::RestApi" | "AWS::Serverless::Api", "RestApiId") => {
                logical.to_owned()
            }
            ("AWS::Cognito::UserPoolClient", "ClientId") => logical.to_owned(),
            _ => return Err(self.no_attribute(logical, attribute)),
        };
        Ok(value.into())
    }

    fn no_attribute(&self, logical: &str, attribute: &str) -> String {
        format!(
            "Fn::GetAtt {logical}.{attribute}: {} has this attribute only once the stack is \
             deployed; replace it with a parameter and pass --parameter-overrides",
            self.type_of(logical)
        )
    }

    /// `Fn::Sub`'s text with `${...}` replaced.
    fn substitute(
        &self,
        text: &str,
        variables: Option<&Map<String, Value>>,
        path: &mut Vec<String>,
    ) -> Result<String, String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("Fn::Sub {text:?}: unterminated ${{"))?;
            let name = after[..end].trim();
            rest = &after[end + 1..];
            // `${!Literal}` is the text `${Literal}`.
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
                continue;
            }
            let value = match variables.and_then(|v| v.get(name)) {
                Some(v) => self.present(v, path, "Fn::Sub")?,
                None => match name.split_once('.') {
                    Some((resource, attribute)) if !self.pseudo.contains_key(name) => {
                        self.attribute(resource, attribute)?
                    }
                    _ => self
                        .reference(name)?
                        .ok_or_else(|| format!("Fn::Sub: ${{{name}}} is AWS::NoValue"))?,
                },
            };
            let text = scalar_text(&value)
                .ok_or_else(|| format!("Fn::Sub: ${{{name}}} is {}, not a string", kind(&value)))?;
            out.push_str(&text);
        }
        out.push_str(rest);
        Ok(out)
    }

    /// A named condition's value.
    pub(crate) fn condition(&self, name: &str) -> Result<bool, String> {
        if let Some(&v) = self.condition_values.borrow().get(name) {
            return Ok(v);
        }
        let definition = self
            .conditions
            .and_then(|c| c.get(name))
            .ok_or_else(|| format!("the template has no condition {name}"))?;
        let value = self.hop(format!("condition {name}"), || {
            let mut path = Vec::new();
            self.truth(definition, &mut path)
                .map_err(|e| format!("condition {name}: {e}"))
        })?;
        self.condition_values
            .borrow_mut()
            .insert(name.to_owned(), value);
        Ok(value)
    }

    /// A condition expression's value.
    fn truth(&self, value: &Value, path: &mut Vec<String>) -> Result<bool, String> {
        if let Some(name) = value
            .as_object()
            .filter(|m| m.len() == 1)
            .and_then(|m| m.get("Condition"))
        {
            let name = name
                .as_str()
                .ok_or("Condition: expected a condition name")?;
            return self.condition(name);
        }
        match self.present(value, path, "condition")? {
            Value::Bool(b) => Ok(b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
            other => Err(format!("expected a condition, found {}", kind(&other))),
        }
    }

    fn truth_of(
        &self,
        function: &str,
        arg: &Value,
        path: &mut Vec<String>,
    ) -> Result<bool, String> {
        match function {
            "Fn::Equals" => {
                let args = Self::args(function, arg, 2..=2)?;
                let a = self.present(&args[0], path, function)?;
                let b = self.present(&args[1], path, function)?;
                Ok(match (scalar_text(&a), scalar_text(&b)) {
                    (Some(a), Some(b)) => a == b,
                    _ => a == b,
                })
            }
            "Fn::Not" => {
                let args = Self::args(function, arg, 1..=1)?;
                Ok(!self.truth(&args[0], path)?)
            }
            "Fn::And" | "Fn::Or" => {
                let args = Self::args(function, arg, 2..=10)?;
                let mut values = Vec::with_capacity(args.len());
                for a in args {
                    values.push(self.truth(a, path)?);
                }
                Ok(if function == "Fn::And" {
                    values.iter().all(|&v| v)
                } else {
                    values.iter().any(|&v| v)
                })
            }
            _ => unreachable!("only condition functions"),
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
mod tests {
    use super::*;
    use serde_json::json;

    fn template() -> Value {
        json!({
            "Parameters": {
                "Env": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]},
                "Names": {"Type": "CommaDelimitedList", "Default": "a, b,c"},
                "NoDefault": {"Type": "String"},
                "FromSsm": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/app/pool"}
            },
            "Mappings": {"Stages": {"dev": {"Name": "development"}}},
            "Conditions": {
                "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
                "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
                "Both": {"Fn::And": [{"Condition": "NotProd"}, {"Fn::Equals": ["a", "a"]}]},
                "Loop1": {"Fn::Not": [{"Condition": "Loop2"}]},
                "Loop2": {"Fn::Not": [{"Condition": "Loop1"}]}
            },
            "Resources": {
                "Fn": {"Type": "AWS::Serverless::Function", "Properties": {"FunctionName": {"Fn::Sub": "${AWS::StackName}-fn"}}},
                "Plain": {"Type": "AWS::Lambda::Function", "Properties": {}},
                "Pool": {"Type": "AWS::Cognito::UserPool"},
                "Api": {"Type": "AWS::ApiGateway::RestApi"},
                "A": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": {"Fn::GetAtt": ["B", "Arn"]}}},
                "B": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": {"Ref": "A"}}},
                "Imported": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": {"Fn::ImportValue": "x"}}},
                "Live": {"Type": "AWS::Lambda::Alias", "Properties": {"FunctionName": {"Ref": "Plain"}, "Name": "live", "FunctionVersion": "1"}}
            }
        })
    }

    fn eval(t: &Value, overrides: &[(&str, &str)], v: Value) -> Result<Option<Value>, String> {
        let overrides: Vec<(String, String)> = overrides
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        Resolver::new(t, &overrides)?.resolve(&v, "here")
    }

    #[test]
    fn functions_resolve_to_their_offline_values() {
        let t = template();
        let ok = |v: Value| eval(&t, &[], v).unwrap().unwrap();
        assert_eq!(ok(json!({"Ref": "Env"})), "dev");
        assert_eq!(ok(json!({"Ref": "Names"})), json!(["a", "b", "c"]));
        assert_eq!(ok(json!({"Ref": "Fn"})), "local-fn");
        assert_eq!(ok(json!({"Ref": "Plain"})), "Plain");
        assert_eq!(
            ok(json!({"Fn::GetAtt": ["Plain", "Arn"]})),
            "arn:aws:lambda:us-east-1:123456789012:function:Plain"
        );
        assert_eq!(ok(json!({"Ref": "Pool"})), "us-east-1_Pool");
        assert_eq!(
            ok(json!({"Ref": "Live"})),
            "arn:aws:lambda:us-east-1:123456789012:function:Plain:live"
        );
        assert_eq!(
            ok(json!({"Fn::GetAtt": ["Pool", "Arn"]})),
            "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Pool"
        );
        assert_eq!(
            ok(json!({"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations ${!Literal}"})),
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:local-fn/invocations ${Literal}"
        );
        assert_eq!(
            ok(json!({"Fn::Sub": ["${X}/${Env}", {"X": {"Ref": "AWS::AccountId"}}]})),
            "123456789012/dev"
        );
        assert_eq!(
            ok(json!({"Fn::Join": ["-", [{"Ref": "Env"}, "x", 1]]})),
            "dev-x-1"
        );
        assert_eq!(
            ok(json!({"Fn::Select": ["1", {"Fn::Split": [",", "p,q,r"]}]})),
            "q"
        );
        assert_eq!(
            ok(json!({"Fn::FindInMap": ["Stages", {"Ref": "Env"}, "Name"]})),
            "development"
        );
        assert_eq!(ok(json!({"Fn::If": ["IsProd", "p", "d"]})), "d");
        assert_eq!(ok(json!({"Fn::If": ["Both", "yes", "no"]})), "yes");
        assert_eq!(
            ok(
                json!({"a": {"Fn::If": ["IsProd", 1, {"Ref": "AWS::NoValue"}]}, "b": [1, {"Ref": "AWS::NoValue"}]})
            ),
            json!({"b": [1]})
        );
        assert_eq!(ok(json!({"Fn::Base64": "hi"})), "aGk=");
        assert_eq!(
            eval(
                &t,
                &[("Env", "prod"), ("AWS::Region", "eu-west-1")],
                json!({"Fn::Sub": "${Env} ${Pool}"})
            )
            .unwrap()
            .unwrap(),
            "prod eu-west-1_Pool"
        );
        assert_eq!(
            eval(
                &t,
                &[("AWS::Region", "cn-north-1")],
                json!({"Ref": "AWS::Partition"})
            )
            .unwrap()
            .unwrap(),
            "aws-cn"
        );
    }

    #[test]
    fn what_has_no_offline_value_is_refused_with_where() {
        let t = template();
        let err = |o: &[(&str, &str)], v: Value| eval(&t, o, v).unwrap_err();
        assert!(err(&[], json!({"x": {"Ref": "NoDefault"}}))
            .starts_with("here.x: parameter NoDefault has no Default"));
        assert!(err(&[], json!({"Ref": "FromSsm"})).contains("Systems Manager"));
        assert_eq!(
            eval(&t, &[("FromSsm", "v")], json!({"Ref": "FromSsm"}))
                .unwrap()
                .unwrap(),
            "v"
        );
        assert!(err(&[], json!({"Fn::ImportValue": "x"})).contains("Fn::ImportValue has no value"));
        assert!(err(&[], json!({"Ref": "Imported"})).contains(
            "resource Imported (AWS::Lambda::Function), property FunctionName: Fn::ImportValue"
        ));
        assert!(err(&[], json!({"Fn::GetAtt": ["Api", "Arn"]}))
            .contains("only once the stack is deployed"));
        assert!(err(&[], json!({"Ref": "Nothing"})).contains("no parameter or resource Nothing"));
        assert!(err(&[("Env", "staging")], json!(1)).contains("AllowedValues"));
        assert!(err(&[("Typo", "1")], json!(1)).contains("--parameter-overrides Typo"));
        assert!(err(&[], json!({"Fn::Select": [5, ["a"]]})).contains("index 5"));
        assert!(err(&[], json!({"Fn::Bogus": 1})).contains("unknown intrinsic"));
    }

    #[test]
    fn cycles_are_refused_not_followed() {
        let t = template();
        let e = eval(&t, &[], json!({"Ref": "A"})).unwrap_err();
        assert!(e.contains("circular reference"), "{e}");
        let e = eval(&t, &[], json!({"Fn::If": ["Loop1", 1, 2]})).unwrap_err();
        assert!(e.contains("circular reference"), "{e}");
        // A long chain stops at the bound, without recursing further.
        let mut resources = Map::new();
        for i in 0..200 {
            resources.insert(
                format!("F{i}"),
                json!({"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": {"Ref": format!("F{}", i + 1)}}}),
            );
        }
        let t = json!({"Resources": resources});
        let e = eval(&t, &[], json!({"Ref": "F0"})).unwrap_err();
        assert!(e.contains("nested deeper"), "{e}");
    }

    /// As deep as the loader lets a template be, at every hop: refused on a
    /// test thread's stack (2 MiB, a worker's), not overflowing it.
    #[test]
    fn deep_values_at_every_hop_stay_within_a_worker_stack() {
        let text = {
            let mut resources = String::from("Resources:\n");
            for i in 0..40 {
                let mut value = format!("{{\"Ref\": \"F{}\"}}", i + 1);
                for _ in 0..40 {
                    value = format!("{{\"Fn::Join\": [\"\", [{value}]]}}");
                }
                resources.push_str(&format!(
                    "  F{i}:\n    Type: AWS::Lambda::Function\n    Properties:\n      FunctionName: {value}\n"
                ));
            }
            resources
        };
        let t = super::super::yaml::load(&text).unwrap();
        let e = eval(&t, &[], json!({"Ref": "F0"})).unwrap_err();
        assert!(e.contains("values nested deeper than 256"), "{e}");
    }
}
