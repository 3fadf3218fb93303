//! The entries held in memory: token families and users, with their expiry.

use super::Revocation;
use crate::claims::CognitoClaims;
use std::collections::HashMap;

/// A user revocation: tokens with `auth_time` before `before` are refused
/// until `until`.
#[derive(Debug, Clone, Copy)]
pub(super) struct UserEntry {
    pub(super) before: i64,
    pub(super) until: i64,
}

pub(super) struct Maps {
    /// `origin_jti` (or `jti`) → until.
    pub(super) families: HashMap<Box<str>, i64>,
    /// Pool ID → `sub` → entry.
    pub(super) users: HashMap<Box<str>, HashMap<Box<str>, UserEntry>>,
    users_len: usize,
    /// The earliest expiry held (or later): nothing to sweep before it.
    pub(super) earliest: i64,
}

impl Default for Maps {
    fn default() -> Self {
        Self {
            families: HashMap::new(),
            users: HashMap::new(),
            users_len: 0,
            earliest: i64::MAX,
        }
    }
}

impl Maps {
    /// Adds an entry; whether anything changed (a new entry or a later time).
    pub(super) fn apply(&mut self, revocation: &Revocation, now: i64) -> bool {
        if revocation.expires_at() <= now {
            return false;
        }
        self.earliest = self.earliest.min(revocation.expires_at());
        match revocation {
            Revocation::Family { id, until } => match self.families.get_mut(id.as_str()) {
                Some(slot) if *slot >= *until => false,
                Some(slot) => {
                    *slot = *until;
                    true
                }
                None => {
                    self.families.insert(id.as_str().into(), *until);
                    true
                }
            },
            Revocation::User {
                pool,
                sub,
                before,
                until,
            } => {
                let subs = self.users.entry(pool.as_str().into()).or_default();
                match subs.get_mut(sub.as_str()) {
                    Some(e) if e.before >= *before && e.until >= *until => false,
                    Some(e) => {
                        e.before = e.before.max(*before);
                        e.until = e.until.max(*until);
                        true
                    }
                    None => {
                        subs.insert(
                            sub.as_str().into(),
                            UserEntry {
                                before: *before,
                                until: *until,
                            },
                        );
                        self.users_len += 1;
                        true
                    }
                }
            }
        }
    }

    /// Drops expired entries, when the earliest expiry has passed (so a
    /// sweep with nothing to drop costs one comparison).
    pub(super) fn sweep(&mut self, now: i64) -> bool {
        if now < self.earliest {
            return false;
        }
        let before = self.len();
        let mut earliest = i64::MAX;
        self.families.retain(|_, until| {
            let keep = *until > now;
            if keep {
                earliest = earliest.min(*until);
            }
            keep
        });
        let mut users_len = 0;
        self.users.retain(|_, subs| {
            subs.retain(|_, e| {
                let keep = e.until > now;
                if keep {
                    earliest = earliest.min(e.until);
                }
                keep
            });
            users_len += subs.len();
            !subs.is_empty()
        });
        self.users_len = users_len;
        self.earliest = earliest;
        self.len() != before
    }

    pub(super) fn len(&self) -> usize {
        self.families.len() + self.users_len
    }

    pub(super) fn revoked(&self, claims: &CognitoClaims, now: i64) -> bool {
        let keys = claims.revocation_keys();
        if let Some(family) = keys.family {
            if self.families.get(family).is_some_and(|&until| until > now) {
                return true;
            }
        }
        let (Some(pool), Some(sub)) = (keys.pool, keys.sub) else {
            return false;
        };
        let Some(entry) = self.users.get(pool).and_then(|subs| subs.get(sub)) else {
            return false;
        };
        entry.until > now && keys.auth_time.is_none_or(|t| t < entry.before)
    }
}
