//! Turning a subscription into a store filter. The broker filters by tag hash code in the
//! ConsumeQueue, as Apache does; clients re-check the tag string. Hash codes are always
//! recomputed from the tags because some clients (the C++ one) send a `codeSet` of `[0]`.

use rmq_common::java::string_hash_code;
use rmq_remoting::body::{SubscriptionData, EXPRESSION_TYPE_TAG};
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
pub struct UnsupportedExpression(pub String);

/// The filter for a subscription given as (type, expression).
pub fn filter_for_expression(
    expression_type: Option<&str>,
    expression: &str,
) -> Result<Box<dyn MessageFilter>, UnsupportedExpression> {
    let ty = expression_type.unwrap_or(EXPRESSION_TYPE_TAG);
    if !ty.is_empty() && !ty.eq_ignore_ascii_case(EXPRESSION_TYPE_TAG) {
        return Err(UnsupportedExpression(format!(
            "expression type {ty} is not supported by this broker; use TAG expressions"
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
) -> Result<Box<dyn MessageFilter>, UnsupportedExpression> {
    if !sub.tags_set.is_empty() && !sub.is_sub_all() {
        let ty = sub.expression_type();
        if !ty.eq_ignore_ascii_case(EXPRESSION_TYPE_TAG) {
            return Err(UnsupportedExpression(format!(
                "expression type {ty} is not supported by this broker; use TAG expressions"
            )));
        }
        return Ok(Box::new(TagsFilter::from_codes(
            sub.tags_set
                .iter()
                .map(|t| i64::from(string_hash_code(t)))
                .collect(),
        )));
    }
    filter_for_expression(Some(sub.expression_type()), &sub.sub_string)
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
        assert!(filter_for_expression(Some("SQL92"), "a > 1").is_err());
        let f = filter_for_expression(None, "TagA").ok().unwrap();
        assert!(f.is_matched_by_consume_queue(i64::from(string_hash_code("TagA"))));
        assert!(!f.is_matched_by_consume_queue(i64::from(string_hash_code("TagB"))));
    }
}
