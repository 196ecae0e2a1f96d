//! The open-file limit. Every client connection and every store file being created takes a file
//! descriptor, and the soft limit a shell hands out (often 1024) is far below what a broker with
//! thousands of clients needs. The JVM raises its soft limit to the hard one at start
//! (`-XX:+MaxFDLimit`, on by default), so Apache's daemons never meet the soft limit; rmq's
//! daemons do the same, and log the limit they run with.

/// The soft and hard `RLIMIT_NOFILE` after raising the soft limit to the hard one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenFiles {
    pub before: u64,
    pub soft: u64,
    pub hard: u64,
}

/// Raises the soft open-file limit to the hard limit. An error (which the caller logs) leaves
/// the limit as it was.
pub fn raise_open_files() -> std::io::Result<OpenFiles> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the rlimit struct we own; no other memory is touched.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let before = lim.rlim_cur;
    if lim.rlim_cur < lim.rlim_max {
        lim.rlim_cur = lim.rlim_max;
        // SAFETY: setrlimit reads the rlimit struct we own; raising the soft limit up to the
        // hard one needs no privilege.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(OpenFiles {
        before,
        soft: lim.rlim_cur,
        hard: lim.rlim_max,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_soft_limit_ends_at_the_hard_limit() {
        let got = raise_open_files().unwrap();
        assert_eq!(got.soft, got.hard);
        assert!(got.before <= got.soft);
        // A second call finds nothing to raise.
        assert_eq!(raise_open_files().unwrap().before, got.soft);
    }
}
