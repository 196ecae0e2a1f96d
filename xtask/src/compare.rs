//! `cargo xtask bench --compare NAMESRV`: the client benchmark against rmq's own cluster and
//! another RocketMQ cluster (Apache's, say) in one run, rounds interleaved, side by side with the
//! ratio per row.

use std::fmt::Write as _;

/// One row of the client benchmark's table (`| phase | messages | msgs/s | p50 | p99 | p999 |`).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub phase: String,
    pub rate: f64,
    pub p50: String,
    pub p99: String,
}

/// The data rows of one client benchmark table.
pub fn parse(table: &str) -> Vec<Row> {
    table
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l
                .trim()
                .strip_prefix('|')?
                .strip_suffix('|')?
                .split('|')
                .map(str::trim)
                .collect();
            let [phase, _, rate, p50, p99, ..] = cells.as_slice() else {
                return None;
            };
            Some(Row {
                phase: (*phase).to_owned(),
                rate: rate.parse().ok()?,
                p50: (*p50).to_owned(),
                p99: (*p99).to_owned(),
            })
        })
        .collect()
}

/// One round: rmq's rows and the other cluster's, in the benchmark's order.
pub struct Round {
    pub rmq: Vec<Row>,
    pub other: Vec<Row>,
}

/// The side-by-side table of every round: rate and latency of each, and rmq / other.
pub fn side_by_side(other_name: &str, rounds: &[Round]) -> String {
    let mut out = format!(
        "| round | phase | rmq msgs/s | {other_name} msgs/s | ratio | rmq p50 / p99 | {other_name} p50 / p99 |\n\
         |---|---|---|---|---|---|---|\n"
    );
    for (i, r) in rounds.iter().enumerate() {
        for mine in &r.rmq {
            let Some(theirs) = r.other.iter().find(|o| o.phase == mine.phase) else {
                continue;
            };
            let ratio = if theirs.rate > 0.0 {
                format!("{:.2}×", mine.rate / theirs.rate)
            } else {
                "-".to_owned()
            };
            let _ = writeln!(
                out,
                "| {} | {} | {:.0} | {:.0} | {ratio} | {} | {} |",
                i + 1,
                mine.phase,
                mine.rate,
                theirs.rate,
                latency(mine),
                latency(theirs)
            );
        }
    }
    out
}

/// `p50 / p99`, or `-` for a phase that measures no latency (the benchmark prints 0ns).
fn latency(r: &Row) -> String {
    if r.p50 == "0ns" && r.p99 == "0ns" {
        "-".to_owned()
    } else {
        format!("{} / {}", r.p50, r.p99)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str =
        "| phase | messages | msgs/s | p50 | p99 | p999 |\n|---|---|---|---|---|---|\n\
        | sync send, 1 in flight | 100 | 2000 | 400µs | 1ms | 2ms |\n\
        | async send, 32 in flight | 400 | 8000 | 3ms | 9ms | 10ms |\n";

    #[test]
    fn parses_the_data_rows_only() {
        let rows = parse(TABLE);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].phase, "sync send, 1 in flight");
        assert_eq!(rows[0].rate, 2000.0);
        assert_eq!(rows[1].p99, "9ms");
    }

    #[test]
    fn ratio_per_row() {
        let mut other = parse(TABLE);
        other[0].rate = 1000.0;
        let t = side_by_side(
            "apache",
            &[Round {
                rmq: parse(TABLE),
                other,
            }],
        );
        assert!(
            t.contains("| 1 | sync send, 1 in flight | 2000 | 1000 | 2.00× |"),
            "{t}"
        );
        assert!(
            t.contains("| 1 | async send, 32 in flight | 8000 | 8000 | 1.00× |"),
            "{t}"
        );
    }
}
