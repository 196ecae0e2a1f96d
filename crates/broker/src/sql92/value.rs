//! Values of an SQL92 evaluation and how Apache's evaluator compares them
//! (`ComparisonExpression.__compare` with string conversion on, as its parser sets it): a
//! message property is a string, converted to the type of what it is compared with (a whole
//! number literal that fits in 32 bits reads the property as a Java `int`, a larger one as a
//! `long`, a decimal literal as a `double`, `TRUE`/`FALSE` as a boolean). A property that does
//! not convert makes the whole evaluation fail, and the message does not match.

use std::cmp::Ordering;

/// A value during evaluation; strings borrow from the expression or the message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Value<'a> {
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    Double(f64),
    Str(&'a str),
}

/// Why an evaluation failed (Apache logs it and does not deliver the message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum EvalError {
    #[error("{0:?} is not a number of the type it is compared with")]
    NotANumber(String),
    #[error("{0:?} and {1:?} are strings that are not numbers, and cannot be ordered")]
    StringsOrdered(String, String),
    #[error("a boolean literal cannot be compared with a string")]
    BoolWithString,
}

/// Java's `Integer.valueOf` / `Long.valueOf`: optional sign, decimal digits, in range.
fn parse_int<T: std::str::FromStr>(s: &str) -> Result<T, EvalError> {
    s.parse().map_err(|_| EvalError::NotANumber(s.to_owned()))
}

/// Java's `Double.valueOf`: surrounding blanks ignored, an optional `f`/`d` suffix, `NaN` and
/// `Infinity`; not Rust's `inf`/`nan` spellings.
pub(super) fn parse_double(s: &str) -> Result<f64, EvalError> {
    let fail = || EvalError::NotANumber(s.to_owned());
    let t = s.trim_matches(|c: char| c <= ' ');
    let (sign, body) = match t.strip_prefix('-') {
        Some(b) => (-1.0, b),
        None => (1.0, t.strip_prefix('+').unwrap_or(t)),
    };
    match body {
        "NaN" => return Ok(f64::NAN),
        "Infinity" => return Ok(sign * f64::INFINITY),
        _ => {}
    }
    let body = body
        .strip_suffix(['f', 'F', 'd', 'D'])
        .filter(|b| b.ends_with(|c: char| c.is_ascii_digit() || c == '.'))
        .unwrap_or(body);
    let plain = body.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if !plain {
        return Err(fail());
    }
    let mut b = body.to_ascii_lowercase();
    if b.starts_with('.') {
        b.insert(0, '0');
    }
    if let Some(i) = b.find(".e") {
        b.insert(i + 1, '0');
    }
    b.parse::<f64>().map(|v| sign * v).map_err(|_| fail())
}

/// Java's `Double.compare`: -0.0 before 0.0, NaN after everything and equal to itself.
fn double_cmp(a: f64, b: f64) -> Ordering {
    let canon = |x: f64| if x.is_nan() { f64::NAN } else { x };
    canon(a).total_cmp(&canon(b))
}

/// Java's `equals` between two values: same type and same value (`Double.equals` by bits).
pub(super) fn java_equals(a: &Value<'_>, b: &Value<'_>) -> bool {
    match (a, b) {
        (Value::Double(x), Value::Double(y)) => double_cmp(*x, *y) == Ordering::Equal,
        (Value::Null, _) | (_, Value::Null) => false,
        _ => a == b,
    }
}

/// `__compare(lv, rv, true)`: converts across types, then compares. The `-1` Apache answers
/// for types it does not convert (a number against a boolean) is `Less`.
pub(super) fn compare_java(l: &Value<'_>, r: &Value<'_>) -> Result<Ordering, EvalError> {
    use Value::*;
    Ok(match (*l, *r) {
        (Bool(a), Bool(b)) => a.cmp(&b),
        (Int(a), Int(b)) => a.cmp(&b),
        (Long(a), Long(b)) => a.cmp(&b),
        (Double(a), Double(b)) => double_cmp(a, b),
        (Str(a), Str(b)) => a.encode_utf16().cmp(b.encode_utf16()),
        (Int(a), Long(b)) => i64::from(a).cmp(&b),
        (Long(a), Int(b)) => a.cmp(&i64::from(b)),
        (Int(a), Double(b)) => double_cmp(f64::from(a), b),
        (Long(a), Double(b)) => double_cmp(a as f64, b),
        (Double(a), Int(b)) => double_cmp(a, f64::from(b)),
        (Double(a), Long(b)) => double_cmp(a, b as f64),
        (Int(a), Str(b)) => a.cmp(&parse_int::<i32>(b)?),
        (Long(a), Str(b)) => a.cmp(&parse_int::<i64>(b)?),
        (Double(a), Str(b)) => double_cmp(a, parse_double(b)?),
        (Str(a), Int(b)) => parse_int::<i32>(a)?.cmp(&b),
        (Str(a), Long(b)) => parse_int::<i64>(a)?.cmp(&b),
        (Str(a), Double(b)) => double_cmp(parse_double(a)?, b),
        (Str(a), Bool(b)) => a.eq_ignore_ascii_case("true").cmp(&b),
        (Bool(_), Str(_)) => return Err(EvalError::BoolWithString),
        _ => Ordering::Less,
    })
}
