//! The benchmarks' result table: one `| phase | messages | msgs/s | p50 | p99 | p999 |` row per
//! phase. Shared by `examples/bench.rs` and the broker's `grpc_bench` example.

use std::time::Duration;

/// The table's header lines.
pub const HEADER: &str =
    "| phase | messages | msgs/s | p50 | p99 | p999 |\n|---|---|---|---|---|---|";

fn pct(lat: &mut [Duration], p: f64) -> Duration {
    if lat.is_empty() {
        return Duration::ZERO;
    }
    lat.sort_unstable();
    lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)]
}

/// Prints the row of phase `name`: `n` messages in `elapsed`, latency percentiles of `lat`.
pub fn report(name: &str, n: usize, elapsed: Duration, lat: &mut [Duration]) {
    println!(
        "| {name} | {n} | {:.0} | {:.0?} | {:.0?} | {:.0?} |",
        n as f64 / elapsed.as_secs_f64(),
        pct(lat, 0.50),
        pct(lat, 0.99),
        pct(lat, 0.999)
    );
}
