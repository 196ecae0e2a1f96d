//! Per-topic and per-`topic@group` traffic over the last minute, hour and day: what
//! VIEW_BROKER_STATS_DATA answers and `mqadmin statsAll` prints (Apache's `BrokerStatsManager`
//! sets `TOPIC_PUT_NUMS`, `TOPIC_PUT_SIZE`, `GROUP_GET_NUMS`, `GROUP_GET_SIZE`, each item a
//! `StatsItem`).
//!
//! Shape, and why:
//! * The hot path takes a read lock on a map, finds the key by `&str` (topic, then group: no key
//!   string is built per call) and adds to three atomics. Only the first call for a key takes
//!   the write lock and allocates.
//! * One sampler (the broker's stats task, once a second) snapshots every key's counters as
//!   Apache's `StatsItem` does: every 10 s into the minute window (7 snapshots), every 10 min
//!   into the hour window (7), every hour into the day window (25). A window's sum is its last
//!   snapshot minus its first, its tps that sum per second between them, its avgpt the sum per
//!   recorded call (Apache's `computeStatsData`).
//! * Two departures, both towards fresher figures that are still snapshot differences. The hour
//!   and day windows also keep the latest 10 s snapshot as their end (dropping their oldest
//!   periodic one when full, so the span stays within the hour or the day): Apache's day sum
//!   stands still for up to an hour, and for a new key shows only what was counted when the key
//!   appeared. And where Apache seeds an empty window with a made-up zero snapshot 10 s in the
//!   past, a new key's windows here start with a real one — the counters were zero when the key
//!   was created — and the key is sampled again at the next tick, so its first figures show
//!   within a second instead of up to ten.
//! * Memory is bounded twice: a key with no traffic for longer than the day window
//!   ([`IDLE_LIMIT`]) shows zero everywhere and is dropped (Apache's `cleanResource`), and each
//!   table holds at most [`MAX_KEYS`] keys (further keys are not tracked, and answer "not
//!   exist", as a key never seen does). Deleting a topic drops its keys at once.

use std::collections::{HashMap, VecDeque};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};

/// Keys per table (topics for puts, topic and group pairs for gets).
pub const MAX_KEYS: usize = 20_000;
/// A key unchanged for this long has nothing left in any window and is dropped.
pub const IDLE_LIMIT: Duration = Duration::from_secs(25 * 3600);

/// Sampler ticks (of [`crate::stats::SAMPLE_INTERVAL`], 1 s) between snapshots of each window.
const MINUTE_EVERY: u64 = 10;
const HOUR_EVERY: u64 = 600;
const DAY_EVERY: u64 = 3600;
/// Snapshots kept per window: the span plus the snapshot that starts it.
const MINUTE_SNAPSHOTS: usize = 7;
const HOUR_SNAPSHOTS: usize = 7;
const DAY_SNAPSHOTS: usize = 25;

/// The statistics VIEW_BROKER_STATS_DATA knows, by Apache's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsName {
    /// Messages stored, key = topic.
    TopicPutNums,
    /// Body bytes stored, key = topic.
    TopicPutSize,
    /// Messages pulled, key = `topic@group`.
    GroupGetNums,
    /// Record bytes pulled, key = `topic@group`.
    GroupGetSize,
}

impl FromStr for StatsName {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        Ok(match s {
            "TOPIC_PUT_NUMS" => StatsName::TopicPutNums,
            "TOPIC_PUT_SIZE" => StatsName::TopicPutSize,
            "GROUP_GET_NUMS" => StatsName::GroupGetNums,
            "GROUP_GET_SIZE" => StatsName::GroupGetSize,
            _ => return Err(()),
        })
    }
}

/// One window's figures (Apache's `StatsSnapshot`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WindowFigures {
    pub sum: u64,
    pub tps: f64,
    pub avgpt: f64,
}

/// A key's figures over the three windows.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct KeyFigures {
    pub minute: WindowFigures,
    pub hour: WindowFigures,
    pub day: WindowFigures,
}

/// The counters of one key at one instant.
#[derive(Debug, Clone, Copy)]
struct Snapshot {
    at: Instant,
    calls: u64,
    messages: u64,
    bytes: u64,
}

/// Which counter a figure is about.
#[derive(Debug, Clone, Copy)]
enum Measure {
    Messages,
    Bytes,
}

impl Snapshot {
    fn value(&self, m: Measure) -> u64 {
        match m {
            Measure::Messages => self.messages,
            Measure::Bytes => self.bytes,
        }
    }
}

/// The snapshots of one window, oldest first: periodic ones, and perhaps a later one that
/// ends the window until the next periodic snapshot.
#[derive(Debug)]
struct Window {
    snapshots: VecDeque<Snapshot>,
    keep: usize,
    latest: Option<Snapshot>,
}

impl Window {
    fn new(keep: usize, first: Snapshot) -> Self {
        let mut snapshots = VecDeque::with_capacity(keep + 1);
        snapshots.push_back(first);
        Window {
            snapshots,
            keep,
            latest: None,
        }
    }

    /// A periodic snapshot.
    fn push(&mut self, s: Snapshot) {
        self.snapshots.push_back(s);
        while self.snapshots.len() > self.keep {
            self.snapshots.pop_front();
        }
        self.latest = None;
    }

    /// A snapshot between periodic ones: the window's end until the next one.
    fn refresh(&mut self, s: Snapshot) {
        self.latest = Some(s);
    }

    /// Last minus first: the sum, per second, and per recorded call.
    fn figures(&self, m: Measure) -> WindowFigures {
        // With a later end, a full window starts one periodic snapshot later so that it spans
        // no more than its length.
        let skip = usize::from(self.latest.is_some() && self.snapshots.len() == self.keep);
        let first = self.snapshots.get(skip).or(self.snapshots.front());
        let last = self.latest.as_ref().or(self.snapshots.back());
        let (Some(first), Some(last)) = (first, last) else {
            return WindowFigures::default();
        };
        let sum = last.value(m).saturating_sub(first.value(m));
        let millis = last.at.saturating_duration_since(first.at).as_millis();
        let calls = last.calls.saturating_sub(first.calls);
        WindowFigures {
            sum,
            tps: if millis > 0 {
                sum as f64 * 1000.0 / millis as f64
            } else {
                0.0
            },
            avgpt: if calls > 0 {
                sum as f64 / calls as f64
            } else {
                0.0
            },
        }
    }
}

/// The windows of one key.
#[derive(Debug)]
struct Windows {
    minute: Window,
    hour: Window,
    day: Window,
    /// When the counters were last seen to change.
    active_at: Instant,
}

/// One key: counters bumped on the hot path, windows written by the sampler.
#[derive(Debug)]
struct Item {
    calls: AtomicU64,
    messages: AtomicU64,
    bytes: AtomicU64,
    windows: Mutex<Windows>,
}

impl Item {
    fn new(now: Instant) -> Self {
        let zero = Snapshot {
            at: now,
            calls: 0,
            messages: 0,
            bytes: 0,
        };
        Item {
            calls: AtomicU64::new(0),
            messages: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            windows: Mutex::new(Windows {
                minute: Window::new(MINUTE_SNAPSHOTS, zero),
                hour: Window::new(HOUR_SNAPSHOTS, zero),
                day: Window::new(DAY_SNAPSHOTS, zero),
                active_at: now,
            }),
        }
    }

    fn add(&self, messages: u64, bytes: u64) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.messages.fetch_add(messages, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    fn snapshot(&self, at: Instant) -> Snapshot {
        Snapshot {
            at,
            calls: self.calls.load(Ordering::Relaxed),
            messages: self.messages.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }

    /// Adds a snapshot taken `now` to the windows `which` selects.
    fn sample(&self, now: Instant, which: Which) {
        let s = self.snapshot(now);
        let mut w = self.windows.lock();
        let before = w.minute.snapshots.back().map(|b| b.calls);
        if before != Some(s.calls) {
            w.active_at = now;
        }
        w.minute.push(s);
        if which.hour {
            w.hour.push(s);
        } else {
            w.hour.refresh(s);
        }
        if which.day {
            w.day.push(s);
        } else {
            w.day.refresh(s);
        }
    }

    fn figures(&self, m: Measure) -> KeyFigures {
        let w = self.windows.lock();
        KeyFigures {
            minute: w.minute.figures(m),
            hour: w.hour.figures(m),
            day: w.day.figures(m),
        }
    }

    fn idle_for(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.windows.lock().active_at)
    }
}

/// Which windows a sampling pass feeds (the minute window always).
#[derive(Debug, Clone, Copy)]
struct Which {
    hour: bool,
    day: bool,
}

/// Items by topic, then by group (`""` in the puts table).
#[derive(Debug, Default)]
struct Keys {
    by_topic: HashMap<String, HashMap<String, Item>>,
    len: usize,
}

/// One table of keys.
#[derive(Debug, Default)]
struct Table {
    keys: RwLock<Keys>,
    /// Keys created since the last tick, sampled at the next one.
    fresh: Mutex<Vec<(String, String)>>,
    /// Whether the "too many keys" warning was logged.
    full_warned: AtomicBool,
}

impl Table {
    fn record(&self, topic: &str, group: &str, messages: u64, bytes: u64) {
        {
            let keys = self.keys.read();
            if let Some(item) = keys.by_topic.get(topic).and_then(|g| g.get(group)) {
                item.add(messages, bytes);
                return;
            }
            // Full: no write lock for a key that will not be added.
            if keys.len >= MAX_KEYS {
                self.warn_full(topic, group);
                return;
            }
        }
        let mut keys = self.keys.write();
        let Keys { by_topic, len } = &mut *keys;
        if let Some(item) = by_topic.get(topic).and_then(|g| g.get(group)) {
            item.add(messages, bytes);
            return;
        }
        if *len >= MAX_KEYS {
            drop(keys);
            self.warn_full(topic, group);
            return;
        }
        let item = Item::new(Instant::now());
        item.add(messages, bytes);
        by_topic
            .entry(topic.to_owned())
            .or_default()
            .insert(group.to_owned(), item);
        *len += 1;
        self.fresh.lock().push((topic.to_owned(), group.to_owned()));
    }

    fn warn_full(&self, topic: &str, group: &str) {
        if !self.full_warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                max = MAX_KEYS,
                topic,
                group,
                "too many keys for per-topic statistics; new keys are not tracked until idle ones expire"
            );
        }
    }

    fn figures(&self, topic: &str, group: &str, m: Measure) -> Option<KeyFigures> {
        let keys = self.keys.read();
        let item = keys.by_topic.get(topic)?.get(group)?;
        Some(item.figures(m))
    }

    /// Samples the keys created since the last tick, then every key when the minute window is
    /// due (and the hour and day windows as `due` says); drops idle keys when `prune`.
    fn tick(&self, now: Instant, due: Option<Which>, prune: bool) {
        let fresh = std::mem::take(&mut *self.fresh.lock());
        {
            let keys = self.keys.read();
            let minute_only = Which {
                hour: false,
                day: false,
            };
            for (topic, group) in &fresh {
                if let Some(item) = keys.by_topic.get(topic).and_then(|g| g.get(group)) {
                    item.sample(now, minute_only);
                }
            }
            if let Some(which) = due {
                for item in keys.by_topic.values().flat_map(HashMap::values) {
                    item.sample(now, which);
                }
            }
        }
        if prune {
            let mut keys = self.keys.write();
            let Keys { by_topic, len } = &mut *keys;
            for groups in by_topic.values_mut() {
                groups.retain(|_, item| item.idle_for(now) <= IDLE_LIMIT);
            }
            by_topic.retain(|_, groups| !groups.is_empty());
            *len = by_topic.values().map(HashMap::len).sum();
            if *len < MAX_KEYS {
                self.full_warned.store(false, Ordering::Relaxed);
            }
        }
    }

    fn forget_topic(&self, topic: &str) {
        let mut keys = self.keys.write();
        if let Some(groups) = keys.by_topic.remove(topic) {
            keys.len -= groups.len();
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.keys.read().len
    }
}

/// The per-key statistics of one broker.
#[derive(Debug, Default)]
pub struct KeyedStats {
    puts: Table,
    gets: Table,
    ticks: AtomicU64,
}

impl KeyedStats {
    /// A send stored `messages` messages of `bytes` body bytes in `topic`.
    pub fn record_put(&self, topic: &str, messages: u64, bytes: u64) {
        self.puts.record(topic, "", messages, bytes);
    }

    /// A pull of `group` returned `messages` messages (`bytes` record bytes) of `topic`.
    pub fn record_get(&self, topic: &str, group: &str, messages: u64, bytes: u64) {
        self.gets.record(topic, group, messages, bytes);
    }

    /// The figures of `name` for `key` (a topic, or `topic@group`); `None` when the key was
    /// never seen (or expired).
    pub fn figures(&self, name: StatsName, key: &str) -> Option<KeyFigures> {
        match name {
            StatsName::TopicPutNums => self.puts.figures(key, "", Measure::Messages),
            StatsName::TopicPutSize => self.puts.figures(key, "", Measure::Bytes),
            StatsName::GroupGetNums | StatsName::GroupGetSize => {
                let (topic, group) = key.split_once('@')?;
                let m = match name {
                    StatsName::GroupGetNums => Measure::Messages,
                    _ => Measure::Bytes,
                };
                self.gets.figures(topic, group, m)
            }
        }
    }

    /// One sampler tick (every [`crate::stats::SAMPLE_INTERVAL`]): new keys are sampled, and
    /// every key when its windows are due.
    pub fn tick(&self, now: Instant) {
        let n = self.ticks.fetch_add(1, Ordering::Relaxed) + 1;
        let due = n.is_multiple_of(MINUTE_EVERY).then_some(Which {
            hour: n.is_multiple_of(HOUR_EVERY),
            day: n.is_multiple_of(DAY_EVERY),
        });
        let prune = n.is_multiple_of(HOUR_EVERY);
        self.puts.tick(now, due, prune);
        self.gets.tick(now, due, prune);
    }

    /// Drops every key of a deleted topic.
    pub fn forget_topic(&self, topic: &str) {
        self.puts.forget_topic(topic);
        self.gets.forget_topic(topic);
    }

    /// Keys held: (topics with puts, topic and group pairs with gets).
    #[cfg(test)]
    pub fn len(&self) -> (usize, usize) {
        (self.puts.len(), self.gets.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(base: Instant, secs: u64, calls: u64, messages: u64) -> Snapshot {
        Snapshot {
            at: base + Duration::from_secs(secs),
            calls,
            messages,
            bytes: messages * 10,
        }
    }

    #[test]
    fn a_window_is_last_minus_first() {
        let base = Instant::now();
        let mut w = Window::new(MINUTE_SNAPSHOTS, snap(base, 0, 0, 0));
        assert_eq!(w.figures(Measure::Messages), WindowFigures::default());
        w.push(snap(base, 10, 2, 30));
        w.push(snap(base, 20, 4, 50));
        let f = w.figures(Measure::Messages);
        assert_eq!(f.sum, 50);
        assert!((f.tps - 2.5).abs() < 1e-9, "{f:?}");
        assert!((f.avgpt - 12.5).abs() < 1e-9, "{f:?}");
        assert_eq!(w.figures(Measure::Bytes).sum, 500);
        // Seven snapshots at most: the oldest ones fall out and the window slides.
        for i in 3..=9 {
            w.push(snap(base, i * 10, 2 * i, 50 + 10 * (i - 2)));
        }
        assert_eq!(w.snapshots.len(), MINUTE_SNAPSHOTS);
        let f = w.figures(Measure::Messages);
        assert_eq!(f.sum, 60, "six steps of 10 in the last 60 s: {f:?}");
        assert!((f.tps - 1.0).abs() < 1e-9, "{f:?}");
    }

    #[test]
    fn a_later_end_keeps_the_span_within_the_window() {
        let base = Instant::now();
        let mut day = Window::new(3, snap(base, 0, 0, 0));
        day.refresh(snap(base, 5, 1, 7));
        assert_eq!(
            day.figures(Measure::Messages).sum,
            7,
            "zero at creation, 7 since"
        );
        day.push(snap(base, 3600, 2, 10));
        day.push(snap(base, 7200, 3, 20));
        assert_eq!(day.figures(Measure::Messages).sum, 20);
        // Full: a later end starts the window at the second periodic snapshot.
        day.refresh(snap(base, 7800, 4, 26));
        let f = day.figures(Measure::Messages);
        assert_eq!(f.sum, 16, "26 - 10: {f:?}");
        assert!((f.tps - 16.0 / 4200.0).abs() < 1e-12, "{f:?}");
        // The next periodic snapshot replaces the later end.
        day.push(snap(base, 10_800, 5, 30));
        assert_eq!(day.figures(Measure::Messages).sum, 20, "30 - 10");
    }

    #[test]
    fn a_new_key_shows_its_count_after_one_tick() {
        let s = KeyedStats::default();
        assert_eq!(s.figures(StatsName::TopicPutNums, "T"), None);
        s.record_put("T", 3, 30);
        s.record_put("T", 2, 20);
        // Created, not yet sampled: the windows hold the zero snapshot only.
        assert_eq!(
            s.figures(StatsName::TopicPutNums, "T").unwrap().minute.sum,
            0
        );
        s.tick(Instant::now() + Duration::from_millis(1));
        let f = s.figures(StatsName::TopicPutNums, "T").unwrap();
        assert_eq!((f.minute.sum, f.hour.sum, f.day.sum), (5, 5, 5));
        assert!((f.minute.avgpt - 2.5).abs() < 1e-9, "{f:?}");
        assert_eq!(s.figures(StatsName::TopicPutSize, "T").unwrap().day.sum, 50);
        s.record_get("T", "G", 4, 400);
        s.tick(Instant::now() + Duration::from_millis(2));
        assert_eq!(
            s.figures(StatsName::GroupGetNums, "T@G")
                .unwrap()
                .minute
                .sum,
            4
        );
        assert_eq!(
            s.figures(StatsName::GroupGetSize, "T@G")
                .unwrap()
                .minute
                .sum,
            400
        );
        assert_eq!(s.figures(StatsName::GroupGetNums, "T@H"), None);
        assert_eq!(s.figures(StatsName::GroupGetNums, "T"), None);
        assert_eq!(s.len(), (1, 1));
    }

    #[test]
    fn windows_fill_on_their_own_schedule() {
        let s = KeyedStats::default();
        let t0 = Instant::now();
        s.record_put("T", 1, 1);
        s.tick(t0 + Duration::from_secs(1));
        // 9 more ticks: the 10th samples the minute window and refreshes the others' end.
        s.record_put("T", 1, 1);
        for i in 2..=9 {
            s.tick(t0 + Duration::from_secs(i));
        }
        let f = s.figures(StatsName::TopicPutNums, "T").unwrap();
        assert_eq!((f.minute.sum, f.hour.sum, f.day.sum), (1, 1, 1));
        s.tick(t0 + Duration::from_secs(10));
        let f = s.figures(StatsName::TopicPutNums, "T").unwrap();
        assert_eq!((f.minute.sum, f.hour.sum, f.day.sum), (2, 2, 2));
        let w = s.puts.keys.read();
        let windows = w.by_topic["T"][""].windows.lock();
        assert_eq!(
            (
                windows.minute.snapshots.len(),
                windows.hour.snapshots.len(),
                windows.day.snapshots.len()
            ),
            (3, 1, 1),
            "creation + first tick + 10th tick; the hour and day windows await their period"
        );
    }

    #[test]
    fn idle_keys_expire_and_deleted_topics_go() {
        let s = KeyedStats::default();
        s.record_put("Old", 1, 1);
        s.record_put("Gone", 1, 1);
        s.record_get("Gone", "G", 1, 1);
        s.forget_topic("Gone");
        assert_eq!(s.len(), (1, 0));
        // Sampled once (it was new), then nothing for longer than the day window.
        let now = Instant::now();
        s.puts.tick(now, None, false);
        s.puts
            .tick(now + IDLE_LIMIT - Duration::from_secs(1), None, true);
        assert_eq!(s.len(), (1, 0), "not idle long enough yet");
        s.puts
            .tick(now + IDLE_LIMIT + Duration::from_secs(60), None, true);
        assert_eq!(s.len(), (0, 0));
        assert_eq!(s.figures(StatsName::TopicPutNums, "Old"), None);
    }

    #[test]
    fn the_key_count_is_bounded() {
        let t = Table::default();
        for i in 0..MAX_KEYS + 5 {
            t.record(&format!("T{i}"), "", 1, 1);
        }
        assert_eq!(t.len(), MAX_KEYS);
        assert!(t.figures("T0", "", Measure::Messages).is_some());
        assert!(t
            .figures(&format!("T{}", MAX_KEYS + 1), "", Measure::Messages)
            .is_none());
    }

    #[test]
    fn names_are_apaches() {
        assert_eq!("GROUP_GET_NUMS".parse(), Ok(StatsName::GroupGetNums));
        assert_eq!("TOPIC_PUT_SIZE".parse(), Ok(StatsName::TopicPutSize));
        assert!("SNDBCK_PUT_NUMS".parse::<StatsName>().is_err());
    }
}
