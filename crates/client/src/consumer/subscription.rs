//! Subscriptions. Tags: `*` or `TagA || TagB` parsed the way Java's `FilterAPI` does — split
//! on `||`, trim, drop empties; the code set is Java's `String.hashCode()` of each tag, which
//! the broker compares with consume-queue tag codes. Because the broker filters by hash only,
//! the client re-checks the tag string of every pulled message ([`SubscriptionData`] +
//! [`matches`]). SQL92 ([`MessageSelector::sql`]): the expression goes to the broker as it is
//! and the broker alone filters (it needs `enablePropertyFilter=true`).

use rmq_common::java::string_hash_code;
use rmq_common::time::now_millis;
use rmq_common::MessageExt;
use rmq_remoting::body::{SubscriptionData, EXPRESSION_TYPE_SQL92, EXPRESSION_TYPE_TAG, SUB_ALL};

use crate::error::Result;
use crate::instance::ClientInstance;

/// What a subscription selects, as Java's `MessageSelector`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageSelector {
    /// `*`, or tags as `TagA || TagB`.
    Tag(String),
    /// A SQL92 condition over message properties, e.g. `region = 'eu' AND price > 10`
    /// (`MessageSelector.bySql`); the brokers must run with `enablePropertyFilter=true`, and
    /// building the consumer fails if one refuses the expression.
    Sql92(String),
}

impl MessageSelector {
    /// A tag selector: `*` or `TagA || TagB`.
    pub fn tag(expression: impl Into<String>) -> Self {
        MessageSelector::Tag(expression.into())
    }

    /// A SQL92 selector (`MessageSelector.bySql`).
    pub fn sql(expression: impl Into<String>) -> Self {
        MessageSelector::Sql92(expression.into())
    }

    /// The subscription of `topic` to this selector.
    pub fn subscription(&self, topic: &str) -> SubscriptionData {
        match self {
            MessageSelector::Tag(e) => build_subscription(topic, e),
            MessageSelector::Sql92(e) => SubscriptionData {
                topic: topic.to_owned(),
                sub_string: e.trim().to_owned(),
                sub_version: now_millis(),
                expression_type: EXPRESSION_TYPE_SQL92.to_owned(),
                ..Default::default()
            },
        }
    }
}

/// The subscriptions of `(topic, selector)` pairs; each one that is not TAG is first checked
/// with the brokers serving its topic (CHECK_CLIENT_CONFIG), so a consumer the brokers cannot
/// serve fails to build.
pub(crate) async fn checked_subscriptions(
    instance: &ClientInstance,
    group: &str,
    pairs: &[(String, MessageSelector)],
) -> Result<Vec<SubscriptionData>> {
    let subs: Vec<SubscriptionData> = pairs.iter().map(|(t, s)| s.subscription(t)).collect();
    for sub in &subs {
        if sub.expression_type() != EXPRESSION_TYPE_TAG {
            instance.check_client_config(group, sub).await?;
        }
    }
    Ok(subs)
}

/// Builds the subscription of `topic` to `expression` (`*`, empty, or `A || B`).
pub fn build_subscription(topic: &str, expression: &str) -> SubscriptionData {
    let expression = expression.trim();
    let mut sub = SubscriptionData {
        topic: topic.to_owned(),
        sub_string: if expression.is_empty() {
            SUB_ALL.to_owned()
        } else {
            expression.to_owned()
        },
        sub_version: now_millis(),
        expression_type: EXPRESSION_TYPE_TAG.to_owned(),
        ..Default::default()
    };
    if !sub.is_sub_all() {
        for tag in expression
            .split("||")
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            sub.tags_set.insert(tag.to_owned());
            sub.code_set.insert(string_hash_code(tag));
        }
    }
    sub
}

/// Whether a pulled message passes the subscription's tag filter (Java: messages without a tag
/// pass only a subscribe-all). A SQL92 subscription was filtered by the broker.
pub fn matches(sub: &SubscriptionData, msg: &MessageExt) -> bool {
    if sub.tags_set.is_empty() || sub.is_sub_all() || sub.expression_type() != EXPRESSION_TYPE_TAG {
        return true;
    }
    msg.message.tags().is_some_and(|t| sub.tags_set.contains(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmq_common::Message;

    fn msg(tag: Option<&str>) -> MessageExt {
        let mut m = Message::new("T", "x");
        if let Some(t) = tag {
            m.set_tags(t);
        }
        MessageExt {
            message: m,
            queue_id: 0,
            store_size: 0,
            queue_offset: 0,
            sys_flag: 0,
            born_timestamp: 0,
            born_host: "127.0.0.1:1".parse().unwrap(),
            store_timestamp: 0,
            store_host: "127.0.0.1:1".parse().unwrap(),
            commit_log_offset: 0,
            body_crc: 0,
            reconsume_times: 0,
            prepared_transaction_offset: 0,
        }
    }

    #[test]
    fn parse_tags_and_codes() {
        let s = build_subscription("T", " TagA ||TagB|| ");
        assert_eq!(s.sub_string, "TagA ||TagB||");
        assert_eq!(s.tags_set.iter().collect::<Vec<_>>(), ["TagA", "TagB"]);
        assert!(s.code_set.contains(&string_hash_code("TagA")));
        assert!(s.code_set.contains(&string_hash_code("TagB")));
        assert_eq!(s.code_set.len(), 2);
        assert_eq!(string_hash_code("TagA"), 2_598_919);
        for all in ["*", "", "  "] {
            let s = build_subscription("T", all);
            assert_eq!(s.sub_string, "*");
            assert!(s.tags_set.is_empty() && s.code_set.is_empty());
        }
    }

    #[test]
    fn client_side_refilter() {
        let s = build_subscription("T", "TagA || TagB");
        assert!(matches(&s, &msg(Some("TagA"))));
        assert!(!matches(&s, &msg(Some("TagC"))));
        assert!(!matches(&s, &msg(None)));
        let all = build_subscription("T", "*");
        assert!(matches(&all, &msg(None)));
        assert!(matches(&all, &msg(Some("X"))));
    }
}
