use super::*;
use serde_json::json;

fn claims(v: serde_json::Value) -> CognitoClaims {
    CognitoClaims::from_json(v).unwrap()
}

const POOL: &str = "us-east-1_AbCdEf123";
const FUTURE: i64 = 4_102_444_800;

fn token(family: Option<&str>, jti: &str, sub: &str, auth_time: Option<i64>) -> CognitoClaims {
    let mut v = json!({
        "token_use": "access", "exp": FUTURE, "sub": sub, "jti": jti,
        "iss": format!("https://cognito-idp.us-east-1.amazonaws.com/{POOL}"),
    });
    if let Some(f) = family {
        v["origin_jti"] = json!(f);
    }
    if let Some(t) = auth_time {
        v["auth_time"] = json!(t);
    }
    claims(v)
}

#[test]
fn a_family_covers_every_token_with_its_origin_jti() {
    let list = RevocationList::new();
    let a = token(Some("fam"), "t1", "u1", Some(100));
    let b = token(Some("fam"), "t2", "u1", Some(100));
    let other = token(Some("other"), "t3", "u1", Some(100));
    let own = token(None, "solo", "u2", Some(100));
    list.revoke(Revocation::family("fam", FUTURE));
    assert!(list.is_revoked(&a) && list.is_revoked(&b));
    assert!(!list.is_revoked(&other));
    assert!(!list.is_revoked(&own));
    // A token without origin_jti is its own family, by jti.
    list.revoke(Revocation::family("solo", FUTURE));
    assert!(list.is_revoked(&own));
    // origin_jti wins over jti: revoking a member's jti is not its family.
    list.revoke(Revocation::family("t3", FUTURE));
    assert!(!list.is_revoked(&other));
}

#[test]
fn a_user_revocation_covers_earlier_sign_ins_only() {
    let list = RevocationList::new();
    let at = unix_now() - 100;
    let old = token(Some("f1"), "t1", "u1", Some(at - 1));
    let refreshed = token(Some("f1"), "t2", "u1", Some(at - 1));
    let new = token(Some("f2"), "t3", "u1", Some(at));
    let other_user = token(Some("f3"), "t4", "u2", Some(at - 1));
    let no_auth_time = token(Some("f4"), "t5", "u1", None);
    list.revoke(Revocation::user(POOL, "u1", at));
    assert!(list.is_revoked(&old) && list.is_revoked(&refreshed));
    assert!(
        !list.is_revoked(&new),
        "auth_time == before is a new sign-in"
    );
    assert!(!list.is_revoked(&other_user));
    assert!(
        list.is_revoked(&no_auth_time),
        "fail closed without auth_time"
    );
    // Another pool's user with the same sub is not covered.
    let list = RevocationList::new();
    list.revoke(Revocation::user("us-east-1_Other", "u1", at));
    assert!(!list.is_revoked(&old));
    // An ARN names the pool too.
    list.revoke(Revocation::user(
        format!("arn:aws:cognito-idp:us-east-1:123456789012:userpool/{POOL}"),
        "u1",
        at,
    ));
    assert!(list.is_revoked(&old));
}

#[test]
fn entries_expire_on_their_own() {
    let list = RevocationList::new();
    let now = unix_now();
    let t = token(Some("fam"), "t1", "u1", Some(now - 10));
    // Expired on arrival: not held, revokes nothing.
    list.revoke(Revocation::family("fam", now - 1));
    list.revoke(Revocation::user_with_lifetime(
        POOL,
        "u1",
        now - 5,
        Duration::from_secs(4),
    ));
    assert_eq!(list.len(), 0);
    assert!(!list.is_revoked(&t));
    // Held while their time has not passed, ignored once it has, then swept.
    list.revoke(Revocation::family("fam", now + 1));
    assert!(list.is_revoked(&t));
    assert!(!list.lookup(&t, now + 1));
    let mut maps = list.write();
    assert!(!maps.sweep(now), "nothing expired yet");
    assert!(maps.sweep(now + 1));
    assert_eq!(maps.len(), 0);
    assert_eq!(maps.earliest, i64::MAX);
    drop(maps);
    // A user entry: before + lifetime.
    let r = Revocation::user_with_lifetime(POOL, "u1", now, Duration::from_secs(60));
    assert_eq!(r.expires_at(), now + 60);
    list.revoke(r);
    assert!(list.lookup(&t, now + 59));
    assert!(!list.lookup(&t, now + 60));
    assert_eq!(Revocation::user(POOL, "u", 10).expires_at(), 10 + 86_400);
}

#[test]
fn the_later_time_wins() {
    let list = RevocationList::new();
    list.revoke(Revocation::family("fam", FUTURE));
    list.revoke(Revocation::family("fam", unix_now() + 5));
    assert_eq!(list.write().families["fam"], FUTURE);
    list.revoke(Revocation::user(POOL, "u1", 2_000_000_000));
    list.revoke(Revocation::user(POOL, "u1", 1_999_000_000));
    let entry = list.write().users[POOL]["u1"];
    assert_eq!(entry.before, 2_000_000_000);
    assert_eq!(list.len(), 2);
}

#[test]
fn the_memo_never_hides_a_new_revocation() {
    let list = RevocationList::new();
    let t = token(Some("fam"), "t1", "u1", Some(100));
    let now = unix_now();
    assert_eq!(list.check(&t, now), Ok(()));
    // Found not revoked in this state: remembered.
    assert_eq!(
        t.revocation_memo().load(Ordering::Relaxed),
        list.shared.generation.load(Ordering::Relaxed)
    );
    list.revoke(Revocation::family("fam", FUTURE));
    assert_eq!(list.check(&t, now), Err(Refusal::Revoked));
    assert_eq!(list.check(&t, now), Err(Refusal::Revoked));
    // Another list's state never matches this one's memo.
    let other = RevocationList::new();
    assert_eq!(other.check(&t, now), Ok(()));
    assert_eq!(list.check(&t, now), Err(Refusal::Revoked));
}

#[test]
fn a_synced_list_refuses_until_loaded_and_deny_refuses_while_stale() {
    let sync = |on_outage| Sync {
        on_outage,
        loaded: AtomicBool::new(false),
        healthy: AtomicBool::new(false),
        last_ok: AtomicI64::new(0),
        stale_after: 10,
        loaded_notify: tokio::sync::Notify::new(),
    };
    let t = token(Some("fam"), "t1", "u1", Some(100));
    let now = unix_now();
    for mode in [OnOutage::Serve, OnOutage::Deny] {
        let list = RevocationList::with_sync(Some(sync(mode)));
        assert_eq!(list.check(&t, now), Err(Refusal::Unavailable));
        assert!(!list.status().loaded);
        let s = list.shared.sync.as_ref().unwrap();
        s.loaded.store(true, Ordering::Release);
        s.healthy.store(true, Ordering::Release);
        s.last_ok.store(now, Ordering::Release);
        assert_eq!(list.check(&t, now), Ok(()));
        assert!(list.status().fresh);
        // Store away: Serve keeps serving, Deny refuses.
        s.healthy.store(false, Ordering::Release);
        let expected = if mode == OnOutage::Deny {
            Err(Refusal::Unavailable)
        } else {
            Ok(())
        };
        assert_eq!(list.check(&t, now), expected);
        assert!(!list.status().fresh);
        // Healthy but the last reconcile too long ago: stale as well.
        s.healthy.store(true, Ordering::Release);
        assert_eq!(list.check(&t, now + 11), expected);
        assert_eq!(list.check(&t, now + 10), Ok(()));
    }
}

#[test]
fn store_json_round_trips_and_refuses_junk() {
    for r in [Revocation::family("f", 10), Revocation::user(POOL, "s", 20)] {
        assert_eq!(Revocation::from_json(&r.to_json()).unwrap(), r);
    }
    assert_eq!(
        Revocation::family("f", 10).to_json(),
        r#"{"kind":"family","id":"f","until":10}"#
    );
    for junk in [
        "",
        "{}",
        r#"{"kind":"family","id":"","until":10}"#,
        r#"{"kind":"family","id":"f","until":"10"}"#,
        r#"{"kind":"user","pool":"p","sub":"s","before":1}"#,
        r#"{"kind":"other","id":"f","until":10}"#,
        r#"{"kind":"family","id":"f","until":10,"extra":1}"#,
    ] {
        assert!(Revocation::from_json(junk).is_err(), "{junk}");
    }
}
