//! Ratios measured in pairs: the two sides of a ratio run in alternation
//! (A B B A, batches of about a millisecond each), and the ratio checked is the
//! median of the rounds' ratios.
//!
//! Criterion measures one benchmark after another, several seconds each; on a
//! shared machine whose speed drifts by a third within a minute, two medians
//! taken a minute apart differ by more than a budget's margin. Alternating the
//! sides within milliseconds puts both under the same load, and the ABBA order
//! cancels a drift within a round. Each side's calls are timed as criterion's
//! `BatchSize::PerIteration` times them: the per-call setup (building a
//! request) outside the clock.
//!
//! Under `cargo bench` (argument `--bench`) each pair runs for
//! `BENCH_PAIR_SECONDS` (default 3) and its result goes to
//! `<target>/criterion/paired/<name>.json` for `scripts/bench-report.py`.
//! Under `cargo test` one short round checks that the sides run.
//! `BENCH_PAIRS=text` runs only the pairs whose name contains `text`.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// One side of a ratio: runs `n` calls and returns the time they took.
pub(crate) type Side<'a> = &'a mut dyn FnMut(u64) -> Duration;

/// Times `n` calls of `routine`, each on a fresh `setup()` built off the clock.
pub(crate) fn per_call<I, O>(
    n: u64,
    mut setup: impl FnMut() -> I,
    mut routine: impl FnMut(I) -> O,
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..n {
        let input = setup();
        let start = Instant::now();
        let out = routine(input);
        total += start.elapsed();
        drop(black_box(out));
    }
    total
}

/// Times `n` calls of `routine` in one loop (no per-call setup).
pub(crate) fn looped<O>(n: u64, mut routine: impl FnMut() -> O) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        black_box(routine());
    }
    start.elapsed()
}

/// Whether this is a measuring run (`cargo bench`) rather than `cargo test`.
pub(crate) fn measuring() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// How many calls of `side` take about `target`.
fn calibrate(side: Side<'_>, target: Duration) -> u64 {
    let mut n = 1;
    loop {
        let t = side(n);
        if t >= target || n >= 1 << 24 {
            // Scale to the target from the last measurement.
            let per = t.as_secs_f64() / n as f64;
            return ((target.as_secs_f64() / per.max(1e-9)) as u64).max(1);
        }
        n *= 2;
    }
}

/// Measures `a / b` in alternating rounds, prints it, and (when measuring)
/// records it as `<target>/criterion/paired/<name>.json`.
pub(crate) fn ratio(name: &str, a: Side<'_>, b: Side<'_>) {
    if std::env::var("BENCH_PAIRS").is_ok_and(|only| !name.contains(&only)) {
        return;
    }
    if !measuring() {
        // `cargo test`: the sides run (their own checks included), untimed.
        a(2);
        b(2);
        return;
    }
    let seconds: f64 = std::env::var("BENCH_PAIR_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let batch = Duration::from_micros(1_000);
    // Warm-up, then batch sizes that take about a millisecond each.
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_millis(300) {
        a(16);
        b(16);
    }
    let (na, nb) = (calibrate(a, batch), calibrate(b, batch));
    let per = |t: Duration, n: u64| t.as_secs_f64() * 1e9 / n as f64;
    let (mut ratios, mut a_ns, mut b_ns) = (Vec::new(), Vec::new(), Vec::new());
    let start = Instant::now();
    while (start.elapsed().as_secs_f64() < seconds || ratios.len() < 20) && ratios.len() < 100_000 {
        let a1 = a(na);
        let b1 = b(nb);
        let b2 = b(nb);
        let a2 = a(na);
        let (ta, tb) = (per(a1 + a2, 2 * na), per(b1 + b2, 2 * nb));
        ratios.push(ta / tb);
        a_ns.push(ta);
        b_ns.push(tb);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let rounds = ratios.len();
    let m = median(&mut ratios);
    let (q1, q3) = (ratios[rounds / 4], ratios[rounds * 3 / 4]);
    let (ma, mb) = (median(&mut a_ns), median(&mut b_ns));
    println!(
        "paired {name}: {m:.4} (quartiles {q1:.4}..{q3:.4}, {rounds} rounds; \
         a {ma:.0} ns, b {mb:.0} ns per call)"
    );
    let dir = PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()))
        .join("criterion")
        .join("paired");
    std::fs::create_dir_all(&dir).expect("create the paired results directory");
    let json = format!(
        r#"{{"median":{m},"q1":{q1},"q3":{q3},"rounds":{rounds},"a_ns":{ma},"b_ns":{mb}}}"#
    );
    std::fs::write(dir.join(format!("{name}.json")), json).expect("write the paired result");
}
