//! The settings a deployment is built from: the command line checked, and the
//! stage variables file read on each (re)load.

use super::*;

impl Settings {
    pub(crate) fn from_args(args: &ServeArgs) -> Result<Self, String> {
        let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        let pools: Vec<String> = args
            .user_pools
            .iter()
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect();
        // Empty is meaningful here (it removes the document's Token
        // validation), and clap treats an empty variable as unset.
        let token_validation = args.token_validation.clone().or_else(|| {
            std::env::var("COGNITO_TOKEN_VALIDATION")
                .ok()
                .filter(|v| v.is_empty())
        });
        let token_cache = match args.token_cache.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("off") => Some(0),
            Some(n) => Some(n.parse::<usize>().map_err(|_| {
                format!("--token-cache / GATEWAY_TOKEN_CACHE={n:?}: expected off or a number")
            })?),
        };
        let template = args
            .template
            .as_ref()
            .filter(|p| !p.as_os_str().is_empty())
            .map(|path| {
                Ok::<_, String>(DocumentSource::Template(TemplateSource {
                    path: path.clone(),
                    overrides: sam::parse_overrides(&args.parameter_overrides)?,
                    api: nonempty(&args.template_api),
                }))
            })
            .transpose()?;
        Ok(Self {
            source: match (&args.openapi, template) {
                (_, Some(template)) => template,
                (Some(path), None) if !path.as_os_str().is_empty() => {
                    DocumentSource::File(path.clone())
                }
                _ => DocumentSource::Shipped,
            },
            stage_variables: args.stage_variables.clone(),
            stage: args.stage.clone(),
            pools: (!pools.is_empty()).then_some(pools),
            jwks_endpoint: nonempty(&args.jwks_endpoint),
            issuer_endpoint: nonempty(&args.issuer_endpoint),
            token_validation,
            allow_unsupported: args.allow_unsupported,
            refuse_unsupported_auth: args.refuse_unsupported_auth,
            strict: args.strict,
            auth: args.auth == Switch::On,
            echo: args.echo,
            token_cache,
            key_refresh: args.key_refresh_secs.map(Duration::from_secs),
            max_body_bytes: args.max_body_bytes,
            integration_bases: args.integration_bases.clone(),
            stage_variables_file: args.stage_variables_file.clone(),
            lambda_endpoint: nonempty(&args.lambda_endpoint),
            authorizer_timeout: Duration::from_millis(args.authorizer_timeout_ms),
            revocations: None,
        })
    }

    /// These settings with the stage variables file read now.
    pub(crate) fn with_file_variables(&self) -> Result<Self, String> {
        let Some(path) = &self.stage_variables_file else {
            return Ok(self.clone());
        };
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut out = self.clone();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, value) = line
                .split_once('=')
                .filter(|(name, _)| !name.trim().is_empty())
                .ok_or_else(|| format!("{}:{}: expected NAME=VALUE", path.display(), n + 1))?;
            out.stage_variables.retain(|(k, _)| k != name.trim());
            out.stage_variables
                .push((name.trim().to_owned(), value.trim().to_owned()));
        }
        Ok(out)
    }

    /// Whether anything points at a real deployment (so the dev issuer
    /// defaults to off).
    pub(crate) fn configured(&self) -> bool {
        matches!(
            self.source,
            DocumentSource::File(_) | DocumentSource::Template(_)
        ) || self.pools.is_some()
            || self.jwks_endpoint.is_some()
            || self.issuer_endpoint.is_some()
            || self.token_validation.is_some()
    }
}
