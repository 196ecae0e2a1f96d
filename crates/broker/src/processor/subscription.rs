//! Turning a subscription into a store filter. The broker filters tags by hash code in the
//! ConsumeQueue, as Apache does; clients re-check the tag string. Hash codes are always
//! recomputed from the tags because some clients (the C++ one) send a `codeSet` of `[0]`.
//! SQL92 subscriptions are compiled to a [`crate::sql92::Sql92Filter`] when the broker has
//! `enablePropertyFilter=true`, and refused otherwise, as Apache refuses them.

use rmq_common::java::string_hash_code;
use rmq_remoting::body::{SubscriptionData, EXPRESSION_TYPE_SQL92, EXPRESSION_TYPE_TAG};
use rmq_remoting::ResponseCode;
use rmq_store::{AcceptAll, MessageFilter, TagsFilter};

/// Parses a tag expression (`*`, `TagA || TagB`) into its tags; `None` means "every message".
pub fn parse_tags(expression: &str) -> Option<Vec<String>> {
    let e = expression.trim();
    if e.is_empty() || e == "*" {
        return None;
    }
    let tags: Vec<String> = e
        .split("||")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    if tags.is_empty() {
        None
    } else {
        Some(tags)
    }
}

/// Why a subscription cannot be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnsupportedExpression {
    /// A SQL92 subscription on a broker without `enablePropertyFilter=true`.
    Disabled(String),
    /// An expression type this broker does not know, or an expression that does not parse.
    Invalid(String),
}

impl UnsupportedExpression {
    /// Apache's answer: SYSTEM_ERROR for a filter type the broker has switched off,
    /// SUBSCRIPTION_PARSE_FAILED for an expression it cannot use.
    pub fn response_code(&self) -> ResponseCode {
        match self {
            UnsupportedExpression::Disabled(_) => ResponseCode::SystemError,
            UnsupportedExpression::Invalid(_) => ResponseCode::SubscriptionParseFailed,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            UnsupportedExpression::Disabled(m) | UnsupportedExpression::Invalid(m) => m,
        }
    }
}

/// The filter for a subscription given as (type, expression); `property_filter` is the
/// broker's `enablePropertyFilter`.
pub fn filter_for_expression(
    expression_type: Option<&str>,
    expression: &str,
    property_filter: bool,
) -> Result<Box<dyn MessageFilter>, UnsupportedExpression> {
    let ty = expression_type.unwrap_or(EXPRESSION_TYPE_TAG);
    if ty.eq_ignore_ascii_case(EXPRESSION_TYPE_SQL92) {
        if !property_filter {
            return Err(UnsupportedExpression::Disabled(
                "The broker does not support consumer to filter message by SQL92; set \
                 enablePropertyFilter=true on the broker to allow it"
                    .into(),
            ));
        }
        return crate::sql92::compile(expression)
            .map(|f| Box::new(f) as Box<dyn MessageFilter>)
            .map_err(|e| UnsupportedExpression::Invalid(e.to_string()));
    }
    if !ty.is_empty() && !ty.eq_ignore_ascii_case(EXPRESSION_TYPE_TAG) {
        return Err(UnsupportedExpression::Invalid(format!(
            "expression type {ty} is not supported by this broker; use TAG or SQL92"
        )));
    }
    Ok(match parse_tags(expression) {
        None => Box::new(AcceptAll),
        Some(tags) => Box::new(TagsFilter::new(tags)),
    })
}

/// The filter for a subscription registered by heartbeat.
pub fn filter_for_subscription(
    sub: &SubscriptionData,
    property_filter: bool,
) -> Result<Box<dyn MessageFilter>, UnsupportedExpression> {
    let ty = sub.expression_type();
    if ty.eq_ignore_ascii_case(EXPRESSION_TYPE_TAG) && !sub.tags_set.is_empty() && !sub.is_sub_all()
    {
        return Ok(Box::new(TagsFilter::from_codes(
            sub.tags_set
                .iter()
                .map(|t| i64::from(string_hash_code(t)))
                .collect(),
        )));
    }
    filter_for_expression(Some(ty), &sub.sub_string, property_filter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions() {
        assert_eq!(parse_tags("*"), None);
        assert_eq!(parse_tags(" "), None);
        assert_eq!(
            parse_tags("TagA || TagB ||"),
            Some(vec!["TagA".to_string(), "TagB".to_string()])
        );
        assert!(matches!(
            filter_for_expression(Some("SQL92"), "a > 1", false),
            Err(UnsupportedExpression::Disabled(_))
        ));
        assert!(filter_for_expression(Some("SQL92"), "a > 1", true).is_ok());
        assert!(matches!(
            filter_for_expression(Some("SQL92"), "a >", true),
            Err(UnsupportedExpression::Invalid(_))
        ));
        let f = filter_for_expression(None, "TagA", false).ok().unwrap();
        assert!(f.is_matched_by_consume_queue(i64::from(string_hash_code("TagA"))));
        assert!(!f.is_matched_by_consume_queue(i64::from(string_hash_code("TagB"))));
    }
}
