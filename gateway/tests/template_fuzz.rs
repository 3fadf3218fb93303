//! Arbitrary templates and payloads never make the engine panic: every
//! input parses or fails with a positioned error, and every parsed
//! template renders or fails with one.

use proptest::prelude::*;
use tower_cognito_gateway::template::{Context, Template};

/// Fragments of the dialect, so that random sequences reach deep into the
/// parser instead of stopping at the first character.
const PIECES: &[&str] = &[
    "$",
    "$!",
    "${",
    "}",
    "$a",
    "$x.y",
    ".",
    "(",
    ")",
    "[",
    "]",
    "{",
    ",",
    ":",
    "'",
    "\"",
    "\\",
    "#",
    "##",
    "#*",
    "*#",
    "#[[",
    "]]#",
    "#set(",
    "#if(",
    "#elseif(",
    "#else",
    "#end",
    "#foreach(",
    " in ",
    "#break",
    "#stop",
    "#{end}",
    "$input.json('$.a')",
    "$input.path('$..b')",
    "$input.params()",
    "$input.body",
    "$util.escapeJavaScript(",
    "$util.parseJson(",
    "$util.base64Decode(",
    "$util.urlDecode(",
    "$context.requestId",
    "$context.authorizer.claims['c']",
    "$stageVariables.s",
    "$foreach.hasNext",
    "$velocityCount",
    ".size()",
    ".get(0)",
    ".substring(1, 9)",
    ".replaceAll('[', 'x')",
    ".split('(')",
    " = ",
    " == ",
    " + ",
    " / ",
    "!",
    " && ",
    "1",
    "-2",
    "3.5",
    "[1..5]",
    "true",
    "\n",
    " ",
    "é",
    "x",
];

fn template() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..40).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn no_input_panics(src in template(), body in "[\\[\\]{}\":,a0-9 ]{0,40}") {
        let mut ctx = Context { body: &body, ..Context::default() };
        ctx.claims.insert("c", "v");
        match Template::parse(&src) {
            Ok(t) => {
                if let Err(e) = t.render(&ctx) {
                    prop_assert!(e.line() >= 1 && e.column() >= 1);
                }
            }
            Err(e) => prop_assert!(e.line() >= 1 && e.column() >= 1 && !e.message().is_empty()),
        }
    }

    #[test]
    fn arbitrary_text_never_panics(src in "\\PC{0,60}") {
        if let Ok(t) = Template::parse(&src) {
            let _ = t.render(&Context::default());
        }
    }
}
