//! Form checks done before anything is sent to the cluster: each refusal names the field and
//! says what is allowed, as the page shows it next to that field.

use rmq_common::time::now_millis;
use rmq_common::topic::{validate_topic, TopicNameError, TOPIC_MAX_LENGTH};

use crate::error::{ApiError, ApiResult};

/// Apache's limit on a topic's queue count per broker (`TopicValidator`'s 1024 is the maximum
/// the dashboard offers).
pub const MAX_QUEUES: i32 = 1024;

pub fn topic_name(field: &'static str, name: &str) -> ApiResult<()> {
    validate_topic(name).map_err(|e| ApiError::bad(field, e.to_string()))
}

/// Group names follow the topic rules (Apache's `Validators.checkGroup`); the refusal says
/// "group".
pub fn group_name(field: &'static str, name: &str) -> ApiResult<()> {
    validate_topic(name).map_err(|e| {
        let why = match e {
            TopicNameError::Blank => "the group name is blank".to_owned(),
            TopicNameError::TooLong { len, .. } => format!(
                "the group name {name:?} is {len} characters long; the limit is {TOPIC_MAX_LENGTH}"
            ),
            TopicNameError::IllegalCharacters(_) => format!(
                "the group name {name:?} contains characters other than letters, digits, '%', \
                 '|', '-' and '_'"
            ),
        };
        ApiError::bad(field, why)
    })
}

pub fn queue_count(field: &'static str, n: i32) -> ApiResult<()> {
    if (1..=MAX_QUEUES).contains(&n) {
        Ok(())
    } else {
        Err(ApiError::bad(
            field,
            format!("{n} queues: a topic has between 1 and {MAX_QUEUES} queues per broker"),
        ))
    }
}

pub fn past_timestamp(field: &'static str, ms: i64) -> ApiResult<()> {
    if ms < 0 {
        return Err(ApiError::bad(field, format!("{ms} is before 1970")));
    }
    if ms > now_millis() {
        return Err(ApiError::bad(
            field,
            "the time is in the future: no message can have been stored then",
        ));
    }
    Ok(())
}

pub fn perm(field: &'static str, p: i32) -> ApiResult<()> {
    match p {
        2 | 4 | 6 => Ok(()),
        _ => Err(ApiError::bad(
            field,
            format!("perm {p}: use 6 (read and write), 4 (read only) or 2 (write only)"),
        )),
    }
}

pub fn non_empty<'a>(field: &'static str, v: &'a str) -> ApiResult<&'a str> {
    match v.trim() {
        "" => Err(ApiError::bad(field, format!("{field} is empty"))),
        t => Ok(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_field() {
        let field = |r: ApiResult<()>| match r {
            Err(ApiError::BadInput { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(topic_name("name", "a b")), "name");
        assert_eq!(field(queue_count("readQueues", -1)), "readQueues");
        assert_eq!(field(queue_count("readQueues", 0)), "readQueues");
        assert_eq!(
            field(past_timestamp("timestamp", now_millis() + 60_000)),
            "timestamp"
        );
        assert_eq!(field(perm("perm", 7)), "perm");
        assert!(topic_name("name", "Ok_topic-1").is_ok());
        assert!(queue_count("readQueues", 8).is_ok());
        assert!(past_timestamp("timestamp", now_millis() - 1000).is_ok());
    }
}
