//! `cognito-gateway revoke`: writes one revocation to the list the gateways
//! started with `--redis` share, which announces it to them.

use std::io::Read as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tower_cognito::revocation::{Revocation, RevocationStore, StoreError};

use crate::cli::RevokeArgs;

/// Why `revoke` failed: bad arguments (exit status 2) or Redis (1).
#[derive(Debug)]
pub(crate) enum Failure {
    Usage(String),
    Store(String),
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The revocation the arguments ask for.
fn revocation(args: &RevokeArgs) -> Result<Revocation, Failure> {
    let usage = Failure::Usage;
    if let Some(token) = &args.token {
        let token = if token == "-" {
            let mut text = String::new();
            std::io::stdin()
                .take(64 * 1024)
                .read_to_string(&mut text)
                .map_err(|e| usage(format!("reading the token from stdin: {e}")))?;
            text
        } else {
            token.clone()
        };
        return Revocation::of_token(&token).map_err(|e| usage(format!("--token: {e}")));
    }
    if let (Some(id), Some(until)) = (&args.origin_jti, args.until) {
        if id.trim().is_empty() {
            return Err(usage("--origin-jti: empty".into()));
        }
        return Ok(Revocation::family(id.trim(), until));
    }
    if let (Some(pool), Some(sub)) = (&args.pool, &args.sub) {
        if pool.trim().is_empty() || sub.trim().is_empty() {
            return Err(usage("--pool and --sub must not be empty".into()));
        }
        // `auth_time` has whole seconds: a sign-in earlier in this very
        // second cannot be told from a later one, so this second is covered.
        let before = args.before.unwrap_or_else(|| now() + 1);
        return Ok(Revocation::user_with_lifetime(
            pool.trim(),
            sub.trim(),
            before,
            Duration::from_secs(args.max_token_lifetime),
        ));
    }
    Err(usage(
        "give --token, --origin-jti with --until, or --pool with --sub".into(),
    ))
}

/// Writes it; the message says what was revoked.
pub(crate) async fn run(args: RevokeArgs) -> Result<String, Failure> {
    let revocation = revocation(&args)?;
    let store =
        RevocationStore::connect_with(&args.redis, &args.key_prefix, Duration::from_secs(3))
            .await
            .map_err(|e| match e {
                StoreError::InvalidUrl(m) => Failure::Usage(format!("--redis: {m}")),
                other => Failure::Store(other.to_string()),
            })?;
    let written = store
        .revoke(&revocation)
        .await
        .map_err(|e| Failure::Store(e.to_string()))?;
    if written {
        Ok(format!("revoked {}", revocation.describe()))
    } else {
        Ok(format!(
            "nothing to revoke: {} has already expired (no token it covers is still valid)",
            revocation.describe()
        ))
    }
}
