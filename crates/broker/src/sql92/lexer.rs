//! Tokens of Apache's SQL92 selector grammar (`SelectorParser.jj`): case-insensitive keywords,
//! decimal and floating-point literals, `'quoted'` strings with `''` for a quote, identifiers
//! of letters, digits, `_` and `$`, `--` and `/* */` comments.

use super::Sql92Error;

/// One token and the column (1-based, in characters) where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token {
    pub kind: Kind,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Kind {
    Not,
    And,
    Or,
    Between,
    In,
    Is,
    True,
    False,
    Null,
    Contains,
    StartsWith,
    EndsWith,
    /// A decimal literal as written, without its `L` suffix.
    Decimal(String),
    /// A floating-point literal as written.
    Float(String),
    Str(String),
    Id(String),
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    LParen,
    RParen,
    Comma,
    Plus,
    Minus,
    End,
}

impl Kind {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Kind::Decimal(s) | Kind::Float(s) => s.clone(),
            Kind::Str(s) => format!("'{}'", s.replace('\'', "''")),
            Kind::Id(s) => s.clone(),
            Kind::End => "the end of the expression".into(),
            other => format!("{other:?}").to_uppercase(),
        }
    }
}

fn keyword(word: &str) -> Option<Kind> {
    Some(match word.to_ascii_uppercase().as_str() {
        "NOT" => Kind::Not,
        "AND" => Kind::And,
        "OR" => Kind::Or,
        "BETWEEN" => Kind::Between,
        "IN" => Kind::In,
        "IS" => Kind::Is,
        "TRUE" => Kind::True,
        "FALSE" => Kind::False,
        "NULL" => Kind::Null,
        "CONTAINS" => Kind::Contains,
        "STARTSWITH" => Kind::StartsWith,
        "ENDSWITH" => Kind::EndsWith,
        _ => return None,
    })
}

/// Splits `text` into tokens, ending with [`Kind::End`].
pub(super) fn tokenize(text: &str) -> Result<Vec<Token>, Sql92Error> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        let at = |kind| Token { kind, column };
        if matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{c}') {
            i += 1;
        } else if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' && chars[i] != '\r' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            let close = (i + 2..chars.len().saturating_sub(1))
                .find(|&j| chars[j] == '*' && chars[j + 1] == '/')
                .ok_or_else(|| Sql92Error::new(column, "a /* comment is not closed"))?;
            i = close + 2;
        } else if c == '\'' {
            let mut s = String::new();
            let mut j = i + 1;
            loop {
                match chars.get(j) {
                    None => return Err(Sql92Error::new(column, "a string literal is not closed")),
                    Some('\'') if chars.get(j + 1) == Some(&'\'') => {
                        s.push('\'');
                        j += 2;
                    }
                    Some('\'') => break,
                    Some(&ch) => {
                        s.push(ch);
                        j += 1;
                    }
                }
            }
            out.push(at(Kind::Str(s)));
            i = j + 1;
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let (kind, end) = number(&chars, i);
            out.push(at(kind));
            i = end;
        } else if c.is_ascii_alphabetic() || c == '_' || c == '$' {
            let mut j = i;
            while j < chars.len()
                && (chars[j].is_ascii_alphanumeric() || chars[j] == '_' || chars[j] == '$')
            {
                j += 1;
            }
            let word: String = chars[i..j].iter().collect();
            out.push(at(keyword(&word).unwrap_or(Kind::Id(word))));
            i = j;
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let (kind, len) = match (two.as_str(), c) {
                ("<>", _) => (Kind::Ne, 2),
                (">=", _) => (Kind::Ge, 2),
                ("<=", _) => (Kind::Le, 2),
                (_, '=') => (Kind::Eq, 1),
                (_, '>') => (Kind::Gt, 1),
                (_, '<') => (Kind::Lt, 1),
                (_, '(') => (Kind::LParen, 1),
                (_, ')') => (Kind::RParen, 1),
                (_, ',') => (Kind::Comma, 1),
                (_, '+') => (Kind::Plus, 1),
                (_, '-') => (Kind::Minus, 1),
                _ => {
                    return Err(Sql92Error::new(
                        column,
                        format!("unexpected character {c:?}"),
                    ))
                }
            };
            out.push(at(kind));
            i += len;
        }
    }
    out.push(Token {
        kind: Kind::End,
        column: chars.len() + 1,
    });
    Ok(out)
}

/// A number starting at `i`: `0`, `[1-9][0-9]*[lL]?`, or a floating-point literal (`5.5`, `5.`,
/// `.5`, `5E10`, each with an optional exponent). Returns the token and where it ends.
fn number(chars: &[char], i: usize) -> (Kind, usize) {
    let digits_from = |mut j: usize| {
        while j < chars.len() && chars[j].is_ascii_digit() {
            j += 1;
        }
        j
    };
    let exponent_from = |j: usize| -> Option<usize> {
        if !matches!(chars.get(j), Some('e' | 'E')) {
            return None;
        }
        let mut k = j + 1;
        if matches!(chars.get(k), Some('+' | '-')) {
            k += 1;
        }
        let end = digits_from(k);
        (end > k).then_some(end)
    };
    let text = |from: usize, to: usize| chars[from..to].iter().collect::<String>();
    let int_end = digits_from(i);
    if chars.get(int_end) == Some(&'.') {
        let frac_end = digits_from(int_end + 1);
        let end = exponent_from(frac_end).unwrap_or(frac_end);
        return (Kind::Float(text(i, end)), end);
    }
    if let Some(end) = exponent_from(int_end) {
        return (Kind::Float(text(i, end)), end);
    }
    // A decimal literal is `0` alone or starts with 1-9: `020` is `0` then `20`.
    let end = if chars[i] == '0' { i + 1 } else { int_end };
    if chars[i] != '0' && matches!(chars.get(end), Some('l' | 'L')) {
        return (Kind::Decimal(text(i, end)), end + 1);
    }
    (Kind::Decimal(text(i, end)), end)
}
