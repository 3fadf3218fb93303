//! Parsing a JWKS document into verification keys.

use crate::crypto::VerifyKey;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, KeyAlgorithm, PublicKeyUse};
use std::sync::Arc;

/// One usable key, with the components it was parsed from so that an unchanged
/// key is not parsed again on refresh.
#[derive(Debug)]
pub(crate) struct KeyEntry {
    pub(crate) key: VerifyKey,
    n: Box<str>,
    e: Box<str>,
}

/// The usable keys of one JWKS document, by `kid`.
pub(crate) type KeyMap = std::collections::HashMap<Box<str>, Arc<KeyEntry>>;

/// Result of parsing a document: the keys, and how many entries were skipped.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) keys: KeyMap,
    pub(crate) skipped: usize,
}

/// Parses `{"keys":[...]}`, keeping only RSA signing keys usable with RS256 of
/// 2048 to 8192 bits. Entries that are not such keys are skipped, not fatal, so
/// one odd key cannot take a pool's other keys down. `previous` lends keys whose
/// components are unchanged.
pub(crate) fn parse(body: &[u8], previous: Option<&KeyMap>) -> Result<Parsed, String> {
    #[derive(serde::Deserialize)]
    struct Doc {
        keys: Vec<serde_json::Value>,
    }
    let doc: Doc = serde_json::from_slice(body).map_err(|e| format!("not a JWKS document: {e}"))?;
    let mut keys = KeyMap::with_capacity(doc.keys.len());
    let mut skipped = 0;
    for value in doc.keys {
        match usable(value, previous) {
            Some((kid, entry)) if !keys.contains_key(&kid) => {
                keys.insert(kid, entry);
            }
            // A duplicate kid keeps the first: which one the issuer means is unknowable.
            _ => skipped += 1,
        }
    }
    if keys.is_empty() {
        return Err(format!(
            "no usable RS256 keys in the document ({skipped} skipped)"
        ));
    }
    Ok(Parsed { keys, skipped })
}

fn usable(
    value: serde_json::Value,
    previous: Option<&KeyMap>,
) -> Option<(Box<str>, Arc<KeyEntry>)> {
    let jwk: Jwk = serde_json::from_value(value).ok()?;
    if !matches!(
        jwk.common.public_key_use,
        None | Some(PublicKeyUse::Signature)
    ) {
        return None;
    }
    if !matches!(jwk.common.key_algorithm, None | Some(KeyAlgorithm::RS256)) {
        return None;
    }
    let kid: Box<str> = jwk.common.key_id?.into();
    if kid.is_empty() {
        return None;
    }
    let AlgorithmParameters::RSA(rsa) = jwk.algorithm else {
        return None;
    };
    if let Some(old) = previous.and_then(|p| p.get(&kid)) {
        if *old.n == *rsa.n && *old.e == *rsa.e {
            return Some((kid, Arc::clone(old)));
        }
    }
    let n = URL_SAFE_NO_PAD.decode(rsa.n.as_bytes()).ok()?;
    let e = URL_SAFE_NO_PAD.decode(rsa.e.as_bytes()).ok()?;
    let key = VerifyKey::from_components(&n, &e).ok()?;
    Some((
        kid,
        Arc::new(KeyEntry {
            key,
            n: rsa.n.into(),
            e: rsa.e.into(),
        }),
    ))
}
