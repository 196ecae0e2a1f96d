//! Java `.properties` files and typed configuration binding.
//!
//! RocketMQ operators keep `broker-a.properties` files; rmq reads them unchanged. [`parse_properties`]
//! implements the Java format (comments, `=`/`:`/space separators, escapes, line continuations).
//! A config struct lists its keys once with [`config_fields!`](crate::config_fields) and gets
//! `set_field` (bad values are errors naming key and value) and `fields` (for `-p` printing).

use std::fmt;
use std::path::{Path, PathBuf};

/// A configuration problem, always naming what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config key {key}: value {value:?} is not a valid {expected}")]
    InvalidValue {
        key: String,
        value: String,
        expected: &'static str,
    },
    #[error("config key {key} is required but missing")]
    Missing { key: String },
    #[error("config key {key}: {reason}")]
    Invalid { key: String, reason: String },
    #[error("cannot read config file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Keys of a config file that set no field of the daemon's config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnappliedKeys {
    /// Keys no version of Apache's daemon knows: likely typos, warned about.
    pub unknown: Vec<String>,
    /// Apache keys with no effect in rmq.
    pub ignored: Vec<String>,
}

impl UnappliedKeys {
    /// Sorts the keys [`apply`] left over into Apache keys rmq ignores (`ignored_apache_keys`)
    /// and unknown ones.
    pub fn sort(rest: Vec<String>, ignored_apache_keys: &[&str]) -> Self {
        let (ignored, unknown) = rest
            .into_iter()
            .partition(|k| ignored_apache_keys.contains(&k.as_str()));
        UnappliedKeys { unknown, ignored }
    }

    /// Logs each key: unknown ones as warnings (likely typos), Apache-only ones as info.
    pub fn log(&self, file: &Path) {
        let file = file.display();
        for key in &self.unknown {
            tracing::warn!(key = %key, %file, "unknown config key {key:?} ignored");
        }
        for key in &self.ignored {
            tracing::info!(key = %key, "config key {key:?} has no effect in rmq");
        }
    }
}

/// Parses Java `.properties` text into (key, value) pairs in file order.
pub fn parse_properties(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut logical = String::new();
    let mut continuing = false;
    for raw in text.lines() {
        let line = if continuing {
            raw.trim_start()
        } else {
            let t = raw.trim_start();
            if t.is_empty() || t.starts_with('#') || t.starts_with('!') {
                continue;
            }
            t
        };
        // A line continues when it ends in an odd number of backslashes.
        let trailing = line.chars().rev().take_while(|c| *c == '\\').count();
        if trailing % 2 == 1 {
            logical.push_str(&line[..line.len() - 1]);
            continuing = true;
            continue;
        }
        logical.push_str(line);
        continuing = false;
        out.push(split_entry(&logical));
        logical.clear();
    }
    if !logical.is_empty() {
        out.push(split_entry(&logical));
    }
    out
}

fn split_entry(line: &str) -> (String, String) {
    let mut key = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    key.push(unescape(n, &mut chars));
                }
            }
            '=' | ':' => break,
            c if c.is_whitespace() => {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                if matches!(chars.peek(), Some('=') | Some(':')) {
                    chars.next();
                }
                break;
            }
            c => key.push(c),
        }
    }
    while chars.peek().is_some_and(|c| c.is_whitespace()) {
        chars.next();
    }
    let mut value = String::new();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                value.push(unescape(n, &mut chars));
            }
        } else {
            value.push(c);
        }
    }
    (key, value.trim_end().to_owned())
}

fn unescape(c: char, rest: &mut std::iter::Peekable<std::str::Chars<'_>>) -> char {
    match c {
        't' => '\t',
        'n' => '\n',
        'r' => '\r',
        'f' => '\u{c}',
        'u' => {
            let hex: String = (0..4).filter_map(|_| rest.next()).collect();
            u32::from_str_radix(&hex, 16)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{fffd}')
        }
        other => other,
    }
}

/// Reads and parses a properties file.
pub fn read_properties_file(path: &Path) -> Result<Vec<(String, String)>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_owned(),
        source,
    })?;
    Ok(parse_properties(&text))
}

/// A value that can appear in a config file.
pub trait ConfigValue: Sized {
    fn parse_config(key: &str, value: &str) -> Result<Self, ConfigError>;
    fn to_config(&self) -> String;
}

macro_rules! number_value {
    ($($t:ty => $name:literal),*) => {$(
        impl ConfigValue for $t {
            fn parse_config(key: &str, value: &str) -> Result<Self, ConfigError> {
                value.trim().parse().map_err(|_| ConfigError::InvalidValue {
                    key: key.to_owned(),
                    value: value.to_owned(),
                    expected: $name,
                })
            }
            fn to_config(&self) -> String {
                self.to_string()
            }
        }
    )*};
}
number_value!(i32 => "integer", i64 => "integer", u16 => "port or 16-bit number",
    u32 => "non-negative integer", u64 => "non-negative integer", usize => "non-negative integer",
    f64 => "number");

impl ConfigValue for bool {
    fn parse_config(key: &str, value: &str) -> Result<Self, ConfigError> {
        match value.trim() {
            v if v.eq_ignore_ascii_case("true") => Ok(true),
            v if v.eq_ignore_ascii_case("false") => Ok(false),
            _ => Err(ConfigError::InvalidValue {
                key: key.to_owned(),
                value: value.to_owned(),
                expected: "boolean (true or false)",
            }),
        }
    }
    fn to_config(&self) -> String {
        self.to_string()
    }
}

impl ConfigValue for String {
    fn parse_config(_key: &str, value: &str) -> Result<Self, ConfigError> {
        Ok(value.trim().to_owned())
    }
    fn to_config(&self) -> String {
        self.clone()
    }
}

impl ConfigValue for PathBuf {
    fn parse_config(_key: &str, value: &str) -> Result<Self, ConfigError> {
        Ok(PathBuf::from(expand_home(value.trim())))
    }
    fn to_config(&self) -> String {
        self.display().to_string()
    }
}

/// Expands a leading `~` or `${user.home}` to the home directory, as Java configs use.
pub fn expand_home(s: &str) -> String {
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    if let Some(rest) = s.strip_prefix("${user.home}") {
        format!("{home}{rest}")
    } else if s == "~" {
        home
    } else if let Some(rest) = s.strip_prefix("~/") {
        format!("{home}/{rest}")
    } else {
        s.to_owned()
    }
}

/// A struct whose fields are bound to config keys.
pub trait ConfigFields {
    /// Sets one key. `Ok(false)` means the key is not one of this struct's.
    fn set_field(&mut self, key: &str, value: &str) -> Result<bool, ConfigError>;
    /// Every key with its current value, in declaration order.
    fn fields(&self) -> Vec<(&'static str, String)>;
}

/// Renders fields as `key=value` lines, as `-p` prints them.
pub fn render_fields(fields: &[(&'static str, String)]) -> String {
    let mut s = String::new();
    for (k, v) in fields {
        s.push_str(k);
        s.push('=');
        s.push_str(v);
        s.push('\n');
    }
    s
}

/// Declares the config keys of a struct: `field: key | "alias"`.
///
/// ```ignore
/// config_fields!(NamesrvConfig {
///     listen_port: "listenPort",
///     kv_config_path: "kvConfigPath",
/// });
/// ```
#[macro_export]
macro_rules! config_fields {
    ($ty:ty { $( $field:ident : $key:literal $(| $alias:literal)* ),* $(,)? }) => {
        impl $crate::config::ConfigFields for $ty {
            fn set_field(&mut self, key: &str, value: &str)
                -> ::std::result::Result<bool, $crate::config::ConfigError> {
                match key {
                    $( $key $(| $alias)* => {
                        self.$field = $crate::config::ConfigValue::parse_config(key, value)?;
                        Ok(true)
                    } )*
                    _ => Ok(false),
                }
            }
            fn fields(&self) -> ::std::vec::Vec<(&'static str, ::std::string::String)> {
                vec![ $( ($key, $crate::config::ConfigValue::to_config(&self.$field)) ),* ]
            }
        }
    };
}

/// Implements [`ConfigValue`] for a fieldless enum through its `FromStr` and `Display`.
#[macro_export]
macro_rules! config_enum_value {
    ($ty:ty, $expected:literal) => {
        impl $crate::config::ConfigValue for $ty {
            fn parse_config(
                key: &str,
                value: &str,
            ) -> ::std::result::Result<Self, $crate::config::ConfigError> {
                value
                    .trim()
                    .parse()
                    .map_err(|_| $crate::config::ConfigError::InvalidValue {
                        key: key.to_owned(),
                        value: value.to_owned(),
                        expected: $expected,
                    })
            }
            fn to_config(&self) -> ::std::string::String {
                self.to_string()
            }
        }
    };
}

/// Applies pairs to several sections in turn; a key no section knows is returned so the caller
/// can warn about it by name.
pub fn apply<'a>(
    pairs: impl IntoIterator<Item = &'a (String, String)>,
    sections: &mut [&mut dyn ConfigFields],
) -> Result<Vec<String>, ConfigError> {
    let mut unknown = Vec::new();
    for (k, v) in pairs {
        let mut known = false;
        for s in sections.iter_mut() {
            if s.set_field(k, v)? {
                known = true;
            }
        }
        if !known {
            unknown.push(k.clone());
        }
    }
    Ok(unknown)
}

impl fmt::Display for dyn ConfigFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&render_fields(&self.fields()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Demo {
        port: u16,
        name: String,
        flag: bool,
        size: i64,
    }
    config_fields!(Demo {
        port: "listenPort",
        name: "brokerName",
        flag: "autoCreateTopicEnable",
        size: "mappedFileSizeCommitLog" | "mapedFileSizeCommitLog",
    });

    #[test]
    fn parses_java_properties() {
        let text = "# comment\n! other\nbrokerClusterName = DefaultCluster\nbrokerName:broker-a\n\
                    namesrvAddr 127.0.0.1:9876;\\\n   127.0.0.2:9876\nempty=\nkey\\ with\\ space=v\\u0041\n";
        let p = parse_properties(text);
        assert_eq!(
            p,
            vec![
                ("brokerClusterName".into(), "DefaultCluster".into()),
                ("brokerName".into(), "broker-a".into()),
                ("namesrvAddr".into(), "127.0.0.1:9876;127.0.0.2:9876".into()),
                ("empty".into(), "".into()),
                ("key with space".into(), "vA".into()),
            ]
        );
    }

    #[test]
    fn binds_fields_and_reports_bad_values() {
        let mut d = Demo::default();
        let pairs = parse_properties(
            "listenPort=10911\nbrokerName=b\nautoCreateTopicEnable=TRUE\nmapedFileSizeCommitLog=1024\nfoo=1\n",
        );
        let unknown = apply(&pairs, &mut [&mut d]).unwrap();
        assert_eq!(unknown, vec!["foo".to_string()]);
        assert_eq!(
            (d.port, d.name.as_str(), d.flag, d.size),
            (10911, "b", true, 1024)
        );
        let err = d.set_field("listenPort", "ten").unwrap_err().to_string();
        assert!(
            err.contains("listenPort") && err.contains("\"ten\""),
            "{err}"
        );
        assert!(d.set_field("autoCreateTopicEnable", "yes").is_err());
        assert_eq!(d.fields()[0], ("listenPort", "10911".to_string()));
    }
}
