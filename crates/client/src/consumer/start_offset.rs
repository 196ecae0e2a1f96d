//! Where pulling starts on a newly owned queue (protocol.md 8.3 `computePullFromWhere`): the
//! stored offset if there is one, otherwise what the group's [`ConsumeFrom`] says.

use rmq_common::topic::is_retry_topic;
use rmq_common::MessageQueue;

use super::listener::ConsumeFrom;
use crate::error::Result;
use crate::instance::ClientInstance;
use crate::offset_store::OffsetStore;

pub(crate) async fn initial_offset(
    instance: &ClientInstance,
    offsets: &OffsetStore,
    mq: &MessageQueue,
    from: ConsumeFrom,
) -> Result<i64> {
    if let Some(o) = offsets.read_store(mq).await? {
        if o >= 0 {
            return Ok(o);
        }
    }
    let retry = is_retry_topic(&mq.topic);
    let offset = match from {
        ConsumeFrom::LastOffset if retry => 0,
        ConsumeFrom::LastOffset => instance.max_offset(mq).await?,
        ConsumeFrom::FirstOffset => 0,
        ConsumeFrom::Timestamp(_) if retry => instance.max_offset(mq).await?,
        ConsumeFrom::Timestamp(ts) => instance.search_offset(mq, ts).await?,
    };
    offsets.update(mq, offset, false);
    Ok(offset)
}
