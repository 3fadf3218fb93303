//! JWKS parsing, through `KeyStore::insert_jwks` (the path fetched documents
//! take too, with the previous keys lent for reuse).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use std::time::Duration;
use tower_cognito::testing::TestIssuer;
use tower_cognito::CognitoAuthLayer;

const POOL: &str = "us-east-1_FuzzPool1";

struct Setup {
    _rt: tokio::runtime::Runtime,
    layer: CognitoAuthLayer,
    seed: String,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let seed = TestIssuer::new(POOL).jwks();
        let layer = rt.block_on(async {
            CognitoAuthLayer::builder()
                .user_pool(POOL)
                .jwks_endpoint("http://127.0.0.1:1")
                .jwks(POOL, seed.clone())
                .refresh_interval(Duration::MAX)
                .build()
                .unwrap()
        });
        Setup {
            _rt: rt,
            layer,
            seed,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = std::str::from_utf8(data) else {
        return;
    };
    let s = setup();
    let store = s.layer.key_store();
    let before = store.status();
    match store.insert_jwks(POOL, doc) {
        Ok(n) => {
            assert!(n >= 1);
            let after = store.status();
            assert_eq!(after.pools[0].keys, n);
            assert_eq!(after.pools[0].kids.len(), n);
            assert!(after.pools[0].kids.iter().all(|k| !k.is_empty()));
            // Back to the seed so that every input starts from the same keys.
            store.insert_jwks(POOL, &s.seed).unwrap();
        }
        Err(_) => {
            // A refused document changes nothing.
            let after = store.status();
            assert_eq!(after.pools[0].kids, before.pools[0].kids);
            assert_eq!(after.generation, before.generation);
        }
    }
});
