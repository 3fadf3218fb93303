//! Memory per revocation held, measured with a counting allocator: 100,000
//! token families (UUID-sized IDs) and 100,000 users of one pool.

use tower_cognito::revocation::{Revocation, RevocationList};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const COUNT: usize = 100_000;
const UNTIL: i64 = 4_102_444_800;

fn live_bytes() -> usize {
    dhat::HeapStats::get().curr_bytes
}

#[test]
fn bytes_per_revocation() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let list = RevocationList::new();
    let base = live_bytes();
    // Each entry is made and dropped in turn: only what the list keeps counts.
    for i in 0..COUNT {
        list.revoke(Revocation::family(
            format!("{i:08x}-7f1a-4c8e-9d3b-5a6f7e8d9c0b"),
            UNTIL,
        ));
    }
    let after_families = live_bytes();
    for i in 0..COUNT {
        list.revoke(Revocation::user(
            "us-east-1_AbCdEf123",
            format!("{i:08x}-aaaa-bbbb-cccc-dddddddddddd"),
            UNTIL - 86_400,
        ));
    }
    let after_users = live_bytes();
    assert_eq!(list.len(), 2 * COUNT);
    let per_family = (after_families - base) as f64 / COUNT as f64;
    let per_user = (after_users - after_families) as f64 / COUNT as f64;
    println!("bytes per revocation: family {per_family:.0}, user {per_user:.0} (36-character IDs)");
    // The bounds BENCHMARKS.md and the docs state.
    assert!(per_family <= 128.0, "{per_family}");
    assert!(per_user <= 128.0, "{per_user}");
}
