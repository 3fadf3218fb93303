//! The RS256 verifier, parsed once per key.
//!
//! With `aws-lc-rs` (the default) the key is held as a pre-parsed aws-lc key, so
//! a verification does no key parsing at all. With `rust-crypto` alone, the key
//! goes through jsonwebtoken's RustCrypto provider, named explicitly so the
//! process-wide provider choice never matters here.

#[cfg(not(any(feature = "aws-lc-rs", feature = "rust-crypto")))]
compile_error!(
    "tower-cognito needs a crypto backend: enable the `aws-lc-rs` (default) or `rust-crypto` feature"
);

/// A verified-usable RSA public key.
pub(crate) struct VerifyKey {
    #[cfg(feature = "aws-lc-rs")]
    key: aws_lc_rs::signature::ParsedPublicKey,
    // jsonwebtoken's verifiers are neither Send nor Sync, so the key is kept as
    // components and a verifier made per call: slower, the price of this backend.
    #[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
    key: jsonwebtoken::DecodingKey,
    bits: usize,
}

impl std::fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyKey")
            .field("bits", &self.bits)
            .finish()
    }
}

/// Bit length of a big-endian unsigned integer.
fn bit_len(bytes: &[u8]) -> usize {
    let trimmed: &[u8] = match bytes.iter().position(|&b| b != 0) {
        Some(i) => &bytes[i..],
        None => return 0,
    };
    trimmed.len() * 8 - trimmed[0].leading_zeros() as usize
}

impl VerifyKey {
    /// Builds a key from the modulus and exponent, refusing keys shorter than
    /// 2048 or longer than 8192 bits.
    pub(crate) fn from_components(n: &[u8], e: &[u8]) -> Result<Self, &'static str> {
        let bits = bit_len(n);
        if bits < 2048 {
            return Err("modulus shorter than 2048 bits");
        }
        if bits > 8192 {
            return Err("modulus longer than 8192 bits");
        }
        let e_bits = bit_len(e);
        if !(2..=33).contains(&e_bits) || e.last().is_some_and(|b| b & 1 == 0) {
            return Err("unusable public exponent");
        }
        #[cfg(feature = "aws-lc-rs")]
        {
            use aws_lc_rs::signature::{RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};
            let key = RsaPublicKeyComponents { n, e }
                .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
                .map_err(|_| "invalid RSA public key")?;
            Ok(Self { key, bits })
        }
        #[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
        {
            let key = jsonwebtoken::DecodingKey::from_rsa_raw_components(n, e);
            (jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.verifier_factory)(
                &jsonwebtoken::Algorithm::RS256,
                &key,
            )
            .map_err(|_| "invalid RSA public key")?;
            Ok(Self { key, bits })
        }
        #[cfg(not(any(feature = "aws-lc-rs", feature = "rust-crypto")))]
        {
            let _ = (n, e, bits);
            Err("no crypto backend")
        }
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message`.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        #[cfg(feature = "aws-lc-rs")]
        {
            self.key.verify_sig(message, signature).is_ok()
        }
        #[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
        {
            (jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.verifier_factory)(
                &jsonwebtoken::Algorithm::RS256,
                &self.key,
            )
            .is_ok_and(|v| v.verify(message, &signature.to_vec()).is_ok())
        }
        #[cfg(not(any(feature = "aws-lc-rs", feature = "rust-crypto")))]
        {
            let _ = (message, signature);
            false
        }
    }
}

/// Makes this crate's backend jsonwebtoken's process default unless one is
/// installed already, so other jsonwebtoken users in the process do not hit its
/// "could not determine the provider" panic when both backend features are on.
pub(crate) fn install_jsonwebtoken_provider() {
    #[cfg(feature = "aws-lc-rs")]
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
    #[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
    let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_length() {
        assert_eq!(bit_len(&[0, 0, 1]), 1);
        assert_eq!(bit_len(&[0x80, 0]), 16);
        assert_eq!(bit_len(&[]), 0);
    }

    #[test]
    fn refuses_short_and_odd_keys() {
        assert!(VerifyKey::from_components(&[0xff; 128], &[1, 0, 1]).is_err());
        assert!(VerifyKey::from_components(&[0xff; 256], &[2]).is_err());
    }
}
