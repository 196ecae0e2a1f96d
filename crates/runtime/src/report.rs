//! The one line a daemon prints on stderr when it cannot start: the error and its causes,
//! skipping causes their parent already quotes, so scripts and supervisors can tell what went
//! wrong without reading a backtrace.

/// `e` and its sources on one line, joined by `": "`.
pub fn one_line(e: &(dyn std::error::Error + 'static)) -> String {
    let mut line = String::new();
    let mut next = Some(e);
    while let Some(cause) = next {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
        next = cause.source();
    }
    line.replace('\n', " ")
}

/// A daemon binary's exit: success, or the error's [`one_line`] on stderr (and in the log)
/// and exit code 1.
pub fn exit(
    daemon: &str,
    result: Result<(), Box<dyn std::error::Error + Send + Sync>>,
) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            let line = one_line(e.as_ref());
            tracing::error!("{line}");
            eprintln!("{daemon}: {line}");
            std::process::ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot listen on 0.0.0.0:1: {0}")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn quoted_causes_are_not_repeated() {
        let e = Outer(std::io::Error::other("address in use"));
        assert_eq!(one_line(&e), "cannot listen on 0.0.0.0:1: address in use");
    }
}
