//! The audit log: who did what to whom.
use super::DbConnection;
use super::models::{AuditEntry, now};
use super::schema::audit_log;
use diesel::prelude::*;
use diesel::result::Error;

pub const ACTOR_CLI: &str = "cli";
pub const ACTOR_OAUTH: &str = "peeringdb-oauth";
/// The re-check of PeeringDB-made links, and their expiry (SPEC §6).
pub const ACTOR_RECHECK: &str = "peeringdb-recheck";

pub fn record(
    conn: &mut DbConnection,
    actor: &str,
    action: &str,
    subject: &str,
    details: &str,
) -> Result<(), Error> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::at.eq(now()),
            audit_log::actor.eq(actor),
            audit_log::action.eq(action),
            audit_log::subject.eq(subject),
            audit_log::details.eq(details),
        ))
        .execute(conn)?;
    Ok(())
}

/// A page of the log, newest first, before an id (keyset paging).
pub fn page(
    conn: &mut DbConnection,
    action: Option<&str>,
    subject: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEntry>, Error> {
    page_in(conn, action, subject, before, false, limit)
}

type Boxed<'a, ST> = audit_log::BoxedQuery<'a, super::MultiBackend, ST>;

fn filtered<'a, ST: 'a>(
    mut q: Boxed<'a, ST>,
    action: Option<&str>,
    subject: Option<&str>,
) -> Boxed<'a, ST> {
    if let Some(a) = action.filter(|a| !a.is_empty()) {
        q = q.filter(audit_log::action.eq(a.to_string()));
    }
    if let Some(s) = subject.filter(|s| !s.is_empty()) {
        q = q.filter(audit_log::subject.eq(s.to_string()));
    }
    q
}

/// A page of the log, newest first (entries before the id `cursor`) or,
/// with `oldest`, oldest first (entries after it).
pub fn page_in(
    conn: &mut DbConnection,
    action: Option<&str>,
    subject: Option<&str>,
    cursor: Option<i64>,
    oldest: bool,
    limit: i64,
) -> Result<Vec<AuditEntry>, Error> {
    let mut q = filtered(
        audit_log::table
            .select(AuditEntry::as_select())
            .into_boxed(),
        action,
        subject,
    )
    .limit(limit);
    q = match (oldest, cursor) {
        (false, Some(b)) => q.filter(audit_log::id.lt(b)),
        (true, Some(a)) => q.filter(audit_log::id.gt(a)),
        (_, None) => q,
    };
    q = if oldest {
        q.order(audit_log::id.asc())
    } else {
        q.order(audit_log::id.desc())
    };
    q.load(conn)
}

/// How many entries match, counted up to `cap` (the log grows without
/// end; the page says "10,000+").
pub fn count_matching(
    conn: &mut DbConnection,
    action: Option<&str>,
    subject: Option<&str>,
    cap: i64,
) -> Result<(i64, bool), Error> {
    let ids: Vec<i64> = filtered(
        audit_log::table.select(audit_log::id).into_boxed(),
        action,
        subject,
    )
    .limit(cap + 1)
    .load(conn)?;
    let n = ids.len() as i64;
    Ok((n.min(cap), n > cap))
}

#[derive(QueryableByName)]
struct ActionRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    action: String,
}

/// Distinct actions, for the filter. A loose index scan over
/// `audit_log_action` (one index probe per distinct action), so the cost
/// does not grow with the length of the log.
pub fn actions(conn: &mut DbConnection) -> Result<Vec<String>, Error> {
    let rows: Vec<ActionRow> = diesel::sql_query(
        "WITH RECURSIVE t(action) AS ( \
           SELECT MIN(action) FROM audit_log \
           UNION ALL \
           SELECT (SELECT MIN(a.action) FROM audit_log a WHERE a.action > t.action) \
           FROM t WHERE t.action IS NOT NULL \
         ) SELECT action FROM t WHERE action IS NOT NULL",
    )
    .load(conn)?;
    Ok(rows.into_iter().map(|r| r.action).collect())
}

/// Several entries in one statement.
pub fn record_many(
    conn: &mut DbConnection,
    entries: &[(String, String, String, String)],
) -> Result<(), Error> {
    if entries.is_empty() {
        return Ok(());
    }
    let t = now();
    for chunk in entries.chunks(200) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(actor, action, subject, details)| {
                (
                    audit_log::at.eq(t),
                    audit_log::actor.eq(actor.as_str()),
                    audit_log::action.eq(action.as_str()),
                    audit_log::subject.eq(subject.as_str()),
                    audit_log::details.eq(details.as_str()),
                )
            })
            .collect();
        crate::on_backend!(&mut *conn, |c| diesel::insert_into(audit_log::table)
            .values(rows)
            .execute(c))?;
    }
    Ok(())
}
