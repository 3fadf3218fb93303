//! The documentation stays true: every link in README.md and docs/*.md leads
//! to a file of the repository, every docs page is reachable from the README,
//! and docs/gateway.md's flag table lists exactly the flags
//! `cognito-gateway --help` prints, each with the variable clap reads.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use support::process;

fn pages() -> Vec<String> {
    let root = process::workspace_root();
    let mut pages = vec!["README.md".to_owned()];
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/") {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".md") {
            pages.push(format!("docs/{name}"));
        }
    }
    pages.sort();
    pages
}

/// `](target)` links of a markdown text, anchors and URLs left out.
fn links(text: &str) -> Vec<String> {
    text.split("](")
        .skip(1)
        .filter_map(|rest| rest.split_once(')').map(|(target, _)| target))
        .map(|target| target.split('#').next().unwrap_or("").to_owned())
        .filter(|t| !t.is_empty() && !t.contains("://") && !t.contains(' '))
        .collect()
}

#[test]
fn every_link_leads_to_a_file_and_every_page_is_linked() {
    let root = process::workspace_root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for page in pages() {
        let text = std::fs::read_to_string(root.join(&page)).unwrap();
        let dir = Path::new(&page).parent().unwrap_or(Path::new(""));
        for target in links(&text) {
            assert!(
                root.join(dir).join(&target).exists(),
                "{page}: the link to {target} leads nowhere"
            );
        }
        if page != "README.md" {
            assert!(
                readme.contains(&format!("]({page})")),
                "README.md does not link {page}"
            );
        }
    }
}

#[test]
fn the_gateway_page_lists_every_flag_and_its_variable() {
    let mut command = process::command();
    command.arg("--help");
    let out = process::run(command, None, Duration::from_secs(30));
    assert!(out.status.success(), "{out:?}");
    let help = String::from_utf8_lossy(&out.stdout);
    // `--flag ...` options and the `[env: NAME=]` that follows each.
    let mut from_help = BTreeSet::new();
    let mut current: Option<String> = None;
    for line in help.lines() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("--").or_else(|| {
            trimmed
                .strip_prefix('-')
                .and_then(|r| r.split_once(", --").map(|(_, long)| long))
        }) {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if name != "help" && name != "version" {
                current = Some(name.clone());
                from_help.insert((name, None::<String>));
            }
        }
        if let (Some(flag), Some(env)) = (&current, line.split_once("[env: ")) {
            let var: String = env
                .1
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            from_help.remove(&(flag.clone(), None));
            from_help.insert((flag.clone(), Some(var)));
        }
    }
    let page = std::fs::read_to_string(process::workspace_root().join("docs/gateway.md")).unwrap();
    let mut from_page = BTreeSet::new();
    for line in page.lines().filter(|l| l.starts_with("| `--")) {
        let cells: Vec<&str> = line.split(" | ").collect();
        let flag: String = cells[0]
            .trim_start_matches("| `--")
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let var = cells.get(1).and_then(|c| c.strip_prefix('`')).map(|c| {
            c.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
        });
        from_page.insert((flag, var));
    }
    assert!(
        from_help.len() > 20,
        "parsed too few flags from --help:\n{help}"
    );
    let missing: Vec<_> = from_help.difference(&from_page).collect();
    let stale: Vec<_> = from_page.difference(&from_help).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "docs/gateway.md's flag table and --help differ:\n  not in the table: {missing:?}\n  not in --help: {stale:?}"
    );
}
