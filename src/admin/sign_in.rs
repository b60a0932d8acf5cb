//! Password sign-ins in the audit log (SPEC §8): each success, each
//! failure (with the throttling count, in one transaction) and each
//! lock-out a failure starts. The actor is the account's username, or
//! `anonymous` (with the client address as subject) when no account
//! matches; a username that matches no account is never written down.
use crate::db::login_throttle::{self, ACCOUNT_FAILURES, ADDRESS_FAILURES, Attempt, Lock};
use crate::db::{DbConnection, audit, models::now, write_tx};

pub const ACTOR_ANONYMOUS: &str = "anonymous";
pub const ACTION_SUCCESS: &str = "login.password";
pub const ACTION_FAILURE: &str = "login.failure";
pub const ACTION_LOCKOUT: &str = "login.lockout";

const WINDOW: i64 = login_throttle::WINDOW_MINUTES;

/// Counts a failed sign-in and audits it, with the lock-outs it starts.
/// `account` is the username of the account the attempt was for, when
/// one exists; `why` says what was wrong ("wrong password", …).
pub fn failed(
    conn: &mut DbConnection,
    account: Option<&str>,
    attempt: &Attempt,
    why: &str,
) -> Result<Vec<Lock>, diesel::result::Error> {
    write_tx(conn, |c| {
        let started = login_throttle::record_failure(c, attempt, now())?;
        let address = attempt.address.as_str();
        let (actor, subject) = match account {
            Some(u) => (u, u),
            None => (ACTOR_ANONYMOUS, address),
        };
        let what = match account {
            Some(_) => why.to_string(),
            None => format!("{why} (the username matches no account)"),
        };
        audit::record(
            c,
            actor,
            ACTION_FAILURE,
            subject,
            &format!("{what}, from {address}"),
        )?;
        for lock in &started {
            let details = match lock {
                Lock::Account => format!(
                    "{ACCOUNT_FAILURES} failed password sign-ins within {WINDOW} minutes, the last from {address}: password sign-in refused for {WINDOW} minutes, except from browsers that signed in to the account before"
                ),
                Lock::Device => format!(
                    "{ACCOUNT_FAILURES} failed password sign-ins within {WINDOW} minutes from one browser that signed in to the account before, the last from {address}: that browser is refused for {WINDOW} minutes"
                ),
                Lock::Address => format!(
                    "{ADDRESS_FAILURES} failed password sign-ins from {address} within {WINDOW} minutes: password sign-in from this address refused for {WINDOW} minutes"
                ),
            };
            let (actor, subject) = match lock {
                Lock::Address => (ACTOR_ANONYMOUS, address),
                _ => (actor, subject),
            };
            audit::record(c, actor, ACTION_LOCKOUT, subject, &details)?;
        }
        Ok(started)
    })
}

/// A completed password sign-in, inside the caller's transaction: audited,
/// and the failures of its own count forgotten.
pub fn succeeded(
    conn: &mut DbConnection,
    username: &str,
    attempt: &Attempt,
    how: &str,
) -> Result<(), diesel::result::Error> {
    login_throttle::clear_failures(conn, attempt)?;
    audit::record(
        conn,
        username,
        ACTION_SUCCESS,
        username,
        &format!("signed in {how}, from {}", attempt.address),
    )
}
