//! What the portal keeps in the (signed, encrypted) session cookie.
use super::error::AppError;
use crate::auth::token;
use actix_session::Session;

const UID: &str = "uid";
const EPOCH: &str = "epoch";
const SEEN: &str = "seen";
const CSRF: &str = "csrf";
const FLASH: &str = "flash";
pub const PDB_STATE: &str = "pdb_state";
pub const PDB_VERIFIER: &str = "pdb_verifier";

/// An idle session ends after this many seconds.
pub const IDLE_SECONDS: i64 = 2 * 60 * 60;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Flash {
    pub level: String,
    pub text: String,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn ins<T: serde::Serialize>(s: &Session, k: &str, v: T) -> Result<(), AppError> {
    s.insert(k, v).map_err(AppError::internal)
}

pub fn flash(s: &Session, level: &str, text: impl Into<String>) {
    let mut list: Vec<Flash> = s.get(FLASH).ok().flatten().unwrap_or_default();
    list.push(Flash {
        level: level.into(),
        text: text.into(),
    });
    let _ = s.insert(FLASH, list);
}

pub fn take_flashes(s: &Session) -> Vec<Flash> {
    let list = s.get(FLASH).ok().flatten().unwrap_or_default();
    s.remove(FLASH);
    list
}

/// The session's CSRF token, made on first use.
pub fn csrf_token(s: &Session) -> String {
    match s.get::<String>(CSRF).ok().flatten() {
        Some(t) => t,
        None => {
            let t = token::random_token();
            let _ = s.insert(CSRF, &t);
            t
        }
    }
}

pub fn csrf_matches(s: &Session, given: &str) -> bool {
    match s.get::<String>(CSRF).ok().flatten() {
        Some(t) => token::constant_time_eq(t.as_bytes(), given.as_bytes()),
        None => false,
    }
}

/// Starts a signed-in session: a new session (id and CSRF token), keeping
/// only the flash messages of the old one.
pub fn sign_in(s: &Session, user_id: i64, epoch: i32) -> Result<(), AppError> {
    let flashes = take_flashes(s);
    s.clear();
    s.renew();
    ins(s, UID, user_id)?;
    ins(s, EPOCH, epoch)?;
    ins(s, SEEN, now())?;
    ins(s, CSRF, token::random_token())?;
    if !flashes.is_empty() {
        ins(s, FLASH, flashes)?;
    }
    Ok(())
}

pub fn sign_out(s: &Session) {
    s.clear();
    s.renew();
}

/// Has a session last seen at `seen` (Unix seconds) been idle too long at `now`?
pub fn is_idle(seen: i64, now: i64) -> bool {
    now.saturating_sub(seen) > IDLE_SECONDS
}

/// The signed-in user id and password epoch, if the session is live. An
/// idle session is ended here (with a notice).
pub fn signed_in(s: &Session) -> Option<(i64, i32)> {
    let uid = s.get::<i64>(UID).ok().flatten()?;
    let epoch = s.get::<i32>(EPOCH).ok().flatten().unwrap_or(-1);
    let seen = s.get::<i64>(SEEN).ok().flatten().unwrap_or(0);
    let t = now();
    if is_idle(seen, t) {
        sign_out(s);
        flash(
            s,
            "info",
            "Your session ended after 2 hours without activity. Please sign in again.",
        );
        return None;
    }
    if t - seen > 30 {
        let _ = s.insert(SEEN, t);
    }
    Some((uid, epoch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_after_two_hours() {
        let t = 1_800_000_000;
        assert!(!is_idle(t, t));
        assert!(!is_idle(t, t + IDLE_SECONDS));
        assert!(is_idle(t, t + IDLE_SECONDS + 1));
        assert!(is_idle(0, t), "a session without a seen time is idle");
    }
}
