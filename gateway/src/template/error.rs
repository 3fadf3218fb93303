//! [`TemplateError`]: what went wrong, and where in the template.

use std::fmt;

/// What kind of failure a [`TemplateError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The template is not valid VTL (parse time).
    Syntax,
    /// Valid Velocity, but outside API Gateway's dialect as this engine
    /// implements it: a macro, an unknown method or `$context` variable,
    /// a JSONPath filter... (parse time).
    Unsupported,
    /// `$input.json` / `$input.path` on a payload that is not JSON (render
    /// time); API Gateway answers such a request with 400.
    InvalidBody,
    /// Any other render-time failure: more than 1,000 `#foreach`
    /// iterations, bad base64 or URL encoding, a bad regular expression,
    /// `$util.parseJson` on text that is not JSON, text over 10 MiB, a
    /// JSONPath, `split` or the render's work past its bound (see [the
    /// limits](crate::template#limits)).
    Render,
}

/// A parse or render failure, with the 1-based line and column of the
/// construct at fault.
///
/// ```
/// use tower_cognito_gateway::template::{ErrorKind, Template};
///
/// let err = Template::parse("{\n  \"a\": #macro(m)#end\n}").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Unsupported);
/// assert_eq!((err.line(), err.column()), (2, 8));
/// assert_eq!(err.to_string(), "line 2, column 8: #macro is not supported");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    kind: ErrorKind,
    message: String,
    line: u32,
    column: u32,
}

impl TemplateError {
    pub(crate) fn at(
        kind: ErrorKind,
        src: &str,
        offset: usize,
        message: impl Into<String>,
    ) -> Self {
        let (line, column) = line_col(src, offset);
        TemplateError {
            kind,
            message: message.into(),
            line,
            column,
        }
    }

    /// The kind of failure.
    ///
    /// ```
    /// # use tower_cognito_gateway::template::{ErrorKind, Template};
    /// assert_eq!(Template::parse("#if(").unwrap_err().kind(), ErrorKind::Syntax);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The 1-based line of the construct at fault.
    ///
    /// ```
    /// # use tower_cognito_gateway::template::Template;
    /// assert_eq!(Template::parse("a\nb\n#end").unwrap_err().line(), 3);
    /// ```
    pub fn line(&self) -> u32 {
        self.line
    }

    /// The 1-based column (in characters) of the construct at fault.
    ///
    /// ```
    /// # use tower_cognito_gateway::template::Template;
    /// assert_eq!(Template::parse("ab #end").unwrap_err().column(), 4);
    /// ```
    pub fn column(&self) -> u32 {
        self.column
    }

    /// The message, without the position.
    ///
    /// ```
    /// # use tower_cognito_gateway::template::Template;
    /// let err = Template::parse("$util.toJson($x)").unwrap_err();
    /// assert_eq!(err.message(), "$util.toJson is not supported");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for TemplateError {}

fn line_col(src: &str, offset: usize) -> (u32, u32) {
    let mut end = offset.min(src.len());
    while !src.is_char_boundary(end) {
        end -= 1;
    }
    let before = &src[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}
