//! `Ref` and `Fn::GetAtt`: parameters, pseudo parameters and resources to their
//! physical ids, ARNs and attributes, each hop counted.

use super::*;

impl<'t> Resolver<'t> {
    /// `Ref name`.
    pub(super) fn reference(&self, name: &str) -> Result<Option<Value>, String> {
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
    pub(super) fn hop<T>(
        &self,
        what: String,
        f: impl FnOnce() -> Result<T, String>,
    ) -> Result<T, String> {
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
    pub(super) fn alias_arn(&self, logical: &str) -> Result<String, String> {
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

    pub(super) fn attribute(&self, logical: &str, attribute: &str) -> Result<Value, String> {
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

    pub(super) fn no_attribute(&self, logical: &str, attribute: &str) -> String {
        format!(
            "Fn::GetAtt {logical}.{attribute}: {} has this attribute only once the stack is \
             deployed; replace it with a parameter and pass --parameter-overrides",
            self.type_of(logical)
        )
    }
}
