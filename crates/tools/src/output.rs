//! Output for people and for scripts: aligned text tables like Apache's tools print, `--json`
//! documents of the same data, timestamps and message bodies made readable.
//!
//! Every command builds one serializable report and renders it either way through [`emit`], so the
//! two forms never disagree about what was found.

use std::fmt::Write as _;

use serde::Serialize;

/// A text table: a header row and data rows, columns padded to their widest cell.
#[derive(Debug, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles (Apache prints them with a leading `#`).
    pub fn new<I, S>(headers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Table {
            headers: headers
                .into_iter()
                .map(|h| format!("#{}", h.into()))
                .collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: ToString,
    {
        self.rows
            .push(cells.into_iter().map(|c| c.to_string()).collect());
    }

    /// Whether no row was added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text, one line per row, columns separated by two spaces.
    pub fn render(&self) -> String {
        let columns = self
            .rows
            .iter()
            .map(Vec::len)
            .chain([self.headers.len()])
            .max()
            .unwrap_or(0);
        let mut widths = vec![0usize; columns];
        for row in std::iter::once(&self.headers).chain(&self.rows) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&self.headers).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    let pad = widths[i].saturating_sub(cell.chars().count());
                    line.push_str(cell);
                    line.push_str(&" ".repeat(pad + 2));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// `key : value` lines with the keys padded to the longest (Apache's brokerStatus layout).
pub fn key_values<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> String {
    let pairs: Vec<_> = pairs.into_iter().collect();
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (k, v) in pairs {
        let _ = writeln!(out, "{k:<width$} : {v}");
    }
    out
}

/// Prints `report` as pretty JSON when `json` is set, else the text `render` makes of it.
pub fn emit<T: Serialize>(json: bool, report: &T, render: impl FnOnce(&T) -> String) {
    if json {
        match serde_json::to_string_pretty(report) {
            Ok(mut s) => {
                s.push('\n');
                print_out(&s);
            }
            // Reports are plain data; this cannot happen, but never panic over output.
            Err(e) => eprintln!("cannot encode the report as JSON: {e}"),
        }
    } else {
        print_out(&render(report));
    }
}

/// Writes `text` to stdout. A closed pipe (`mqadmin ... | head`) is not an error worth a panic:
/// the reader has what it wanted.
pub fn print_out(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("cannot write to stdout: {e}");
        }
    }
}

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS.mmm` in UTC; `-` for 0 or less (never).
pub fn format_millis(ms: i64) -> String {
    if ms <= 0 {
        return "-".to_owned();
    }
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{millis:03}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// How a message body is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BodyView {
    /// `utf8` or `hex`.
    pub encoding: &'static str,
    /// The (possibly truncated) body text.
    pub text: String,
    /// The full body length in bytes.
    pub length: usize,
    /// Whether `text` shows only the first `limit` bytes.
    pub truncated: bool,
}

impl BodyView {
    /// The body as UTF-8 text if it is valid UTF-8, else as hex; at most `limit` bytes shown.
    pub fn new(body: &[u8], limit: usize) -> Self {
        let shown = &body[..body.len().min(limit)];
        let (encoding, text) = match std::str::from_utf8(body) {
            Ok(_) => (
                "utf8",
                // Cutting at `limit` may split a character; show what decodes.
                String::from_utf8_lossy(shown).into_owned(),
            ),
            Err(_) => ("hex", rmq_common::msg_id::to_hex(shown)),
        };
        BodyView {
            encoding,
            text,
            length: body.len(),
            truncated: shown.len() < body.len(),
        }
    }

    /// The text plus a note when it was truncated or is hex.
    pub fn describe(&self, limit: usize) -> String {
        let mut s = self.text.clone();
        if self.encoding == "hex" {
            s.push_str("  (not UTF-8; shown as hex)");
        }
        if self.truncated {
            let _ = write!(
                s,
                " ... (truncated: first {limit} of {} bytes shown; raise --max-body to see more)",
                self.length
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns() {
        let mut t = Table::new(["Name", "QID"]);
        t.row(["broker-a", "0"]);
        t.row(["b", "10"]);
        assert_eq!(t.render(), "#Name     #QID\nbroker-a  0\nb         10\n");
    }

    #[test]
    fn millis_format_in_utc() {
        assert_eq!(format_millis(0), "-");
        assert_eq!(format_millis(86_400_000 + 1), "1970-01-02 00:00:00.001");
        assert_eq!(format_millis(1_700_000_000_123), "2023-11-14 22:13:20.123");
        assert_eq!(format_millis(951_782_400_000), "2000-02-29 00:00:00.000");
    }

    #[test]
    fn bodies_show_as_text_or_hex_and_truncate() {
        let b = BodyView::new(b"hello", 3);
        assert_eq!(
            (b.encoding, b.text.as_str(), b.truncated),
            ("utf8", "hel", true)
        );
        assert!(b.describe(3).contains("first 3 of 5 bytes"));
        let b = BodyView::new(&[0xff, 0x00], 16);
        assert_eq!((b.encoding, b.text.as_str()), ("hex", "FF00"));
        assert!(!b.truncated);
    }
}
