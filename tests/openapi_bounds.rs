//! Hostile OpenAPI documents are refused quickly and cheaply: each one within
//! 1 s and 100 MB. Time is measured around the call with no profiler running;
//! peak heap is measured by a second call under a counting allocator (which
//! slows allocation down, so it is not timed).

use std::time::{Duration, Instant};

use tower_cognito::openapi::{ImportError, ImportOptions, OpenApiImport};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const TIME_LIMIT: Duration = Duration::from_secs(1);
const MEMORY_LIMIT: usize = 100 * 1000 * 1000;

/// One anchor of 2,000 scalars aliased 8,000 times: about 30 KB of text that
/// expands to 16 million nodes. Within `serde_norway`'s own alias limit.
fn alias_bomb() -> String {
    let mut text = String::from("openapi: 3.0.1\nx-anchor: &a [");
    text.push_str(&"x,".repeat(2000));
    text.push_str("]\nx-uses: [");
    text.push_str(&"*a,".repeat(8000));
    text.push_str("]\npaths: {}\n");
    text
}

/// A million nested YAML flow sequences (1 MB).
fn deep_flow() -> String {
    format!("openapi: 3.0.1\npaths: {}\n", "[".repeat(1_000_000))
}

/// A million nested JSON objects (5 MB), which YAML would also read.
fn deep_json() -> String {
    format!(
        "{{\"openapi\": \"3.0.1\", \"paths\": {}",
        "{\"a\":".repeat(1_000_000)
    )
}

/// Imports `text`, checks that it is refused within the time and memory
/// limits, and returns the error.
fn refused(name: &str, text: &str) -> ImportError {
    let options = ImportOptions::new();
    let start = Instant::now();
    let result = OpenApiImport::parse(text, &options);
    let elapsed = start.elapsed();
    let err = match result {
        Err(e) => e,
        Ok(_) => panic!("{name}: imported"),
    };

    let profiler = dhat::Profiler::builder().testing().build();
    let before = dhat::HeapStats::get().curr_bytes;
    let again = OpenApiImport::parse(text, &options);
    let peak = dhat::HeapStats::get().max_bytes.saturating_sub(before);
    drop(again);
    drop(profiler);

    println!(
        "{name}: {} bytes refused in {elapsed:?}, peak heap {peak} bytes: {err}",
        text.len()
    );
    assert!(elapsed < TIME_LIMIT, "{name}: took {elapsed:?}");
    assert!(peak < MEMORY_LIMIT, "{name}: peak heap {peak} bytes");
    err
}

// The only test of this binary, so that one profiler runs at a time and no
// other test allocates meanwhile.
#[test]
fn hostile_documents_are_refused_within_1s_and_100mb() {
    let bomb = alias_bomb();
    assert!(bomb.len() < 32 * 1024, "{}", bomb.len());
    let err = refused("alias bomb", &bomb);
    assert_eq!(err.pointer(), "");
    assert!(err.message().contains("max_yaml_nodes"), "{err}");

    let err = refused("deep flow nesting", &deep_flow());
    assert!(err.message().contains("nested deeper than 128"), "{err}");

    let err = refused("deep JSON", &deep_json());
    assert!(err.message().starts_with("invalid JSON"), "{err}");
    assert!(err.message().contains("recursion limit"), "{err}");

    let big = format!("openapi: 3.0.1\npaths: {{}}\n#{}\n", " ".repeat(11 << 20));
    let err = refused("11 MiB document", &big);
    assert!(err.message().contains("max_document_bytes"), "{err}");
}
