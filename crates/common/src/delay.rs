//! Delay levels (`messageDelayLevel`): `"1s 5s 10s ..."`, level = position + 1.

use std::time::Duration;

pub const DEFAULT_DELAY_LEVELS: &str = "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("messageDelayLevel entry {entry:?} is not a number followed by s, m, h or d")]
pub struct DelayLevelError {
    pub entry: String,
}

/// The parsed delay table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelayLevels {
    delays: Vec<Duration>,
}

impl DelayLevels {
    pub fn parse(s: &str) -> Result<Self, DelayLevelError> {
        let mut delays = Vec::new();
        for entry in s.split_whitespace() {
            let err = || DelayLevelError {
                entry: entry.to_owned(),
            };
            let (num, unit) =
                entry.split_at(entry.len() - entry.chars().last().map_or(0, char::len_utf8));
            let n: u64 = num.parse().map_err(|_| err())?;
            let ms = match unit {
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                _ => return Err(err()),
            };
            // A level past u64 milliseconds (584 million years) is a typo, not a delay.
            delays.push(Duration::from_millis(n.checked_mul(ms).ok_or_else(err)?));
        }
        if delays.is_empty() {
            return Err(DelayLevelError {
                entry: s.to_owned(),
            });
        }
        Ok(DelayLevels { delays })
    }

    /// Number of levels (the highest valid level).
    pub fn max_level(&self) -> i32 {
        self.delays.len() as i32
    }

    /// Delay of a 1-based level, clamped to the table.
    pub fn delay(&self, level: i32) -> Duration {
        let i = (level.clamp(1, self.max_level()) - 1) as usize;
        self.delays[i]
    }
}

impl Default for DelayLevels {
    fn default() -> Self {
        DelayLevels {
            delays: DEFAULT_DELAY_LEVELS
                .split(' ')
                .map(|e| {
                    let (n, u) = e.split_at(e.len() - 1);
                    let n: u64 = n.parse().unwrap_or(1);
                    Duration::from_millis(
                        n * match u {
                            "m" => 60_000,
                            "h" => 3_600_000,
                            _ => 1_000,
                        },
                    )
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_table() {
        let d = DelayLevels::parse(DEFAULT_DELAY_LEVELS).unwrap();
        assert_eq!(d, DelayLevels::default());
        assert_eq!(d.max_level(), 18);
        assert_eq!(d.delay(3), Duration::from_secs(10));
        assert_eq!(d.delay(18), Duration::from_secs(7200));
        assert_eq!(d.delay(99), Duration::from_secs(7200));
    }

    #[test]
    fn bad_entry_is_named() {
        let e = DelayLevels::parse("1s 5x").unwrap_err();
        assert_eq!(e.entry, "5x");
        assert!(DelayLevels::parse("").is_err());
        assert!(DelayLevels::parse("s").is_err());
        // Overflowing milliseconds: refused by name, no panic.
        let e = DelayLevels::parse("1s 99999999999999999d").unwrap_err();
        assert_eq!(e.entry, "99999999999999999d");
    }
}
