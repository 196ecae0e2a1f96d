//! One trace record in the text format Java's `TraceDataEncoder` writes and reads: fields
//! separated by `\u{1}`, each record ended by `\u{2}`, many records in one trace message body.
//!
//! ```text
//! Pub       timestamp region group topic msgId tags keys storeHost bodyLength costTime msgType offsetMsgId success
//! SubBefore timestamp region group requestId msgId retryTimes keys
//! SubAfter  requestId msgId costTime success keys contextCode timestamp group
//! ```
//!
//! As Java does, a missing tag or key is written `null` (Java's decoder splits with
//! `String.split`, which drops trailing empty fields: an empty last field would make it fail).

/// Field separator (`TraceConstants.CONTENT_SPLITOR`).
pub const CONTENT_SPLITOR: char = '\u{1}';
/// Record terminator (`TraceConstants.FIELD_SPLITOR`).
pub const FIELD_SPLITOR: char = '\u{2}';

/// What a record traces (Java's `TraceType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceType {
    /// A send.
    Pub,
    /// A consumer got the message, before its listener ran.
    SubBefore,
    /// The listener's outcome.
    SubAfter,
}

impl TraceType {
    /// Java's name of the type, as written in a record.
    pub fn name(self) -> &'static str {
        match self {
            TraceType::Pub => "Pub",
            TraceType::SubBefore => "SubBefore",
            TraceType::SubAfter => "SubAfter",
        }
    }
}

/// One record; the fields a kind does not carry are empty or zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceRecord {
    /// What the record traces.
    pub kind: TraceType,
    /// Milliseconds since the epoch: when the send started, when the message reached the
    /// listener, when the listener returned.
    pub timestamp: i64,
    /// The broker's region (`MSG_REGION`).
    pub region_id: String,
    /// Producer group (Pub) or consumer group (SubBefore, SubAfter).
    pub group: String,
    /// The message's topic (Pub).
    pub topic: String,
    /// The message id (`UNIQ_KEY`) the record is about.
    pub msg_id: String,
    /// The message's tag (Pub).
    pub tags: String,
    /// The message's keys, space-separated.
    pub keys: String,
    /// The broker that stored it (Pub).
    pub store_host: String,
    /// Body bytes sent (Pub).
    pub body_length: i32,
    /// How long the send or the listener took (ms).
    pub cost_ms: i64,
    /// Java's `MessageType` ordinal: 0 normal, 1 half, 2 commit, 3 delay (Pub).
    pub msg_type: i32,
    /// The broker's offset message id (Pub).
    pub offset_msg_id: String,
    /// Stored (Pub) or consumed successfully (SubAfter).
    pub success: bool,
    /// Pairs a SubBefore with its SubAfter (one per listener call).
    pub request_id: String,
    /// Times the message was consumed before (SubBefore).
    pub retry_times: i32,
    /// Java's `ConsumeReturnType` ordinal: 0 success, 1 time out, 2 exception, 3 null, 4 failed.
    pub context_code: i32,
}

impl TraceRecord {
    /// An empty record of `kind`.
    pub fn new(kind: TraceType) -> TraceRecord {
        TraceRecord {
            kind,
            timestamp: 0,
            region_id: String::new(),
            group: String::new(),
            topic: String::new(),
            msg_id: String::new(),
            tags: String::new(),
            keys: String::new(),
            store_host: String::new(),
            body_length: 0,
            cost_ms: 0,
            msg_type: 0,
            offset_msg_id: String::new(),
            success: false,
            request_id: String::new(),
            retry_times: 0,
            context_code: 0,
        }
    }

    /// Appends this record, terminator included, to `out`.
    pub fn encode(&self, out: &mut String) {
        let or_null = |s: &str| {
            if s.is_empty() {
                "null".to_owned()
            } else {
                s.to_owned()
            }
        };
        let fields: Vec<String> = match self.kind {
            TraceType::Pub => vec![
                self.kind.name().into(),
                self.timestamp.to_string(),
                self.region_id.clone(),
                self.group.clone(),
                self.topic.clone(),
                self.msg_id.clone(),
                or_null(&self.tags),
                or_null(&self.keys),
                self.store_host.clone(),
                self.body_length.to_string(),
                self.cost_ms.to_string(),
                self.msg_type.to_string(),
                self.offset_msg_id.clone(),
                self.success.to_string(),
            ],
            TraceType::SubBefore => vec![
                self.kind.name().into(),
                self.timestamp.to_string(),
                self.region_id.clone(),
                self.group.clone(),
                self.request_id.clone(),
                self.msg_id.clone(),
                self.retry_times.to_string(),
                or_null(&self.keys),
            ],
            TraceType::SubAfter => vec![
                self.kind.name().into(),
                self.request_id.clone(),
                self.msg_id.clone(),
                self.cost_ms.to_string(),
                self.success.to_string(),
                or_null(&self.keys),
                self.context_code.to_string(),
                self.timestamp.to_string(),
                or_null(&self.group),
            ],
        };
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.push(CONTENT_SPLITOR);
            }
            // A separator inside a value would shift every later field.
            out.extend(f.chars().map(|c| {
                if c == CONTENT_SPLITOR || c == FIELD_SPLITOR {
                    ' '
                } else {
                    c
                }
            }));
        }
        out.push(FIELD_SPLITOR);
    }

    /// The keys a trace message carrying this record is indexed by: the message id, and the
    /// message's keys if any (Java's `TraceTransferBean.transKey`).
    pub fn index_keys(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.msg_id.as_str())
            .chain((!self.keys.is_empty() && self.keys != "null").then_some(self.keys.as_str()))
    }
}

/// Reads every record of a trace message body; records of kinds this client does not know
/// (EndTransaction, ...) and malformed ones are skipped.
pub fn decode_traces(body: &str) -> Vec<TraceRecord> {
    body.split(FIELD_SPLITOR)
        .filter(|r| !r.is_empty())
        .filter_map(decode_one)
        .collect()
}

fn decode_one(text: &str) -> Option<TraceRecord> {
    let f: Vec<&str> = text.split(CONTENT_SPLITOR).collect();
    let s = |i: usize| {
        f.get(i)
            .map(|v| if *v == "null" { "" } else { v })
            .unwrap_or("")
            .to_owned()
    };
    let n = |i: usize| f.get(i).and_then(|v| v.parse::<i64>().ok());
    let b = |i: usize| f.get(i).is_some_and(|v| *v == "true");
    let mut r;
    match *f.first()? {
        "Pub" => {
            r = TraceRecord::new(TraceType::Pub);
            r.timestamp = n(1)?;
            r.region_id = s(2);
            r.group = s(3);
            r.topic = s(4);
            r.msg_id = s(5);
            r.tags = s(6);
            r.keys = s(7);
            r.store_host = s(8);
            r.body_length = n(9)? as i32;
            r.cost_ms = n(10)?;
            r.msg_type = n(11)? as i32;
            if f.len() == 13 {
                r.success = b(12);
            } else {
                r.offset_msg_id = s(12);
                r.success = b(13);
            }
        }
        "SubBefore" => {
            r = TraceRecord::new(TraceType::SubBefore);
            r.timestamp = n(1)?;
            r.region_id = s(2);
            r.group = s(3);
            r.request_id = s(4);
            r.msg_id = s(5);
            r.retry_times = n(6)? as i32;
            r.keys = s(7);
        }
        "SubAfter" => {
            r = TraceRecord::new(TraceType::SubAfter);
            r.request_id = s(1);
            r.msg_id = s(2);
            r.cost_ms = n(3)?;
            r.success = b(4);
            r.keys = s(5);
            r.context_code = n(6).unwrap_or(0) as i32;
            r.timestamp = n(7).unwrap_or(0);
            r.group = s(8);
        }
        _ => return None,
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publish() -> TraceRecord {
        let mut r = TraceRecord::new(TraceType::Pub);
        r.timestamp = 1_700_000_000_000;
        r.region_id = "DefaultRegion".into();
        r.group = "PG".into();
        r.topic = "T".into();
        r.msg_id = "ID1".into();
        r.store_host = "127.0.0.1:10911".into();
        r.body_length = 5;
        r.cost_ms = 3;
        r.offset_msg_id = "OFF1".into();
        r.success = true;
        r
    }

    #[test]
    fn a_pub_record_reads_as_java_writes_it() {
        let mut out = String::new();
        publish().encode(&mut out);
        assert_eq!(
            out,
            "Pub\u{1}1700000000000\u{1}DefaultRegion\u{1}PG\u{1}T\u{1}ID1\u{1}null\u{1}null\u{1}\
             127.0.0.1:10911\u{1}5\u{1}3\u{1}0\u{1}OFF1\u{1}true\u{2}"
        );
        assert_eq!(decode_traces(&out), vec![publish()]);
    }

    #[test]
    fn records_of_all_kinds_round_trip_in_one_body() {
        let mut before = TraceRecord::new(TraceType::SubBefore);
        before.timestamp = 5;
        before.group = "CG".into();
        before.request_id = "R".into();
        before.msg_id = "ID1".into();
        before.retry_times = 2;
        before.keys = "k1 k2".into();
        let mut after = TraceRecord::new(TraceType::SubAfter);
        after.request_id = "R".into();
        after.msg_id = "ID1".into();
        after.cost_ms = 9;
        after.success = true;
        after.timestamp = 14;
        after.group = "CG".into();
        let mut body = String::new();
        for r in [&publish(), &before, &after] {
            r.encode(&mut body);
        }
        // Java 4.9's SubAfter has no group; an EndTransaction record is skipped.
        body.push_str("SubAfter\u{1}R2\u{1}ID1\u{1}1\u{1}false\u{1}null\u{1}4\u{1}20\u{2}");
        body.push_str("EndTransaction\u{1}1\u{1}r\u{1}g\u{2}");
        let got = decode_traces(&body);
        assert_eq!(got.len(), 4);
        assert_eq!(got[..3], [publish(), before, after]);
        assert_eq!(got[3].request_id, "R2");
        assert_eq!(got[3].context_code, 4);
        assert_eq!(got[3].group, "");
    }

    #[test]
    fn separators_inside_values_do_not_shift_fields() {
        let mut r = publish();
        r.tags = "a\u{1}b\u{2}c".into();
        let mut out = String::new();
        r.encode(&mut out);
        let back = decode_traces(&out);
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].tags, "a b c");
        assert!(back[0].success);
    }

    #[test]
    fn malformed_records_are_skipped() {
        assert!(decode_traces("Pub\u{1}x\u{2}\u{2}SubBefore\u{2}").is_empty());
    }
}
