//! SQL92 property filters (`MessageSelector.bySql` in Java, `expressionType=SQL92`): Apache's
//! selector language over a message's properties — user properties and the system ones such as
//! `TAGS` and `KEYS` — evaluated on the broker when `enablePropertyFilter=true`.
//!
//! [`compile`] parses and checks an expression once per subscription; a malformed one is
//! refused with the column of the error. [`Sql92Filter`] then decides per stored message: the
//! consume queue cannot tell (it keeps only tag hash codes), so every candidate record's
//! properties are read and the expression evaluated; a message matches only if the expression
//! is true — false, unknown (null) and an evaluation error (a property that does not convert
//! to the number it is compared with) all leave it out, as in Apache.

mod eval;
mod lexer;
mod parser;
mod value;

#[cfg(test)]
mod tests;

use rmq_common::message::properties::{NAME_VALUE_SEPARATOR, PROPERTY_SEPARATOR};
use rmq_common::record::{peek_record, Peek};
use rmq_store::MessageFilter;

use eval::{eval, Properties};
use parser::Expr;
use value::Value;

/// Why an expression was refused: what is wrong, at which column (1-based, in characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid SQL92 expression at column {column}: {message}")]
pub struct Sql92Error {
    pub column: usize,
    pub message: String,
}

impl Sql92Error {
    fn new(column: usize, message: impl Into<String>) -> Self {
        Sql92Error {
            column,
            message: message.into(),
        }
    }
}

/// A compiled SQL92 selector.
#[derive(Debug, Clone)]
pub struct Sql92Filter {
    expr: Expr,
}

/// Parses and checks `expression`.
pub fn compile(expression: &str) -> Result<Sql92Filter, Sql92Error> {
    Ok(Sql92Filter {
        expr: parser::parse(expression)?,
    })
}

/// A message's encoded properties (`name 0x01 value 0x02` ...), read the way Java's
/// `MessageDecoder` builds its map: pairs with an empty name or value are absent, and of a
/// repeated name the last value counts.
struct EncodedProperties<'a>(&'a str);

impl Properties for EncodedProperties<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .rsplit(PROPERTY_SEPARATOR)
            .filter_map(|segment| segment.split_once(NAME_VALUE_SEPARATOR))
            .find(|(k, v)| *k == name && !v.is_empty())
            .map(|(_, v)| v)
    }
}

impl Sql92Filter {
    /// Whether a message with these encoded properties matches.
    pub fn matches_properties(&self, properties: &str) -> bool {
        matches!(
            eval(&self.expr, &EncodedProperties(properties)),
            Ok(Value::Bool(true))
        )
    }
}

impl MessageFilter for Sql92Filter {
    fn is_matched_by_consume_queue(&self, _tags_code: i64) -> bool {
        true
    }

    fn is_matched_by_commit_log(&self, record: &[u8]) -> bool {
        match peek_record(record, false) {
            Ok(Peek::Record(r)) => self.matches_properties(r.properties),
            _ => false,
        }
    }
}
