//! The mail queue (SPEC §8): a request inserts its mail in its own
//! transaction; the background task claims due rows, sends them without
//! holding a connection, and deletes them once sent. A mail that keeps
//! failing is kept as failed, with its body cleared (it held live links).
use super::DbConnection;
use super::schema::mail_queue;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::result::Error;

/// A mail waiting to be sent.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = mail_queue)]
pub struct QueuedMail {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at: NaiveDateTime,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub failed_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
}

/// Queues a mail, due at once.
pub fn insert(
    conn: &mut DbConnection,
    recipient: &str,
    subject: &str,
    body: &str,
    at: NaiveDateTime,
) -> Result<i64, Error> {
    diesel::insert_into(mail_queue::table)
        .values((
            mail_queue::recipient.eq(recipient),
            mail_queue::subject.eq(subject),
            mail_queue::body.eq(body),
            mail_queue::created_at.eq(at),
            mail_queue::attempts.eq(0),
            mail_queue::next_attempt_at.eq(at),
        ))
        .returning(mail_queue::id)
        .get_result(conn)
}

/// Every row, oldest first (for tests and operators).
pub fn all(conn: &mut DbConnection) -> Result<Vec<QueuedMail>, Error> {
    mail_queue::table
        .select(QueuedMail::as_select())
        .order(mail_queue::id)
        .load(conn)
}

/// Claims up to `limit` due mails: each claimed row counts one attempt and
/// is not due again for `hold`, so that no other instance sends it
/// meanwhile. A row another instance claimed first is skipped.
pub fn claim_due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
    hold: Duration,
) -> Result<Vec<QueuedMail>, Error> {
    let due: Vec<QueuedMail> = mail_queue::table
        .filter(mail_queue::failed_at.is_null())
        .filter(mail_queue::next_attempt_at.le(now))
        .order((mail_queue::next_attempt_at, mail_queue::id))
        .limit(limit)
        .select(QueuedMail::as_select())
        .load(conn)?;
    let mut claimed = Vec::with_capacity(due.len());
    for mut m in due {
        let n = diesel::update(
            mail_queue::table
                .filter(mail_queue::id.eq(m.id))
                .filter(mail_queue::attempts.eq(m.attempts))
                .filter(mail_queue::failed_at.is_null()),
        )
        .set((
            mail_queue::attempts.eq(m.attempts + 1),
            mail_queue::next_attempt_at.eq(now + hold),
        ))
        .execute(conn)?;
        if n == 1 {
            m.attempts += 1;
            claimed.push(m);
        }
    }
    Ok(claimed)
}

/// A sent mail leaves the queue.
pub fn delete(conn: &mut DbConnection, id: i64) -> Result<(), Error> {
    diesel::delete(mail_queue::table.filter(mail_queue::id.eq(id))).execute(conn)?;
    Ok(())
}

/// A failed attempt: due again at `next`.
pub fn retry_at(
    conn: &mut DbConnection,
    id: i64,
    next: NaiveDateTime,
    error: &str,
) -> Result<(), Error> {
    diesel::update(mail_queue::table.filter(mail_queue::id.eq(id)))
        .set((
            mail_queue::next_attempt_at.eq(next),
            mail_queue::last_error.eq(error),
        ))
        .execute(conn)?;
    Ok(())
}

/// Gives up on a mail: kept as failed, its body (live links) cleared.
pub fn mark_failed(
    conn: &mut DbConnection,
    id: i64,
    at: NaiveDateTime,
    error: &str,
) -> Result<(), Error> {
    diesel::update(mail_queue::table.filter(mail_queue::id.eq(id)))
        .set((
            mail_queue::failed_at.eq(Some(at)),
            mail_queue::last_error.eq(error),
            mail_queue::body.eq(""),
        ))
        .execute(conn)?;
    Ok(())
}
