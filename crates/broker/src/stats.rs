//! The figures GET_BROKER_RUNTIME_INFO reports about traffic (`BrokerStats` and
//! `StoreStatsService` in Apache): messages put and got in total, at the start of today and of
//! yesterday, and put/get rates over the last 10 s, 60 s and 600 s.
//!
//! The hot path only adds to atomics. A sampler task owned by the broker records the totals
//! once a second into a ring of 601 samples; a rate is the growth from the sample a window ago
//! (or the oldest one, early after boot) to the counters now. The same tick notices the local
//! date change and moves "today morning" to "yesterday morning", as Apache's midnight job does.
//! Nothing here is a guess: before the first day boundary the morning figures are the totals at
//! boot, which are zero.
//!
//! The same calls feed the per-topic and per-`topic@group` figures of VIEW_BROKER_STATS_DATA
//! ([`KeyedStats`]), and the same tick samples them, so the send and pull paths count each
//! message in one place.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rmq_common::time::now_millis;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::keyed_stats::KeyedStats;

/// How often the totals are sampled.
pub const SAMPLE_INTERVAL: Duration = Duration::from_secs(1);
/// Samples kept: enough for the 600 s window plus the sample that starts it.
const MAX_SAMPLES: usize = 601;
/// The windows of `putTps` and `getTransferedTps`, in Apache's order.
const TPS_WINDOWS: [Duration; 3] = [
    Duration::from_secs(10),
    Duration::from_secs(60),
    Duration::from_secs(600),
];

#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Instant,
    put: u64,
    got: u64,
}

#[derive(Debug)]
struct Days {
    day: i64,
    put_today_morning: u64,
    got_today_morning: u64,
    put_yesterday_morning: u64,
    got_yesterday_morning: u64,
}

/// Traffic counters and their sampled history.
#[derive(Debug)]
pub struct BrokerStats {
    put_messages: AtomicU64,
    put_bytes: AtomicU64,
    put_failed: AtomicU64,
    put_time_max_ms: AtomicU64,
    got_messages: AtomicU64,
    pulls_found: AtomicU64,
    pulls_missed: AtomicU64,
    pulls_in_progress: AtomicI64,
    samples: Mutex<VecDeque<Sample>>,
    days: Mutex<Days>,
    keyed: KeyedStats,
}

impl Default for BrokerStats {
    fn default() -> Self {
        Self::new()
    }
}

impl BrokerStats {
    pub fn new() -> Self {
        let mut samples = VecDeque::with_capacity(MAX_SAMPLES);
        samples.push_back(Sample {
            at: Instant::now(),
            put: 0,
            got: 0,
        });
        BrokerStats {
            put_messages: AtomicU64::new(0),
            put_bytes: AtomicU64::new(0),
            put_failed: AtomicU64::new(0),
            put_time_max_ms: AtomicU64::new(0),
            got_messages: AtomicU64::new(0),
            pulls_found: AtomicU64::new(0),
            pulls_missed: AtomicU64::new(0),
            pulls_in_progress: AtomicI64::new(0),
            samples: Mutex::new(samples),
            days: Mutex::new(Days {
                day: rmq_store::local_day(now_millis()),
                put_today_morning: 0,
                got_today_morning: 0,
                put_yesterday_morning: 0,
                got_yesterday_morning: 0,
            }),
            keyed: KeyedStats::default(),
        }
    }

    /// A send stored `messages` messages of `bytes` body bytes in `topic`, in `elapsed`.
    pub fn record_put(&self, topic: &str, messages: u64, bytes: u64, elapsed: Duration) {
        self.keyed.record_put(topic, messages, bytes);
        self.put_messages.fetch_add(messages, Ordering::Relaxed);
        self.put_bytes.fetch_add(bytes, Ordering::Relaxed);
        self.put_time_max_ms
            .fetch_max(elapsed.as_millis() as u64, Ordering::Relaxed);
    }

    /// A send the store did not accept.
    pub fn record_put_failed(&self) {
        self.put_failed.fetch_add(1, Ordering::Relaxed);
    }

    /// A pull of `group` answered with `messages` messages of `topic`, `bytes` record bytes
    /// in all (0 messages: found nothing).
    pub fn record_get(&self, topic: &str, group: &str, messages: u64, bytes: u64) {
        if messages == 0 {
            self.pulls_missed.fetch_add(1, Ordering::Relaxed);
        } else {
            self.pulls_found.fetch_add(1, Ordering::Relaxed);
            self.got_messages.fetch_add(messages, Ordering::Relaxed);
            self.keyed.record_get(topic, group, messages, bytes);
        }
    }

    /// The per-topic and per-`topic@group` figures (VIEW_BROKER_STATS_DATA).
    pub fn keyed(&self) -> &KeyedStats {
        &self.keyed
    }

    /// Counts a pull as being worked on until the guard drops (`pullThreadPoolQueueSize`).
    pub fn pull_started(self: &Arc<Self>) -> PullInProgress {
        self.pulls_in_progress.fetch_add(1, Ordering::Relaxed);
        PullInProgress(self.clone())
    }

    /// Records the totals now and rolls the day over when the local date changed.
    pub fn sample(&self) {
        let put = self.put_messages.load(Ordering::Relaxed);
        let got = self.got_messages.load(Ordering::Relaxed);
        {
            let mut s = self.samples.lock();
            if s.len() == MAX_SAMPLES {
                s.pop_front();
            }
            s.push_back(Sample {
                at: Instant::now(),
                put,
                got,
            });
        }
        self.roll_day(rmq_store::local_day(now_millis()), put, got);
        self.keyed.tick(Instant::now());
    }

    fn roll_day(&self, today: i64, put: u64, got: u64) {
        let mut d = self.days.lock();
        if today == d.day {
            return;
        }
        if today == d.day + 1 {
            d.put_yesterday_morning = d.put_today_morning;
            d.got_yesterday_morning = d.got_today_morning;
        } else {
            // The broker slept through a whole day (or the clock jumped): yesterday morning's
            // total is unknown beyond "at most now".
            d.put_yesterday_morning = put;
            d.got_yesterday_morning = got;
        }
        d.put_today_morning = put;
        d.got_today_morning = got;
        d.day = today;
    }

    /// Every figure, read now.
    pub fn snapshot(&self) -> StatsSnapshot {
        let now = Instant::now();
        let put = self.put_messages.load(Ordering::Relaxed);
        let got = self.got_messages.load(Ordering::Relaxed);
        let samples = self.samples.lock();
        let rate = |window: Duration, pick: fn(&Sample) -> u64, current: u64| -> f64 {
            let start = samples
                .iter()
                .rev()
                .find(|s| now.duration_since(s.at) >= window)
                .or_else(|| samples.front());
            match start {
                Some(s) => {
                    let secs = now.duration_since(s.at).as_secs_f64();
                    if secs > 0.0 {
                        current.saturating_sub(pick(s)) as f64 / secs
                    } else {
                        0.0
                    }
                }
                None => 0.0,
            }
        };
        let put_tps = TPS_WINDOWS.map(|w| rate(w, |s| s.put, put));
        let get_tps = TPS_WINDOWS.map(|w| rate(w, |s| s.got, got));
        drop(samples);
        let d = self.days.lock();
        StatsSnapshot {
            put_total_today_now: put,
            put_total_today_morning: d.put_today_morning,
            put_total_yesterday_morning: d.put_yesterday_morning,
            get_total_today_now: got,
            get_total_today_morning: d.got_today_morning,
            get_total_yesterday_morning: d.got_yesterday_morning,
            put_tps,
            get_transferred_tps: get_tps,
            put_bytes_total: self.put_bytes.load(Ordering::Relaxed),
            put_failed: self.put_failed.load(Ordering::Relaxed),
            put_time_max_ms: self.put_time_max_ms.load(Ordering::Relaxed),
            pulls_found: self.pulls_found.load(Ordering::Relaxed),
            pulls_missed: self.pulls_missed.load(Ordering::Relaxed),
            pulls_in_progress: self.pulls_in_progress.load(Ordering::Relaxed).max(0),
        }
    }

    /// Starts the sampler, owned by `tasks` and stopped by `shutdown`.
    pub fn start_sampler(self: &Arc<Self>, tasks: &TaskTracker, shutdown: CancellationToken) {
        let stats = self.clone();
        tasks.spawn(async move {
            let mut tick = tokio::time::interval(SAMPLE_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = tick.tick() => stats.sample(),
                    _ = shutdown.cancelled() => return,
                }
            }
        });
    }
}

/// Marks one pull as in progress while alive.
pub struct PullInProgress(Arc<BrokerStats>);

impl Drop for PullInProgress {
    fn drop(&mut self) {
        self.0.pulls_in_progress.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The figures at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsSnapshot {
    pub put_total_today_now: u64,
    pub put_total_today_morning: u64,
    pub put_total_yesterday_morning: u64,
    pub get_total_today_now: u64,
    pub get_total_today_morning: u64,
    pub get_total_yesterday_morning: u64,
    /// Messages per second over 10 s, 60 s and 600 s.
    pub put_tps: [f64; 3],
    pub get_transferred_tps: [f64; 3],
    pub put_bytes_total: u64,
    pub put_failed: u64,
    pub put_time_max_ms: u64,
    pub pulls_found: u64,
    pub pulls_missed: u64,
    pub pulls_in_progress: i64,
}

/// Apache's rendering of a rate triple: three space-separated numbers.
pub fn format_tps(tps: &[f64; 3]) -> String {
    format!("{:.2} {:.2} {:.2}", tps[0], tps[1], tps[2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_and_rates_follow_the_counters() {
        let s = BrokerStats::new();
        std::thread::sleep(Duration::from_millis(20));
        s.record_put("T", 100, 1000, Duration::from_millis(3));
        s.record_get("T", "G", 40, 4000);
        s.record_get("T", "G", 0, 0);
        let snap = s.snapshot();
        assert_eq!(snap.put_total_today_now, 100);
        assert_eq!(snap.get_total_today_now, 40);
        assert_eq!((snap.pulls_found, snap.pulls_missed), (1, 1));
        assert!(snap.put_tps.iter().all(|t| *t > 0.0), "{snap:?}");
        assert!(snap.get_transferred_tps[0] > 0.0, "{snap:?}");
        assert_eq!(snap.put_time_max_ms, 3);
    }

    #[test]
    fn the_day_rolls_at_the_date_change() {
        let s = BrokerStats::new();
        let today = s.days.lock().day;
        s.record_put("T", 5, 0, Duration::ZERO);
        s.roll_day(today + 1, 5, 0);
        s.record_put("T", 7, 0, Duration::ZERO);
        let snap = s.snapshot();
        assert_eq!(snap.put_total_yesterday_morning, 0);
        assert_eq!(snap.put_total_today_morning, 5);
        assert_eq!(snap.put_total_today_now, 12);
        s.roll_day(today + 2, 12, 0);
        let snap = s.snapshot();
        assert_eq!(
            (
                snap.put_total_yesterday_morning,
                snap.put_total_today_morning
            ),
            (5, 12)
        );
    }

    #[test]
    fn tps_is_three_space_separated_numbers() {
        assert_eq!(format_tps(&[1.0, 0.5, 0.25]), "1.00 0.50 0.25");
    }

    #[test]
    fn pulls_in_progress_count_guards() {
        let s = Arc::new(BrokerStats::new());
        let a = s.pull_started();
        let b = s.pull_started();
        assert_eq!(s.snapshot().pulls_in_progress, 2);
        drop(a);
        drop(b);
        assert_eq!(s.snapshot().pulls_in_progress, 0);
    }
}
