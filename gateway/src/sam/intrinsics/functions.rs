//! The intrinsic functions (`Fn::Sub`, `Fn::Join`, `Fn::If`, `Fn::Select`...)
//! and conditions, evaluated by the resolver.

use super::*;

impl<'t> Resolver<'t> {
    pub(super) fn function(
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

    /// `Fn::Sub`'s text with `${...}` replaced.
    pub(super) fn substitute(
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
    pub(super) fn truth(&self, value: &Value, path: &mut Vec<String>) -> Result<bool, String> {
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

    pub(super) fn truth_of(
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
