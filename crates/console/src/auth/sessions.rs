//! Logged-in sessions: a random token in an HttpOnly cookie, a CSRF token per session, an idle
//! timeout, and a bound on how many exist (memory never grows with login attempts).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rand::RngCore;

use super::users::Role;

/// Sessions idle longer than this are gone.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(8 * 3600);
/// At most this many sessions at once; logins beyond it are refused until some expire.
pub const MAX_SESSIONS: usize = 10_000;

/// Who is behind a request.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: String,
    pub role: Role,
    pub csrf: String,
    last_seen: Instant,
}

impl Session {
    pub fn new(user: impl Into<String>, role: Role) -> Session {
        Session {
            user: user.into(),
            role,
            csrf: random_token(),
            last_seen: Instant::now(),
        }
    }
}

#[derive(Default)]
pub struct Sessions {
    by_token: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// A new session's cookie token, or None when [`MAX_SESSIONS`] live ones exist.
    pub fn open(&self, session: Session) -> Option<String> {
        let mut map = self.by_token.lock();
        if map.len() >= MAX_SESSIONS {
            map.retain(|_, s| s.last_seen.elapsed() < IDLE_TIMEOUT);
            if map.len() >= MAX_SESSIONS {
                return None;
            }
        }
        let token = random_token();
        map.insert(token.clone(), session);
        Some(token)
    }

    /// The live session of `token`, its idle clock restarted.
    pub fn get(&self, token: &str) -> Option<Session> {
        let mut map = self.by_token.lock();
        match map.get_mut(token) {
            Some(s) if s.last_seen.elapsed() < IDLE_TIMEOUT => {
                s.last_seen = Instant::now();
                Some(s.clone())
            }
            Some(_) => {
                map.remove(token);
                None
            }
            None => None,
        }
    }

    pub fn close(&self, token: &str) {
        self.by_token.lock().remove(token);
    }
}

/// 32 random bytes from the OS, hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares without stopping at the first difference.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_found_by_its_token_until_closed() {
        let s = Sessions::default();
        let t = s.open(Session::new("ann", Role::Admin)).unwrap();
        assert_eq!(s.get(&t).unwrap().user, "ann");
        assert!(s.get("nope").is_none());
        s.close(&t);
        assert!(s.get(&t).is_none());
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "abcd"));
    }
}
