//! Evaluating a parsed selector against a message's properties, with SQL's three values (true,
//! false, null for "unknown": a missing property makes a comparison null) and Apache's
//! short-circuits: `FALSE AND x` is false and `TRUE OR x` true without evaluating `x`.

use super::parser::{Expr, Order, TextOp};
use super::value::{compare_java, java_equals, parse_double, EvalError, Value};

/// Where property values come from.
pub(super) trait Properties {
    fn get(&self, name: &str) -> Option<&str>;
}

/// `Some(true)`, `Some(false)` or `None` (null).
type Truth = Option<bool>;

fn truth(v: Value<'_>) -> Truth {
    match v {
        Value::Bool(b) => Some(b),
        _ => None,
    }
}

pub(super) fn eval<'a>(e: &'a Expr, props: &'a dyn Properties) -> Result<Value<'a>, EvalError> {
    Ok(match e {
        Expr::Lit(l) => l.value(),
        Expr::Prop(name) => props.get(name).map_or(Value::Null, Value::Str),
        Expr::Negate(inner) => match eval(inner, props)? {
            Value::Int(i) => Value::Int(i.wrapping_neg()),
            Value::Long(l) => Value::Long(l.wrapping_neg()),
            Value::Double(d) => Value::Double(-d),
            _ => Value::Null,
        },
        Expr::BoolCast(inner) => match eval(inner, props)? {
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(b),
            _ => Value::Bool(false),
        },
        Expr::Not(inner) => match truth(eval(inner, props)?) {
            Some(b) => Value::Bool(!b),
            None => Value::Null,
        },
        Expr::And(l, r) => {
            let lv = truth(eval(l, props)?);
            if lv == Some(false) {
                return Ok(Value::Bool(false));
            }
            let rv = truth(eval(r, props)?);
            match (lv, rv) {
                (_, Some(false)) => Value::Bool(false),
                (Some(true), Some(true)) => Value::Bool(true),
                _ => Value::Null,
            }
        }
        Expr::Or(l, r) => {
            let lv = truth(eval(l, props)?);
            if lv == Some(true) {
                return Ok(Value::Bool(true));
            }
            let rv = truth(eval(r, props)?);
            match (lv, rv) {
                (_, Some(true)) => Value::Bool(true),
                (Some(false), Some(false)) => Value::Bool(false),
                _ => Value::Null,
            }
        }
        Expr::Equal(l, r) => {
            let (lv, rv) = (eval(l, props)?, eval(r, props)?);
            match (lv, rv) {
                (Value::Null, Value::Null) => Value::Bool(true),
                (Value::Null, _) => Value::Null,
                (_, Value::Null) => Value::Bool(false),
                _ if java_equals(&lv, &rv) => Value::Bool(true),
                _ => Value::Bool(compare_java(&lv, &rv)?.is_eq()),
            }
        }
        Expr::Compare(op, l, r) => {
            let lv = eval(l, props)?;
            if lv == Value::Null {
                return Ok(Value::Null);
            }
            let rv = eval(r, props)?;
            let ord = match (lv, rv) {
                (Value::Null, _) | (_, Value::Null) => return Ok(Value::Null),
                // Two strings (two properties) are compared as numbers or not at all.
                (Value::Str(a), Value::Str(b)) => {
                    let both = parse_double(a).and_then(|x| Ok((x, parse_double(b)?)));
                    let (x, y) =
                        both.map_err(|_| EvalError::StringsOrdered(a.to_owned(), b.to_owned()))?;
                    compare_java(&Value::Double(x), &Value::Double(y))?
                }
                _ => compare_java(&lv, &rv)?,
            };
            Value::Bool(match op {
                Order::Gt => ord.is_gt(),
                Order::Ge => ord.is_ge(),
                Order::Lt => ord.is_lt(),
                Order::Le => ord.is_le(),
            })
        }
        Expr::In {
            prop,
            values,
            negated,
        } => match props.get(prop) {
            None => Value::Null,
            Some(v) => Value::Bool(values.iter().any(|x| x == v) != *negated),
        },
        Expr::Text {
            op,
            negated,
            left,
            literal,
        } => {
            if literal.is_empty() {
                return Ok(Value::Bool(false));
            }
            match eval(left, props)? {
                Value::Str(s) => {
                    let found = match op {
                        TextOp::Contains => s.contains(literal.as_str()),
                        TextOp::StartsWith => s.starts_with(literal.as_str()),
                        TextOp::EndsWith => s.ends_with(literal.as_str()),
                    };
                    Value::Bool(found != *negated)
                }
                _ => Value::Bool(false),
            }
        }
    })
}
