//! How long a consuming call may wait for messages: the client's long-polling timeout clamped
//! to `grpcClientConsumer{Min,Max}LongPollingTimeoutMillis` and to what the call's own
//! deadline (`grpc-timeout`) leaves.

use std::time::Duration;

use rmq_proto::v2::{Code, Status};

use super::status::status;
use crate::config::BrokerConfig;

/// Kept from the call's deadline for the answer to travel back.
const DEADLINE_RESERVE: Duration = Duration::from_millis(200);

pub fn millis(d: &prost_types::Duration) -> i64 {
    d.seconds
        .saturating_mul(1000)
        .saturating_add(i64::from(d.nanos) / 1_000_000)
}

/// The wait for a call that asked for `requested` ms (the longest allowed when it did not say).
pub fn long_polling(
    b: &BrokerConfig,
    requested: Option<i64>,
    call_deadline: Option<Duration>,
) -> Result<Duration, Status> {
    let min_poll = b.grpc_client_consumer_min_long_polling_timeout_millis;
    let max_poll = b
        .grpc_client_consumer_max_long_polling_timeout_millis
        .max(min_poll);
    let mut poll = requested
        .map_or(max_poll, |ms| ms.max(0) as u64)
        .clamp(min_poll, max_poll);
    if let Some(remaining) = call_deadline.map(|d| d.saturating_sub(DEADLINE_RESERVE)) {
        let remaining = remaining.as_millis() as u64;
        if poll > remaining {
            if remaining < min_poll {
                return Err(status(
                    Code::IllegalPollingTime,
                    format!(
                        "the call's deadline leaves {remaining} ms, less than the shortest long polling ({min_poll} ms); give the call more time"
                    ),
                ));
            }
            poll = remaining;
        }
    }
    Ok(Duration::from_millis(poll))
}

/// The time left before the call's `grpc-timeout` (`<digits><unit>`, unit one of H M S m u n).
pub fn call_deadline(md: &tonic::metadata::MetadataMap) -> Option<Duration> {
    let v = md.get("grpc-timeout")?.to_str().ok()?;
    let (digits, unit) = v.split_at(v.len().checked_sub(1)?);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.saturating_mul(3600)),
        "M" => Duration::from_secs(n.saturating_mul(60)),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}
