//! How a stored message is shown: a summary row, or every field with its body as text, pretty
//! JSON and hex.

use std::collections::BTreeMap;

use rmq_client::MessageExt;
use serde::Serialize;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub msg_id: String,
    pub offset_msg_id: String,
    pub topic: String,
    pub tags: Option<String>,
    pub keys: Vec<String>,
    pub queue_id: i32,
    pub queue_offset: i64,
    pub store_timestamp: i64,
    pub born_timestamp: i64,
    pub store_host: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Detail {
    #[serde(flatten)]
    pub summary: Summary,
    pub born_host: String,
    pub reconsume_times: i32,
    pub properties: BTreeMap<String, String>,
    pub body: Body,
}

#[derive(Debug, Serialize)]
pub struct Body {
    pub size: usize,
    pub text: Option<String>,
    pub json: Option<String>,
    pub hex: String,
}

pub fn summary(m: &MessageExt) -> Summary {
    Summary {
        msg_id: m.msg_id(),
        offset_msg_id: m.offset_msg_id(),
        topic: m.topic().to_owned(),
        tags: m.tags().map(str::to_owned),
        keys: m.keys().map(str::to_owned).collect(),
        queue_id: m.queue_id,
        queue_offset: m.queue_offset,
        store_timestamp: m.store_timestamp,
        born_timestamp: m.born_timestamp,
        store_host: m.store_host.to_string(),
    }
}

pub fn detail(m: &MessageExt) -> Detail {
    let body = &m.body;
    let text = std::str::from_utf8(body).ok().map(str::to_owned);
    let json = text
        .as_deref()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
        .filter(|v| v.is_object() || v.is_array())
        .and_then(|v| serde_json::to_string_pretty(&v).ok());
    Detail {
        summary: summary(m),
        born_host: m.born_host.to_string(),
        reconsume_times: m.reconsume_times,
        properties: m.properties.clone(),
        body: Body {
            size: body.len(),
            text,
            json,
            hex: hex(body),
        },
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
