//! Handing a store's keys to a new store for the same pools, so a
//! redeployment does not fetch them again.

use super::{jwks, KeyStore};

impl KeyStore {
    /// Takes over the keys another store holds for the same pools, so a new
    /// layer (a redeployment with other routes or authorizers) starts with the
    /// keys already fetched instead of fetching them again. A pool is taken
    /// over when both stores name it with the same issuer and JWKS URL and
    /// `from` has keys for it; pools this store already has keys for are left
    /// as they are. Returns the pool IDs taken over; [`load`](Self::load) then
    /// fetches only the others.
    ///
    /// ```
    /// # async fn demo(old: tower_cognito::CognitoAuthLayer, new: tower_cognito::CognitoAuthLayer) {
    /// let kept = new.key_store().adopt_keys(old.key_store());
    /// println!("keys kept for {kept:?}");
    /// if let Err(e) = new.key_store().load().await {
    ///     eprintln!("keys not ready: {e}");
    /// }
    /// # }
    /// ```
    pub fn adopt_keys(&self, from: &KeyStore) -> Vec<String> {
        let mut adopted = Vec::new();
        for entry in self.inner.pools.iter() {
            if entry.keys.load().loaded {
                continue;
            }
            let Some(source) = from.inner.pools.iter().find(|p| {
                p.pool_id == entry.pool_id
                    && p.issuer == entry.issuer
                    && p.jwks_url == entry.jwks_url
            }) else {
                continue;
            };
            let keys = source.keys.load();
            if !keys.loaded {
                continue;
            }
            let (skipped, fetched) = {
                let st = source.status.lock().unwrap_or_else(|e| e.into_inner());
                (st.skipped, st.last_success)
            };
            self.inner.install(
                entry,
                jwks::Parsed {
                    keys: keys.keys.clone(),
                    skipped,
                },
            );
            // When the keys were fetched, not when they were handed over.
            entry
                .status
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .last_success = fetched;
            adopted.push(entry.pool_id.to_string());
        }
        adopted
    }
}
