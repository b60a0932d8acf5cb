//! Password login throttling (SPEC §8): failures counted per account (from
//! anywhere) and per client address (across accounts), the lock-outs in
//! force, and the browsers (device cookies) that signed in to an account.
//!
//! An account's failures fall in two counts: those of browsers without a
//! device cookie of the account (one count for all of them), and those of
//! one browser that holds such a cookie (its own count). Five failures in
//! a count within the window lock that count out for the window; fifty
//! from one address lock the address out.
use super::DbConnection;
use super::schema::{login_devices, login_failures, login_lockouts};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::result::Error;

/// Failures of one account count (or one browser of it) that lock it …
pub const ACCOUNT_FAILURES: i64 = 5;
/// … failures from one client address that lock the address …
pub const ADDRESS_FAILURES: i64 = 50;
/// … within this window, which is also how long a lock-out lasts.
pub const WINDOW_MINUTES: i64 = 15;
/// A device cookie is good for this long after its last sign-in.
pub const DEVICE_DAYS: i64 = 365;

/// A password sign-in attempt: the username as typed (normalised; the
/// account need not exist), the client address, and the SHA-256 of a
/// device cookie when it is valid for that very account.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub username: String,
    pub address: String,
    pub device: Option<String>,
}

/// What is locked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// The account, for browsers without a device cookie of it.
    Account,
    /// One browser with a device cookie of the account.
    Device,
    /// The client address, for every account.
    Address,
}

impl Attempt {
    /// The lock-out subject of this attempt's account count.
    fn account_subject(&self) -> (Lock, String) {
        match &self.device {
            Some(d) => (Lock::Device, format!("device:{d}:{}", self.username)),
            None => (Lock::Account, format!("account:{}", self.username)),
        }
    }

    fn address_subject(&self) -> String {
        format!("address:{}", self.address)
    }

    /// The failures of this attempt's account count.
    fn account_failures(&self) -> login_failures::BoxedQuery<'_, super::MultiBackend> {
        let q = login_failures::table
            .filter(login_failures::username.eq(&self.username))
            .into_boxed();
        match &self.device {
            Some(d) => q.filter(login_failures::device.eq(d)),
            None => q.filter(login_failures::device.is_null()),
        }
    }
}

fn window() -> Duration {
    Duration::minutes(WINDOW_MINUTES)
}

fn locked(conn: &mut DbConnection, subject: &str, now: NaiveDateTime) -> Result<bool, Error> {
    let n: i64 = login_lockouts::table
        .filter(login_lockouts::subject.eq(subject))
        .filter(login_lockouts::ends_at.gt(now))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The lock-out that refuses this attempt now, if any (the address's first).
pub fn refusal(
    conn: &mut DbConnection,
    a: &Attempt,
    now: NaiveDateTime,
) -> Result<Option<Lock>, Error> {
    if locked(conn, &a.address_subject(), now)? {
        return Ok(Some(Lock::Address));
    }
    let (lock, subject) = a.account_subject();
    Ok(locked(conn, &subject, now)?.then_some(lock))
}

/// Counts a failure (inside the caller's write transaction) and returns
/// the lock-outs it started.
pub fn record_failure(
    conn: &mut DbConnection,
    a: &Attempt,
    now: NaiveDateTime,
) -> Result<Vec<Lock>, Error> {
    let since = now - window();
    // Rows out of the window are never needed again: keep the tables small.
    diesel::delete(login_failures::table.filter(login_failures::at.le(since))).execute(conn)?;
    diesel::delete(login_lockouts::table.filter(login_lockouts::ends_at.le(now))).execute(conn)?;
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::username.eq(&a.username),
            login_failures::address.eq(&a.address),
            login_failures::device.eq(&a.device),
            login_failures::at.eq(now),
        ))
        .execute(conn)?;
    let mut started = Vec::new();
    let (lock, subject) = a.account_subject();
    let n: i64 = a
        .account_failures()
        .filter(login_failures::at.gt(since))
        .count()
        .get_result(conn)?;
    if n >= ACCOUNT_FAILURES && !locked(conn, &subject, now)? {
        lock_out(conn, &subject, now)?;
        started.push(lock);
    }
    let subject = a.address_subject();
    let n: i64 = login_failures::table
        .filter(login_failures::address.eq(&a.address))
        .filter(login_failures::at.gt(since))
        .count()
        .get_result(conn)?;
    if n >= ADDRESS_FAILURES && !locked(conn, &subject, now)? {
        lock_out(conn, &subject, now)?;
        started.push(Lock::Address);
    }
    Ok(started)
}

fn lock_out(conn: &mut DbConnection, subject: &str, now: NaiveDateTime) -> Result<(), Error> {
    diesel::insert_into(login_lockouts::table)
        .values((
            login_lockouts::subject.eq(subject),
            login_lockouts::ends_at.eq(now + window()),
        ))
        .execute(conn)?;
    Ok(())
}

/// A successful sign-in forgets the failures of its own count (never
/// those of the address, nor of the account's other browsers).
pub fn clear_failures(conn: &mut DbConnection, a: &Attempt) -> Result<(), Error> {
    let own = login_failures::table.filter(login_failures::username.eq(&a.username));
    match &a.device {
        Some(d) => diesel::delete(own.filter(login_failures::device.eq(d))).execute(conn)?,
        None => diesel::delete(own.filter(login_failures::device.is_null())).execute(conn)?,
    };
    Ok(())
}

/// Of the device cookie hashes a browser sent, the one that signed in to
/// this user within the last `DEVICE_DAYS`.
pub fn device_of(
    conn: &mut DbConnection,
    user_id: i64,
    hashes: &[String],
    now: NaiveDateTime,
) -> Result<Option<String>, Error> {
    if hashes.is_empty() {
        return Ok(None);
    }
    login_devices::table
        .filter(login_devices::user_id.eq(user_id))
        .filter(login_devices::token_hash.eq_any(hashes))
        .filter(login_devices::last_used_at.gt(now - Duration::days(DEVICE_DAYS)))
        .select(login_devices::token_hash)
        .first(conn)
        .optional()
}

/// Remembers (or refreshes) a browser that signed in to the user, and
/// forgets the user's device cookies that are too old to count.
pub fn remember_device(
    conn: &mut DbConnection,
    user_id: i64,
    hash: &str,
    now: NaiveDateTime,
) -> Result<(), Error> {
    diesel::delete(
        login_devices::table
            .filter(login_devices::user_id.eq(user_id))
            .filter(login_devices::last_used_at.le(now - Duration::days(DEVICE_DAYS))),
    )
    .execute(conn)?;
    let touched = diesel::update(
        login_devices::table
            .filter(login_devices::user_id.eq(user_id))
            .filter(login_devices::token_hash.eq(hash)),
    )
    .set(login_devices::last_used_at.eq(now))
    .execute(conn)?;
    if touched == 0 {
        diesel::insert_into(login_devices::table)
            .values((
                login_devices::user_id.eq(user_id),
                login_devices::token_hash.eq(hash),
                login_devices::created_at.eq(now),
                login_devices::last_used_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}
