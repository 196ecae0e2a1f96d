//! Local calendar time for file names (`yyyyMMddHHmmssSSS`), `deleteWhen` hours and the daily
//! statistics roll-over, as Java's `Calendar` sees it. One place for the `localtime_r` calls.

/// `yyyyMMddHHmmssSSS` in local time, like Java's `UtilAll.timeMillisToHumanString`.
pub(crate) fn local_time_name(millis: i64) -> String {
    let secs = (millis / 1000) as libc::time_t;
    // SAFETY: `tm` is plain old data, fully initialised by zeroing; `localtime_r` only writes into
    // it and reads `secs`, both valid for the call.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&secs, &mut tm);
        tm
    };
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}{:03}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        millis % 1000
    )
}

/// The local hour of day (0-23) of a timestamp, for `deleteWhen`.
pub(crate) fn local_hour(millis: i64) -> u32 {
    let secs = (millis / 1000) as libc::time_t;
    // SAFETY: as in `local_time_name`.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&secs, &mut tm);
        tm
    };
    tm.tm_hour.clamp(0, 23) as u32
}

/// The local calendar day of a timestamp, as days since 1970-01-01 in local time: two
/// timestamps share a value exactly when they fall on the same local date.
pub fn local_day(millis: i64) -> i64 {
    let secs = millis.div_euclid(1000) as libc::time_t;
    // SAFETY: as in `local_time_name`.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&secs, &mut tm);
        tm
    };
    (secs as i64 + tm.tm_gmtoff as i64).div_euclid(86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_advance_by_one_every_24_hours() {
        let t = 1_700_000_000_000;
        assert_eq!(local_day(t + 86_400_000), local_day(t) + 1);
        assert_eq!(local_day(t - 86_400_000), local_day(t) - 1);
    }

    #[test]
    fn a_day_starts_at_local_midnight() {
        let t = 1_700_000_000_000;
        let hour = i64::from(local_hour(t));
        let hours_later_still_today = 23 - hour;
        assert_eq!(
            local_day(t + hours_later_still_today * 3_600_000),
            local_day(t)
        );
        assert_eq!(
            local_day(t + (hours_later_still_today + 1) * 3_600_000),
            local_day(t) + 1
        );
    }
}
