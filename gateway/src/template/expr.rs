//! References (`$a.b(c)[d]`) and the expressions of directives and method
//! arguments, with Velocity 1.7's precedence: `||` < `&&` < `==` `!=` <
//! `<` `<=` `>` `>=` < `+` `-` < `*` `/` `%` < `!`.

use super::ast::*;
use super::error::ErrorKind;
use super::parser::{PResult, Parser};

impl Parser<'_> {
    /// At `$`: a reference, or `None` when the `$` is plain text.
    pub(crate) fn reference(&mut self) -> PResult<Option<Reference>> {
        let start = self.pos;
        if !self.eat("$") {
            return Ok(None);
        }
        self.eat("!");
        let formal = self.eat("{");
        let name = self.ident();
        if name.is_empty() {
            self.pos = start;
            return Ok(None);
        }
        let mut chain = Vec::new();
        loop {
            let here = self.pos;
            if self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_alphabetic())
            {
                self.pos += 1;
                let m = self.ident();
                if self.peek() == Some('(') {
                    self.pos += 1;
                    let method = Method::from_name(m).ok_or_else(|| {
                        let what = if chain.is_empty() && matches!(name, "util" | "input") {
                            format!("${name}.{m} is not supported")
                        } else {
                            format!("method {m}() is not supported")
                        };
                        self.err(ErrorKind::Unsupported, here + 1, what)
                    })?;
                    let args = self.args(here)?;
                    if !method.arity().contains(&args.len()) {
                        return Err(self.err(
                            ErrorKind::Syntax,
                            here + 1,
                            format!(
                                "{m}() takes {:?} argument(s), not {}",
                                method.arity(),
                                args.len()
                            ),
                        ));
                    }
                    chain.push(Modifier::Method(method, args));
                } else {
                    chain.push(Modifier::Property(m.to_owned()));
                }
            } else if self.peek() == Some('[') {
                self.pos += 1;
                let index = self.expr()?;
                self.skip_ws();
                if !self.eat("]") {
                    return Err(self.err(ErrorKind::Syntax, here, "expected `]`"));
                }
                chain.push(Modifier::Index(index));
            } else {
                break;
            }
        }
        if formal && !self.eat("}") {
            return Err(self.err(ErrorKind::Syntax, start, "`${` without its `}`"));
        }
        self.resolve(start, name, chain).map(Some)
    }

    fn args(&mut self, at: usize) -> PResult<Vec<Expr>> {
        let mut args = Vec::new();
        self.skip_ws();
        if self.eat(")") {
            return Ok(args);
        }
        loop {
            args.push(self.expr()?);
            self.skip_ws();
            if self.eat(")") {
                return Ok(args);
            }
            if !self.eat(",") {
                return Err(self.err(ErrorKind::Syntax, at, "method call: expected `,` or `)`"));
            }
        }
    }

    pub(crate) fn expr(&mut self) -> PResult<Expr> {
        self.deeper()?;
        let e = self.binary(0);
        self.depth -= 1;
        e
    }

    fn binary(&mut self, level: usize) -> PResult<Expr> {
        const LEVELS: &[&[(&str, BinOp)]] = &[
            &[("||", BinOp::Or), ("or", BinOp::Or)],
            &[("&&", BinOp::And), ("and", BinOp::And)],
            &[
                ("==", BinOp::Eq),
                ("!=", BinOp::Ne),
                ("eq", BinOp::Eq),
                ("ne", BinOp::Ne),
            ],
            &[
                ("<=", BinOp::Le),
                (">=", BinOp::Ge),
                ("<", BinOp::Lt),
                (">", BinOp::Gt),
                ("le", BinOp::Le),
                ("ge", BinOp::Ge),
                ("lt", BinOp::Lt),
                ("gt", BinOp::Gt),
            ],
            &[("+", BinOp::Add), ("-", BinOp::Sub)],
            &[("*", BinOp::Mul), ("/", BinOp::Div), ("%", BinOp::Mod)],
        ];
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut lhs = self.binary(level + 1)?;
        // A chain `a + b + c ...` nests to the left: bound it like any nesting.
        let mut chain = 0;
        'outer: loop {
            self.skip_ws();
            for (tok, op) in LEVELS[level] {
                if self.at_operator(tok) {
                    self.pos += tok.len();
                    let rhs = self.binary(level + 1)?;
                    lhs = Expr::Binary(*op, Box::new(lhs), Box::new(rhs));
                    chain += 1;
                    if chain > super::parser::MAX_DEPTH {
                        return Err(self.err(
                            ErrorKind::Unsupported,
                            self.pos,
                            "too many operators in one expression",
                        ));
                    }
                    continue 'outer;
                }
            }
            return Ok(lhs);
        }
    }

    /// Word operators (`and`, `eq`...) must stand alone; `!=` is not `!`.
    fn at_operator(&self, tok: &str) -> bool {
        let r = self.rest();
        if !r.starts_with(tok) {
            return false;
        }
        let next = r[tok.len()..].chars().next();
        if tok.chars().all(|c| c.is_ascii_alphabetic()) {
            return !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        }
        !(tok == "=" && next == Some('='))
    }

    fn unary(&mut self) -> PResult<Expr> {
        self.skip_ws();
        let not = if self.rest().starts_with('!') && !self.rest().starts_with("!=") {
            1
        } else if self.at_operator("not") {
            3
        } else {
            0
        };
        if not > 0 {
            self.pos += not;
            self.deeper()?;
            let e = self.unary();
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(e?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> PResult<Expr> {
        self.skip_ws();
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Err(self.err(ErrorKind::Syntax, start, "expected an expression"));
        };
        match c {
            '(' => {
                self.pos += 1;
                let e = self.expr()?;
                self.skip_ws();
                if !self.eat(")") {
                    return Err(self.err(ErrorKind::Syntax, start, "expected `)`"));
                }
                Ok(e)
            }
            '$' => match self.reference()? {
                Some(r) => Ok(Expr::Ref(Box::new(r))),
                None => Err(self.err(ErrorKind::Syntax, start, "expected a reference after `$`")),
            },
            '"' | '\'' => self.string(c),
            '[' => self.list(start),
            '{' => self.map(start),
            c if c.is_ascii_digit()
                || (c == '-' && self.peek_at(1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                self.number(start)
            }
            _ => match self.word() {
                "true" => Ok(Expr::Bool(true)),
                "false" => Ok(Expr::Bool(false)),
                "" => Err(self.err(ErrorKind::Syntax, start, format!("unexpected `{c}`"))),
                w => Err(self.err(ErrorKind::Syntax, start, format!("unexpected `{w}`"))),
            },
        }
    }

    fn number(&mut self, start: usize) -> PResult<Expr> {
        self.eat("-");
        let digits = |p: &mut Self| {
            let r = p.rest();
            p.pos += r.len() - r.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        };
        digits(self);
        let mut float = false;
        // `1..3` is a range, not `1.` then `.3`.
        if self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
            digits(self);
            float = true;
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            let save = self.pos;
            self.pos += 1;
            let _ = self.eat("+") || self.eat("-");
            let before = self.pos;
            digits(self);
            if self.pos == before {
                self.pos = save;
            } else {
                float = true;
            }
        }
        let text = &self.src[start..self.pos];
        let bad = |p: &Self| p.err(ErrorKind::Syntax, start, format!("bad number `{text}`"));
        if float {
            text.parse().map(Expr::Float).map_err(|_| bad(self))
        } else {
            text.parse().map(Expr::Int).map_err(|_| bad(self))
        }
    }

    /// `'...'` is literal; `"..."` is a template when it holds `$` or `#`.
    /// A doubled quote stands for one; backslashes stay as written. Both as
    /// AWS renders them: `"{""a"": 2}"` is `{"a": 2}`, and AWS's own
    /// `replaceAll("\\'","'")` example relies on the backslashes.
    fn string(&mut self, quote: char) -> PResult<Expr> {
        let start = self.pos;
        self.pos += 1;
        let body_start = self.pos;
        let r = self.rest();
        let mut content = String::new();
        let mut chars = r.char_indices().peekable();
        let end = loop {
            match chars.next() {
                None => return Err(self.err(ErrorKind::Syntax, start, "unterminated string")),
                Some((i, c)) if c == quote => {
                    if chars.peek().is_some_and(|(_, n)| *n == quote) {
                        chars.next();
                        content.push(quote);
                    } else {
                        break i;
                    }
                }
                Some((_, c)) => content.push(c),
            }
        };
        let raw = &r[..end];
        self.pos += end + 1;
        if quote == '"' && content.contains(['$', '#']) {
            if raw.len() != content.len() {
                return Err(self.err(
                    ErrorKind::Unsupported,
                    start,
                    "doubled quotes inside an interpolated string are not supported",
                ));
            }
            let mut nodes = self.sub_template(body_start, raw)?;
            // `"$.a"` holds a `$` but no reference: it stays a literal (and
            // so a JSONPath checked at parse time).
            return Ok(match nodes.as_mut_slice() {
                [] => Expr::Str(String::new()),
                [Node::Text(t)] => Expr::Str(std::mem::take(t)),
                _ => Expr::Interpolated(nodes),
            });
        }
        Ok(Expr::Str(content))
    }

    fn list(&mut self, start: usize) -> PResult<Expr> {
        self.pos += 1;
        self.skip_ws();
        if self.eat("]") {
            return Ok(Expr::List(Vec::new()));
        }
        let first = self.expr()?;
        self.skip_ws();
        if self.eat("..") {
            let last = self.expr()?;
            self.skip_ws();
            if !self.eat("]") {
                return Err(self.err(ErrorKind::Syntax, start, "range: expected `]`"));
            }
            return Ok(Expr::Range(Box::new(first), Box::new(last)));
        }
        let mut items = vec![first];
        loop {
            self.skip_ws();
            if self.eat("]") {
                return Ok(Expr::List(items));
            }
            if !self.eat(",") {
                return Err(self.err(ErrorKind::Syntax, start, "list: expected `,` or `]`"));
            }
            items.push(self.expr()?);
        }
    }

    fn map(&mut self, start: usize) -> PResult<Expr> {
        self.pos += 1;
        let mut entries = Vec::new();
        self.skip_ws();
        if self.eat("}") {
            return Ok(Expr::Map(entries));
        }
        loop {
            let k = self.expr()?;
            self.skip_ws();
            if !self.eat(":") {
                return Err(self.err(ErrorKind::Syntax, start, "map: expected `:`"));
            }
            let v = self.expr()?;
            entries.push((k, v));
            self.skip_ws();
            if self.eat("}") {
                return Ok(Expr::Map(entries));
            }
            if !self.eat(",") {
                return Err(self.err(ErrorKind::Syntax, start, "map: expected `,` or `}`"));
            }
        }
    }
}
