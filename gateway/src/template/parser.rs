//! Text, directives and references. The lexical rules are Velocity 1.7's
//! (`Parser.jjt`), including its whitespace rules:
//!
//! - a directive's closing `)` (`#set`, `#if`, `#elseif`, `#foreach`) and
//!   `#else` / `#end` eat the spaces, tabs and one newline after them;
//! - `#set` also eats the blanks before it when nothing but blanks stands
//!   between it and the previous token (a directive, reference, comment or
//!   the start of the template);
//! - `##` comments eat their newline;
//! - identifiers may hold `-` (`$context.authorizer.claims.custom-sub`).
//!
//! Expressions (inside parentheses and brackets) are in `expr.rs`.

use super::ast::*;
use super::error::{ErrorKind, TemplateError};

pub(crate) struct Parser<'s> {
    /// The whole template (for error positions).
    pub(crate) full: &'s str,
    /// What this parser reads: the template, or a double-quoted string
    /// inside it.
    pub(crate) src: &'s str,
    /// Offset of `src` in `full`.
    pub(crate) base: usize,
    pub(crate) pos: usize,
    pub(crate) vars: Vec<String>,
    pub(crate) loop_depth: u32,
    /// Nesting of blocks and expressions, bounded so that a hostile
    /// template cannot overflow the stack.
    pub(crate) depth: u32,
}

/// Deeper nesting of directives, expressions or strings is refused.
pub(crate) const MAX_DEPTH: u32 = 100;

/// How a block of nodes ended.
enum BlockEnd {
    Eof,
    End,
    Else,
    ElseIf(Expr),
}

pub(crate) type PResult<T> = Result<T, TemplateError>;

const UNSUPPORTED_DIRECTIVES: &[&str] = &["macro", "parse", "include", "evaluate", "define"];

impl<'s> Parser<'s> {
    pub(crate) fn new(src: &'s str) -> Self {
        Parser {
            full: src,
            src,
            base: 0,
            pos: 0,
            vars: Vec::new(),
            loop_depth: 0,
            depth: 0,
        }
    }

    pub(crate) fn err(&self, kind: ErrorKind, at: usize, msg: impl Into<String>) -> TemplateError {
        TemplateError::at(kind, self.full, self.base + at, msg)
    }

    pub(crate) fn abs(&self, at: usize) -> Pos {
        Pos(self.base + at)
    }

    pub(crate) fn rest(&self) -> &'s str {
        &self.src[self.pos..]
    }

    pub(crate) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub(crate) fn peek_at(&self, n: usize) -> Option<char> {
        self.rest().chars().nth(n)
    }

    pub(crate) fn eat(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    pub(crate) fn parse_template(mut self) -> PResult<(Vec<Node>, Vec<String>)> {
        let (nodes, end) = self.block()?;
        match end {
            BlockEnd::Eof => Ok((nodes, self.vars)),
            _ => unreachable!("block() reports a stray terminator itself at top level"),
        }
    }

    /// Parses a double-quoted string's contents as a template sharing this
    /// parser's variables.
    pub(crate) fn sub_template(&mut self, start: usize, content: &'s str) -> PResult<Vec<Node>> {
        let mut sub = Parser {
            full: self.full,
            src: content,
            base: self.base + start,
            pos: 0,
            vars: std::mem::take(&mut self.vars),
            loop_depth: self.loop_depth,
            depth: self.depth,
        };
        let result = sub.block();
        self.vars = sub.vars;
        match result? {
            (nodes, BlockEnd::Eof) => Ok(nodes),
            _ => unreachable!("block() reports a stray terminator itself at top level"),
        }
    }

    pub(crate) fn slot(&mut self, name: &str) -> usize {
        match self.vars.iter().position(|v| v == name) {
            Some(i) => i,
            None => {
                self.vars.push(name.to_owned());
                self.vars.len() - 1
            }
        }
    }

    fn block(&mut self) -> PResult<(Vec<Node>, BlockEnd)> {
        self.block_in(false)
    }

    pub(crate) fn deeper(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(
                ErrorKind::Unsupported,
                self.pos,
                format!("nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        Ok(())
    }

    fn block_in(&mut self, nested: bool) -> PResult<(Vec<Node>, BlockEnd)> {
        self.deeper()?;
        let r = self.block_inner(nested);
        self.depth -= 1;
        r
    }

    fn block_inner(&mut self, nested: bool) -> PResult<(Vec<Node>, BlockEnd)> {
        let mut nodes = Vec::new();
        let mut text = String::new();
        // Where the current lexer run of text began (see the module docs on #set).
        let mut run = 0;
        fn flush_text(nodes: &mut Vec<Node>, text: &mut String, run: &mut usize) {
            if !text.is_empty() {
                nodes.push(Node::Text(std::mem::take(text)));
            }
            *run = 0;
        }
        macro_rules! flush {
            () => {
                flush_text(&mut nodes, &mut text, &mut run)
            };
        }
        loop {
            let start = self.pos;
            let Some(c) = self.peek() else {
                flush!();
                return Ok((nodes, BlockEnd::Eof));
            };
            match c {
                '#' if self.eat("##") => {
                    match self.rest().find('\n') {
                        Some(i) => self.pos += i + 1,
                        None => self.pos = self.src.len(),
                    }
                    flush!();
                }
                '#' if self.eat("#*") => {
                    let i = self.rest().find("*#").ok_or_else(|| {
                        self.err(ErrorKind::Syntax, start, "unterminated #* comment")
                    })?;
                    self.pos += i + 2;
                    flush!();
                }
                '#' if self.eat("#[[") => {
                    let i = self.rest().find("]]#").ok_or_else(|| {
                        self.err(ErrorKind::Syntax, start, "unterminated #[[ text block")
                    })?;
                    text.push_str(&self.rest()[..i]);
                    self.pos += i + 3;
                    flush!();
                }
                '#' => {
                    self.pos += 1;
                    let braced = self.eat("{");
                    let word = self.word();
                    if word.is_empty() || (braced && !self.eat("}")) {
                        self.pos = start + 1;
                        text.push('#');
                        continue;
                    }
                    match word {
                        "set" => {
                            if text[run..].chars().all(|c| c == ' ' || c == '\t') {
                                text.truncate(run);
                            }
                            flush!();
                            nodes.push(self.set_directive(start)?);
                        }
                        "if" => {
                            flush!();
                            nodes.push(self.if_directive(start)?);
                        }
                        "foreach" => {
                            flush!();
                            nodes.push(self.foreach_directive(start)?);
                        }
                        "elseif" | "else" | "end" if nested => {
                            flush!();
                            let end = match word {
                                "end" => BlockEnd::End,
                                "else" => BlockEnd::Else,
                                _ => BlockEnd::ElseIf(self.paren_expr(start, "#elseif")?),
                            };
                            if word != "elseif" {
                                self.eat_line_end();
                            }
                            return Ok((nodes, end));
                        }
                        "elseif" | "else" | "end" => {
                            return Err(self.err(
                                ErrorKind::Syntax,
                                start,
                                format!("#{word} without an open #if or #foreach"),
                            ));
                        }
                        "break" if self.loop_depth == 0 => {
                            return Err(self.err(
                                ErrorKind::Unsupported,
                                start,
                                "#break outside #foreach is not supported",
                            ));
                        }
                        "break" => {
                            flush!();
                            nodes.push(Node::Break);
                        }
                        "stop" => {
                            flush!();
                            nodes.push(Node::Stop);
                        }
                        w if UNSUPPORTED_DIRECTIVES.contains(&w) => {
                            return Err(self.err(
                                ErrorKind::Unsupported,
                                start,
                                format!("#{w} is not supported"),
                            ));
                        }
                        w => {
                            let after = self.pos;
                            self.skip_ws();
                            if self.peek() == Some('(') {
                                return Err(self.err(
                                    ErrorKind::Unsupported,
                                    start,
                                    format!(
                                        "#{w} is not supported (no macros in mapping templates)"
                                    ),
                                ));
                            }
                            // Not a directive: plain text, as in Velocity.
                            self.pos = after;
                            text.push_str(&self.src[start..after]);
                        }
                    }
                }
                '$' => match self.reference()? {
                    Some(r) => {
                        flush!();
                        nodes.push(Node::Ref(r));
                    }
                    None => {
                        self.pos = start + 1;
                        text.push('$');
                    }
                },
                '\\' => {
                    let slashes = self.rest().len() - self.rest().trim_start_matches('\\').len();
                    if matches!(self.peek_at(slashes), Some('$' | '#')) {
                        return Err(self.err(
                            ErrorKind::Unsupported,
                            start,
                            "escaped references and directives (\\$, \\#) are not supported",
                        ));
                    }
                    self.pos += slashes;
                    text.push_str(&self.src[start..self.pos]);
                    run = text.len();
                }
                c => {
                    self.pos += c.len_utf8();
                    text.push(c);
                }
            }
        }
    }

    /// A directive or Velocity identifier: `[A-Za-z_][A-Za-z0-9_]*`.
    pub(crate) fn word(&mut self) -> &'s str {
        let r = self.rest();
        let mut end = 0;
        for (i, c) in r.char_indices() {
            let ok = if i == 0 {
                c.is_ascii_alphabetic() || c == '_'
            } else {
                c.is_ascii_alphanumeric() || c == '_'
            };
            if !ok {
                break;
            }
            end = i + 1;
        }
        self.pos += end;
        &r[..end]
    }

    /// A reference identifier; Velocity 1.7 allows `-` after the first
    /// character.
    pub(crate) fn ident(&mut self) -> &'s str {
        let r = self.rest();
        let mut end = 0;
        for (i, c) in r.char_indices() {
            let ok = if i == 0 {
                c.is_ascii_alphabetic() || c == '_'
            } else {
                c.is_ascii_alphanumeric() || c == '_' || c == '-'
            };
            if !ok {
                break;
            }
            end = i + 1;
        }
        self.pos += end;
        &r[..end]
    }

    pub(crate) fn skip_ws(&mut self) {
        let r = self.rest();
        self.pos += r.len() - r.trim_start_matches([' ', '\t', '\r', '\n']).len();
    }

    /// After `)`, `#else` or `#end`: blanks and one newline, if a newline
    /// follows the blanks.
    fn eat_line_end(&mut self) {
        let r = self.rest();
        let blanks = r.len() - r.trim_start_matches([' ', '\t']).len();
        let after = &r[blanks..];
        for nl in ["\r\n", "\n", "\r"] {
            if after.starts_with(nl) {
                self.pos += blanks + nl.len();
                return;
            }
        }
    }

    fn expect_close(&mut self, start: usize, what: &str) -> PResult<()> {
        self.skip_ws();
        if !self.eat(")") {
            return Err(self.err(ErrorKind::Syntax, start, format!("{what}: expected `)`")));
        }
        self.eat_line_end();
        Ok(())
    }

    fn open_paren(&mut self, start: usize, what: &str) -> PResult<()> {
        self.skip_ws();
        if !self.eat("(") {
            return Err(self.err(ErrorKind::Syntax, start, format!("{what}: expected `(`")));
        }
        Ok(())
    }

    fn paren_expr(&mut self, start: usize, what: &str) -> PResult<Expr> {
        self.open_paren(start, what)?;
        let e = self.expr()?;
        self.expect_close(start, what)?;
        Ok(e)
    }

    fn set_directive(&mut self, start: usize) -> PResult<Node> {
        self.open_paren(start, "#set")?;
        self.skip_ws();
        let at = self.pos;
        let target = match self.reference()? {
            Some(r) => self.set_target(at, r)?,
            None => {
                return Err(self.err(ErrorKind::Syntax, at, "#set: expected a $reference"));
            }
        };
        self.skip_ws();
        if !self.eat("=") {
            return Err(self.err(ErrorKind::Syntax, start, "#set: expected `=`"));
        }
        let value = self.expr()?;
        self.expect_close(start, "#set")?;
        Ok(Node::Set(target, value, self.abs(start)))
    }

    fn set_target(&self, at: usize, r: Reference) -> PResult<SetTarget> {
        let mut chain = r.chain;
        match (r.root, chain.len()) {
            (Root::Var(slot), 0) => Ok(SetTarget::Var(slot)),
            (Root::Context(ContextPath::Override(slot, name)), 0) => {
                Ok(SetTarget::Override(slot, name))
            }
            (Root::Context(ContextPath::OverrideMap(slot)), 1)
                if matches!(chain.first(), Some(Modifier::Index(_))) =>
            {
                match chain.pop() {
                    Some(Modifier::Index(name)) => Ok(SetTarget::OverrideKey(slot, name)),
                    _ => Err(self.err(ErrorKind::Syntax, at, "#set: expected `[name]`")),
                }
            }
            (Root::Context(ContextPath::Status), 0) => Ok(SetTarget::Status),
            _ => Err(self.err(
                ErrorKind::Unsupported,
                at,
                "#set can assign a variable or $context.requestOverride.* / $context.responseOverride.*, nothing else",
            )),
        }
    }

    fn if_directive(&mut self, start: usize) -> PResult<Node> {
        let mut cond = self.paren_expr(start, "#if")?;
        let mut branches = Vec::new();
        loop {
            let (body, end) = self.block_in(true)?;
            branches.push((cond, body));
            match end {
                BlockEnd::End => return Ok(Node::If(branches, None)),
                BlockEnd::ElseIf(c) => cond = c,
                BlockEnd::Else => {
                    let (body, end) = self.block_in(true)?;
                    return match end {
                        BlockEnd::End => Ok(Node::If(branches, Some(body))),
                        _ => Err(self.err(
                            ErrorKind::Syntax,
                            start,
                            "#if: expected #end after #else",
                        )),
                    };
                }
                BlockEnd::Eof => {
                    return Err(self.err(ErrorKind::Syntax, start, "#if without #end"))
                }
            }
        }
    }

    fn foreach_directive(&mut self, start: usize) -> PResult<Node> {
        self.open_paren(start, "#foreach")?;
        self.skip_ws();
        let at = self.pos;
        let var = match self.reference()? {
            Some(Reference {
                root: Root::Var(slot),
                chain,
                ..
            }) if chain.is_empty() => slot,
            _ => return Err(self.err(ErrorKind::Syntax, at, "#foreach: expected a $variable")),
        };
        self.skip_ws();
        if self.word() != "in" {
            return Err(self.err(ErrorKind::Syntax, start, "#foreach: expected `in`"));
        }
        let iterable = self.expr()?;
        self.expect_close(start, "#foreach")?;
        self.loop_depth += 1;
        let result = self.block_in(true);
        self.loop_depth -= 1;
        match result? {
            (body, BlockEnd::End) => Ok(Node::Foreach(Box::new(Foreach {
                var,
                iterable,
                body,
                pos: self.abs(start),
            }))),
            (_, BlockEnd::Eof) => Err(self.err(ErrorKind::Syntax, start, "#foreach without #end")),
            _ => Err(self.err(ErrorKind::Syntax, start, "#else inside #foreach")),
        }
    }
}
