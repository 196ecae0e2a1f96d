//! `mqadmin printMsg -t TOPIC [-c CHARSET] [-s EXPRESSION] [-b BEGIN] [-e END] [-d true|false]
//! [-l LMQ_PARENT_TOPIC]`: every message of a topic, queue by queue, in Apache's
//! `PrintMessageSubCommand` layout.
//!
//! Each queue is read as Apache reads it: from its min offset (or the first offset stored at or
//! after `-b`) up to its max offset (or the first offset stored at or after `-e`), 32 messages a
//! pull, filtered by the tag expression `-s`; the queue's range first, a line when a pull
//! matches nothing or the queue ends, and a rule after each queue. Bodies are decoded with `-c`:
//! UTF-8 (the default), US-ASCII or ISO-8859-1; another charset is refused by name before anything
//! is read (rmq's tools carry no other decoders).
//!
//! One difference from Apache's text: the message description (Java's `MessageExt.toString`)
//! gives the body's length (`body=<N bytes>`) rather than every byte as a number; the body
//! itself follows `BODY:` as in Apache.

use std::fmt::Write as _;
use std::str::FromStr;

use anyhow::{anyhow, bail, Result};
use clap::Args;
use rmq_client::{MessageExt, MessageQueue, PullStatus};
use serde::Serialize;

use crate::output::{emit, print_out};
use crate::session::{route_masters, Session};

/// Messages per pull, as Apache's.
const PULL_BATCH: i32 = 32;

/// Arguments of `mqadmin printMsg`.
#[derive(Debug, Args)]
pub struct PrintMsg {
    /// Topic.
    #[arg(short = 't', long = "topic")]
    pub topic: String,
    /// Charset of the bodies: UTF-8, US-ASCII or ISO-8859-1.
    #[arg(short = 'c', long = "charsetName", default_value = "UTF-8")]
    pub charset: String,
    /// Tag expression, e.g. `TagA || TagB`.
    #[arg(short = 's', long = "subExpression", default_value = "*")]
    pub sub_expression: String,
    /// Start at the first message stored at or after this time: ms since the epoch or
    /// `yyyy-MM-dd#HH:mm:ss:SSS` (local time).
    #[arg(short = 'b', long = "beginTimestamp")]
    pub begin: Option<String>,
    /// Stop before the first message stored at or after this time (same forms as -b).
    #[arg(short = 'e', long = "endTimestamp")]
    pub end: Option<String>,
    /// Print bodies: true or false.
    #[arg(short = 'd', long = "printBody", default_value = "true")]
    pub print_body: String,
    /// LMQ: the parent topic whose route serves the queues.
    #[arg(short = 'l', long = "lmqParentTopic")]
    pub lmq_parent_topic: Option<String>,
}

/// The body decoders rmq's tools carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    Utf8,
    Ascii,
    Latin1,
}

impl FromStr for Charset {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        let name = s.trim().to_ascii_uppercase().replace('_', "-");
        Ok(match name.as_str() {
            "UTF-8" | "UTF8" => Charset::Utf8,
            "US-ASCII" | "ASCII" => Charset::Ascii,
            "ISO-8859-1" | "ISO8859-1" | "LATIN1" => Charset::Latin1,
            _ => bail!(
                "charset {s:?} is not supported by rmq's mqadmin — use UTF-8, US-ASCII or \
                 ISO-8859-1 (-c), or -d false to leave bodies out"
            ),
        })
    }
}

impl Charset {
    /// `body` as text; what does not decode becomes U+FFFD, as Java's `new String` does.
    pub fn decode(self, body: &[u8]) -> String {
        match self {
            Charset::Utf8 => String::from_utf8_lossy(body).into_owned(),
            Charset::Ascii => body
                .iter()
                .map(|&b| if b.is_ascii() { b as char } else { '\u{FFFD}' })
                .collect(),
            Charset::Latin1 => body.iter().map(|&b| char::from(b)).collect(),
        }
    }
}

/// `-b`/`-e`: milliseconds since the epoch, or Apache's `yyyy-MM-dd#HH:mm:ss:SSS` in local time.
pub fn parse_time(flag: &str, s: &str) -> Result<i64> {
    let s = s.trim();
    if let Ok(ms) = s.parse::<i64>() {
        return Ok(ms);
    }
    let bad = || {
        anyhow!(
            "{flag} {s:?} is neither milliseconds since the epoch nor yyyy-MM-dd#HH:mm:ss:SSS \
             (e.g. 2024-05-01#13:30:00:000)"
        )
    };
    let (date, time) = s.split_once('#').ok_or_else(bad)?;
    let num = |v: Option<&str>| v.and_then(|x| x.parse::<i32>().ok()).ok_or_else(bad);
    let mut d = date.split('-');
    let (year, month, day) = (num(d.next())?, num(d.next())?, num(d.next())?);
    let mut t = time.split(':');
    let (hour, minute, second, millis) = (
        num(t.next())?,
        num(t.next())?,
        num(t.next())?,
        num(t.next())?,
    );
    if d.next().is_some()
        || t.next().is_some()
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || !(0..24).contains(&hour)
        || !(0..60).contains(&minute)
        || !(0..60).contains(&second)
        || !(0..1000).contains(&millis)
    {
        return Err(bad());
    }
    let secs = local_epoch_seconds(year, month, day, hour, minute, second).ok_or_else(bad)?;
    Ok(secs * 1000 + i64::from(millis))
}

/// Seconds since the epoch of a local wall-clock time, as Java's `SimpleDateFormat` reads it.
fn local_epoch_seconds(
    year: i32,
    month: i32,
    day: i32,
    hour: i32,
    minute: i32,
    second: i32,
) -> Option<i64> {
    // SAFETY: `tm` is plain old data, fully initialised by zeroing and then field by field;
    // `mktime` reads and normalises only that struct.
    let secs = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        tm.tm_year = year - 1900;
        tm.tm_mon = month - 1;
        tm.tm_mday = day;
        tm.tm_hour = hour;
        tm.tm_min = minute;
        tm.tm_sec = second;
        tm.tm_isdst = -1;
        libc::mktime(&mut tm)
    };
    // `time_t` is 32 bits on some targets.
    #[allow(clippy::useless_conversion)]
    let secs = i64::from(secs);
    (secs != -1).then_some(secs)
}

/// `-d`: `true` or `false`, any case.
fn parse_print_body(s: &str) -> Result<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => bail!("-d {s:?} must be true or false"),
    }
}

/// Java's `MessageExt.toString()`, the body given by its length.
fn describe(m: &MessageExt, broker_name: &str) -> String {
    let props: Vec<String> = m
        .message
        .properties
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!(
        "MessageExt [brokerName={broker_name}, queueId={}, storeSize={}, queueOffset={}, \
         sysFlag={}, bornTimestamp={}, bornHost=/{}, storeTimestamp={}, storeHost=/{}, \
         msgId={}, commitLogOffset={}, bodyCRC={}, reconsumeTimes={}, \
         preparedTransactionOffset={}, toString()=Message{{topic='{}', flag={}, \
         properties={{{}}}, body=<{} bytes>, transactionId='null'}}]",
        m.queue_id,
        m.store_size,
        m.queue_offset,
        m.sys_flag,
        m.born_timestamp,
        m.born_host,
        m.store_timestamp,
        m.store_host,
        m.offset_msg_id(),
        m.commit_log_offset,
        m.body_crc,
        m.reconsume_times,
        m.prepared_transaction_offset,
        m.message.topic,
        m.message.flag,
        props.join(", "),
        m.message.body.len()
    )
}

/// One message as `--json` shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Printed {
    msg_id: String,
    offset_msg_id: String,
    queue_offset: i64,
    store_timestamp: i64,
    tags: Option<String>,
    keys: Vec<String>,
    /// The decoded body; absent with `-d false`.
    body: Option<String>,
}

/// One queue as `--json` shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct QueueReport {
    broker_name: String,
    queue_id: i32,
    min_offset: i64,
    max_offset: i64,
    messages: Vec<Printed>,
}

/// Runs `mqadmin printMsg`.
pub async fn print_msg(s: &Session, a: &PrintMsg) -> Result<()> {
    let topic = a.topic.trim();
    let print_body = parse_print_body(&a.print_body)?;
    // Without bodies the charset does not matter.
    let charset = if print_body {
        a.charset.parse()?
    } else {
        Charset::Utf8
    };
    let begin = a
        .begin
        .as_deref()
        .map(|b| parse_time("-b", b))
        .transpose()?;
    let end = a.end.as_deref().map(|e| parse_time("-e", e)).transpose()?;
    let route_topic = a
        .lmq_parent_topic
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or(topic);
    let route = s.route(route_topic).await?;
    let mut queues = Vec::new();
    for m in route_masters(&route) {
        let n = route
            .queue_datas
            .iter()
            .find(|q| q.broker_name == m.broker_name)
            .map_or(0, |q| q.read_queue_nums);
        queues
            .extend((0..n).map(|q| (m.addr.clone(), MessageQueue::new(topic, &m.broker_name, q))));
    }
    let mut reports = Vec::with_capacity(queues.len());
    for (addr, mq) in &queues {
        let text = !s.json;
        let (mut min, mut max) = s
            .admin
            .queue_offset_range(addr, topic, mq.queue_id)
            .await
            .map_err(|e| s.explain(e))?;
        if let Some(t) = begin {
            min = s
                .admin
                .search_offset(addr, topic, mq.queue_id, t)
                .await
                .map_err(|e| s.explain(e))?;
        }
        if let Some(t) = end {
            max = s
                .admin
                .search_offset(addr, topic, mq.queue_id, t)
                .await
                .map_err(|e| s.explain(e))?;
        }
        let mut report = QueueReport {
            broker_name: mq.broker_name.clone(),
            queue_id: mq.queue_id,
            min_offset: min,
            max_offset: max,
            messages: Vec::new(),
        };
        // Text goes out as it is read, queue by queue, as Apache's does.
        let mut out = format!("minOffset={min}, maxOffset={max}, {mq}\n");
        let mut offset = min;
        while offset < max {
            let pulled = s
                .admin
                .pull_queue(addr, mq, &a.sub_expression, offset, PULL_BATCH)
                .await
                .map_err(|e| s.explain(e))?;
            if pulled.next_begin_offset <= offset && pulled.status == PullStatus::Found {
                bail!("{addr} answered a pull of {mq} at offset {offset} without moving on");
            }
            offset = pulled.next_begin_offset;
            match pulled.status {
                PullStatus::Found => {
                    for m in pulled.messages.iter().filter(|m| m.queue_offset < max) {
                        let body = print_body.then(|| charset.decode(&m.message.body));
                        if text {
                            let _ = writeln!(
                                out,
                                "MSGID: {} {} BODY: {}",
                                m.msg_id(),
                                describe(m, &mq.broker_name),
                                body.as_deref().unwrap_or("NOT PRINT BODY")
                            );
                        }
                        report.messages.push(Printed {
                            msg_id: m.msg_id(),
                            offset_msg_id: m.offset_msg_id(),
                            queue_offset: m.queue_offset,
                            store_timestamp: m.store_timestamp,
                            tags: m.message.tags().map(str::to_owned),
                            keys: m.message.keys().map(str::to_owned).collect(),
                            body,
                        });
                    }
                }
                PullStatus::NoMatchedMsg => {
                    let _ = writeln!(
                        out,
                        "{mq} no matched msg. status=NO_MATCHED_MSG, offset={offset}"
                    );
                }
                PullStatus::NoNewMsg | PullStatus::OffsetIllegal => {
                    let status = if pulled.status == PullStatus::NoNewMsg {
                        "NO_NEW_MSG"
                    } else {
                        "OFFSET_ILLEGAL"
                    };
                    let _ = writeln!(
                        out,
                        "{mq} print msg finished. status={status}, offset={offset}"
                    );
                    break;
                }
            }
        }
        out.push_str("--------------------------------------------------------\n");
        if text {
            print_out(&out);
        }
        reports.push(report);
    }
    if s.json {
        emit(true, &reports, |_| String::new());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charsets_decode_or_are_refused_by_name() {
        assert_eq!("utf-8".parse::<Charset>().ok(), Some(Charset::Utf8));
        assert_eq!("ISO_8859_1".parse::<Charset>().ok(), Some(Charset::Latin1));
        let e = "GBK".parse::<Charset>().unwrap_err().to_string();
        assert!(e.contains("\"GBK\"") && e.contains("UTF-8"), "{e}");
        assert_eq!(Charset::Utf8.decode("héllo".as_bytes()), "héllo");
        assert_eq!(Charset::Latin1.decode(&[0x68, 0xE9]), "hé");
        assert_eq!(Charset::Ascii.decode(&[0x68, 0xE9]), "h\u{FFFD}");
    }

    #[test]
    fn times_are_millis_or_apaches_date_form() {
        assert_eq!(
            parse_time("-b", "1700000000123").ok(),
            Some(1_700_000_000_123)
        );
        let a = parse_time("-b", "2024-05-01#13:30:00:000").unwrap();
        let b = parse_time("-b", "2024-05-01#13:30:01:250").unwrap();
        assert_eq!(b - a, 1250);
        for bad in [
            "yesterday",
            "2024-05-01",
            "2024-13-01#00:00:00:000",
            "2024-05-01#1:2:3",
        ] {
            let e = parse_time("-e", bad).unwrap_err().to_string();
            assert!(
                e.contains("-e") && e.contains("yyyy-MM-dd#HH:mm:ss:SSS"),
                "{e}"
            );
        }
    }

    #[test]
    fn print_body_is_true_or_false() {
        assert!(parse_print_body("TRUE").unwrap());
        assert!(!parse_print_body("false").unwrap());
        assert!(parse_print_body("no").is_err());
    }
}
