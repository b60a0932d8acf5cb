//! What the portal keeps in a session. The state lives in the database
//! (`session_store`); the cookie carries only the session's random key.
use super::error::AppError;
use crate::auth::token;
use actix_session::Session;

pub const UID: &str = "uid";
const EPOCH: &str = "epoch";
const SEEN: &str = "seen";
/// When the signed-in session began (Unix seconds): the absolute limit.
pub const CREATED: &str = "created";
/// A random id of the signed-in session ("this session" on `/profile`).
pub const SID: &str = "sid";
/// The client address and browser at sign-in.
pub const ADDR: &str = "addr";
pub const UA: &str = "ua";
/// Whether this sign-in used two factors (TOTP, or PeeringDB with `mfa`).
const TWO_FACTOR: &str = "2fa";
const CSRF: &str = "csrf";
const FLASH: &str = "flash";
pub const PDB_STATE: &str = "pdb_state";
pub const PDB_VERIFIER: &str = "pdb_verifier";
/// A sign-in waiting for its second factor: the user, when the first
/// factor was given, how many wrong codes so far, where to go next.
const PENDING: &str = "pending_2fa";

/// The keys of a signed-in session: dropped when it ends.
pub const SIGNED_IN_KEYS: &[&str] = &[UID, EPOCH, SEEN, CREATED, SID, TWO_FACTOR, PENDING];

/// How long sessions last (SPEC §7), in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `PORTAL_SESSION_IDLE`: a session not used for longer ends.
    pub idle: i64,
    /// `PORTAL_SESSION_MAX`: a session older than this ends.
    pub max: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            idle: 2 * 60 * 60,
            max: 12 * 60 * 60,
        }
    }
}

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
    let list: Vec<Flash> = s.get(FLASH).ok().flatten().unwrap_or_default();
    if !list.is_empty() {
        s.remove(FLASH);
    }
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

/// Who signs in, from where.
pub struct SignIn<'a> {
    pub user_id: i64,
    pub epoch: i32,
    pub address: &'a str,
    pub user_agent: &'a str,
    /// Both factors were given (TOTP, or PeeringDB with `mfa`).
    pub two_factor: bool,
}

/// Starts a signed-in session: a new session (key, id and CSRF token),
/// keeping only the flash messages of the old one, whose row is deleted.
pub fn sign_in(s: &Session, who: &SignIn<'_>) -> Result<(), AppError> {
    let flashes = take_flashes(s);
    s.clear();
    s.renew();
    let t = now();
    ins(s, UID, who.user_id)?;
    ins(s, EPOCH, who.epoch)?;
    ins(s, SEEN, t)?;
    ins(s, CREATED, t)?;
    ins(s, SID, token::random_token())?;
    ins(s, ADDR, who.address)?;
    let ua: String = who
        .user_agent
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    ins(s, UA, ua)?;
    ins(s, TWO_FACTOR, who.two_factor)?;
    ins(s, CSRF, token::random_token())?;
    if !flashes.is_empty() {
        ins(s, FLASH, flashes)?;
    }
    Ok(())
}

/// Ends the session: its row is deleted (so that a copy of the cookie is
/// refused afterwards) and a new, signed-out one carries any notice.
pub fn sign_out(s: &Session) {
    s.clear();
    s.renew();
}

/// Marks the session as signed in with two factors (after enrolment).
pub fn set_two_factor(s: &Session) {
    let _ = s.insert(TWO_FACTOR, true);
}

/// This session's id (empty when signed out).
pub fn sid(s: &Session) -> String {
    s.get::<String>(SID).ok().flatten().unwrap_or_default()
}

/// Why a session ended by itself, if it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    Idle,
    Max,
}

/// Has a session signed in at `created` and last seen at `seen` (Unix
/// seconds) ended at `now`?
pub fn expiry(created: i64, seen: i64, now: i64, limits: Limits) -> Option<Expiry> {
    if now.saturating_sub(created) > limits.max {
        Some(Expiry::Max)
    } else if now.saturating_sub(seen) > limits.idle {
        Some(Expiry::Idle)
    } else {
        None
    }
}

/// A live signed-in session.
#[derive(Debug, Clone, Copy)]
pub struct SignedIn {
    pub user_id: i64,
    pub epoch: i32,
    pub two_factor: bool,
}

/// The signed-in user of a live session. A session past its limits is
/// ended here (with a notice).
pub fn signed_in(s: &Session, limits: Limits) -> Option<SignedIn> {
    let user_id = s.get::<i64>(UID).ok().flatten()?;
    let epoch = s.get::<i32>(EPOCH).ok().flatten().unwrap_or(-1);
    let seen = s.get::<i64>(SEEN).ok().flatten().unwrap_or(0);
    let created = s.get::<i64>(CREATED).ok().flatten().unwrap_or(0);
    let t = now();
    if let Some(why) = expiry(created, seen, t, limits) {
        sign_out(s);
        flash(
            s,
            "info",
            match why {
                Expiry::Idle => format!(
                    "Your session ended after {} without activity. Please sign in again.",
                    crate::domain::human_duration(limits.idle)
                ),
                Expiry::Max => format!(
                    "Your session ended: sessions last at most {}. Please sign in again.",
                    crate::domain::human_duration(limits.max)
                ),
            },
        );
        return None;
    }
    if t - seen > 30 {
        let _ = s.insert(SEEN, t);
    }
    Some(SignedIn {
        user_id,
        epoch,
        two_factor: s.get::<bool>(TWO_FACTOR).ok().flatten().unwrap_or(false),
    })
}

/// A sign-in waiting for the second factor (`/login/2fa`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Pending {
    pub user_id: i64,
    pub username: String,
    /// When the first factor was given (Unix seconds).
    pub since: i64,
    pub wrong: u32,
    pub next: String,
    /// The first factor was a PeeringDB login (no password failure then).
    pub peeringdb: bool,
}

/// How long the second factor may take after the first.
pub const PENDING_SECONDS: i64 = 5 * 60;

pub fn set_pending(s: &Session, p: &Pending) -> Result<(), AppError> {
    ins(s, PENDING, p)
}

/// The sign-in waiting for its second factor, if still in time.
pub fn pending(s: &Session) -> Option<Pending> {
    let p: Pending = s.get(PENDING).ok().flatten()?;
    if now().saturating_sub(p.since) > PENDING_SECONDS {
        s.remove(PENDING);
        return None;
    }
    Some(p)
}

pub fn clear_pending(s: &Session) {
    s.remove(PENDING);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_and_absolute_limits() {
        let l = Limits::default();
        let t = 1_800_000_000;
        assert_eq!(expiry(t, t, t, l), None);
        assert_eq!(expiry(t, t, t + l.idle, l), None);
        assert_eq!(expiry(t, t, t + l.idle + 1, l), Some(Expiry::Idle));
        assert_eq!(
            expiry(t, t + l.max, t + l.max + 1, l),
            Some(Expiry::Max),
            "used a second ago, but too old"
        );
        assert_eq!(expiry(0, 0, t, l), Some(Expiry::Max), "no times: ended");
    }
}
