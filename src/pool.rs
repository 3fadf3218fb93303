//! User pool identifiers: parsing ARNs and pool IDs, deriving issuer and JWKS URLs.

use crate::error::ConfigError;

/// The default base of issuer and JWKS URLs for a region.
pub(crate) fn default_base(region: &str) -> String {
    format!("https://cognito-idp.{region}.amazonaws.com")
}

/// A Cognito user pool, as named in an authorizer's `providerARNs`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct UserPool {
    /// `{region}_{id}`; for emulators `{prefix}_{alphanumerics}`.
    pub(crate) id: Box<str>,
    /// The region (the part of the ID before `_`).
    pub(crate) region: Box<str>,
}

fn invalid(value: &str, reason: &'static str) -> ConfigError {
    ConfigError::InvalidUserPool {
        value: value.to_owned(),
        reason,
    }
}

/// `us-east-1`, `us-gov-west-1`, `cn-north-1`, `eu-central-2`...
fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts.len() <= 5
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

impl UserPool {
    /// Parses an ARN (`arn:aws:cognito-idp:{region}:{account}:userpool/{id}`) or a
    /// bare pool ID. `lenient` accepts emulator IDs (`local_abc12345`).
    pub(crate) fn parse(value: &str, lenient: bool) -> Result<Self, ConfigError> {
        let value = value.trim();
        if value.starts_with("arn:") {
            Self::from_arn(value, lenient)
        } else {
            Self::from_id(value, lenient, value)
        }
    }

    fn from_id(id: &str, lenient: bool, shown: &str) -> Result<Self, ConfigError> {
        let (prefix, rest) = id
            .split_once('_')
            .ok_or_else(|| invalid(shown, "a pool ID has the form {region}_{id}"))?;
        if rest.is_empty() || rest.len() > 64 || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(invalid(
                shown,
                "the part after '_' must be 1 to 64 ASCII letters and digits",
            ));
        }
        if lenient {
            if prefix.is_empty()
                || prefix.len() > 32
                || !prefix
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                return Err(invalid(
                    shown,
                    "the prefix before '_' must be letters, digits or '-'",
                ));
            }
        } else if !is_region(prefix) {
            return Err(invalid(
                shown,
                "the part before '_' must be an AWS region such as us-east-1",
            ));
        }
        Ok(Self {
            id: id.into(),
            region: prefix.into(),
        })
    }

    fn from_arn(arn: &str, lenient: bool) -> Result<Self, ConfigError> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        if parts.len() != 6 {
            return Err(invalid(arn, "an ARN has six ':'-separated fields"));
        }
        let (partition, service, region, account, resource) =
            (parts[1], parts[2], parts[3], parts[4], parts[5]);
        if !matches!(partition, "aws" | "aws-cn" | "aws-us-gov") && !lenient {
            return Err(invalid(arn, "unknown partition (aws, aws-cn, aws-us-gov)"));
        }
        if service != "cognito-idp" {
            return Err(invalid(arn, "the service must be cognito-idp"));
        }
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(arn, "the account must be 12 digits"));
        }
        let id = resource
            .strip_prefix("userpool/")
            .ok_or_else(|| invalid(arn, "the resource must be userpool/{userPoolId}"))?;
        let pool = Self::from_id(id, lenient, arn)?;
        if !lenient && *pool.region != *region {
            return Err(invalid(arn, "the ARN's region differs from the pool ID's"));
        }
        Ok(pool)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ids_and_arns() {
        let p = UserPool::parse("us-east-1_AbC123xyz", false).unwrap();
        assert_eq!(&*p.id, "us-east-1_AbC123xyz");
        assert_eq!(&*p.region, "us-east-1");
        let p = UserPool::parse(
            "arn:aws:cognito-idp:us-gov-west-1:123456789012:userpool/us-gov-west-1_abc",
            false,
        )
        .unwrap();
        assert_eq!(&*p.region, "us-gov-west-1");
        assert_eq!(&*p.id, "us-gov-west-1_abc");
    }

    #[test]
    fn rejects_malformed_naming_the_value() {
        for bad in [
            "",
            "us-east-1",
            "us-east-1_",
            "useast1_abc",
            "us-east-1_ab/c",
            "local_abc12345",
            "arn:aws:cognito-idp:us-east-1:123:userpool/us-east-1_abc",
            "arn:aws:s3:us-east-1:123456789012:userpool/us-east-1_abc",
            "arn:aws:cognito-idp:us-east-1:123456789012:pool/us-east-1_abc",
            "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/us-east-1_abc",
        ] {
            let err = UserPool::parse(bad, false).unwrap_err();
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn lenient_accepts_emulator_ids() {
        assert_eq!(
            &*UserPool::parse("local_abc12345", true).unwrap().region,
            "local"
        );
        let moto = "us-east-1_0123456789abcdef0123456789abcdef";
        assert_eq!(&*UserPool::parse(moto, true).unwrap().id, moto);
        assert!(UserPool::parse("local_", true).is_err());
        assert!(UserPool::parse("lo cal_abc", true).is_err());
    }
}
