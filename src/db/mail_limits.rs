//! Hourly limits on the mails that anyone can make the portal send
//! ("Forgot password", invitations; SPEC §8), counted in the database so
//! that every instance sees the same counts (SPEC §5).
use super::DbConnection;
use super::schema::mail_limits;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::result::Error;

/// The window of every limit.
pub const WINDOW_MINUTES: i64 = 60;

/// Counts one more use of `(kind, subject)` at `now` and says whether it
/// stays within `max` uses in the last hour. A use over the limit is not
/// counted (a flood does not extend its own lock-out).
pub fn allow(
    conn: &mut DbConnection,
    kind: &str,
    subject: &str,
    max: i64,
    now: NaiveDateTime,
) -> Result<bool, Error> {
    let used: i64 = mail_limits::table
        .filter(mail_limits::kind.eq(kind))
        .filter(mail_limits::subject.eq(subject))
        .filter(mail_limits::created_at.gt(now - Duration::minutes(WINDOW_MINUTES)))
        .count()
        .get_result(conn)?;
    if used >= max {
        return Ok(false);
    }
    diesel::insert_into(mail_limits::table)
        .values((
            mail_limits::kind.eq(kind),
            mail_limits::subject.eq(subject),
            mail_limits::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Drops the uses older than the window; returns how many.
pub fn purge(conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize, Error> {
    diesel::delete(
        mail_limits::table
            .filter(mail_limits::created_at.le(now - Duration::minutes(WINDOW_MINUTES))),
    )
    .execute(conn)
}
