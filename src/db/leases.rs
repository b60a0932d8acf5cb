//! Leases for background work (SPEC §5): every instance runs the same
//! loops, and a lease in the database lets one of them do each batch. A
//! lease names its holder and expires, so a crashed holder is replaced once
//! it lapses; `last_run_at` keeps a batch from running twice in one
//! interval when instances wake at different moments.
use super::models::now;
use super::schema::leases;
use super::{DbConnection, is_unique_violation};
use chrono::Duration;
use diesel::prelude::*;
use diesel::result::Error;

/// Takes the lease `name` for `holder` for `ttl`, if it is free (never
/// taken, lapsed, or held by `holder` already) and its batch last ran at
/// least `every` ago. Each step is one atomic statement.
pub fn try_acquire(
    conn: &mut DbConnection,
    name: &str,
    holder: &str,
    ttl: Duration,
    every: Duration,
) -> Result<bool, Error> {
    let t = now();
    let taken = diesel::update(
        leases::table
            .filter(leases::name.eq(name))
            .filter(leases::expires_at.lt(t).or(leases::holder.eq(holder)))
            .filter(
                leases::last_run_at
                    .is_null()
                    .or(leases::last_run_at.le(t - every)),
            ),
    )
    .set((leases::holder.eq(holder), leases::expires_at.eq(t + ttl)))
    .execute(conn)?;
    if taken == 1 {
        return Ok(true);
    }
    let exists: i64 = leases::table
        .filter(leases::name.eq(name))
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Ok(false);
    }
    match diesel::insert_into(leases::table)
        .values((
            leases::name.eq(name),
            leases::holder.eq(holder),
            leases::expires_at.eq(t + ttl),
        ))
        .execute(conn)
    {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Extends a lease its holder still has; false when it was lost.
pub fn renew(
    conn: &mut DbConnection,
    name: &str,
    holder: &str,
    ttl: Duration,
) -> Result<bool, Error> {
    let n = diesel::update(
        leases::table
            .filter(leases::name.eq(name))
            .filter(leases::holder.eq(holder)),
    )
    .set(leases::expires_at.eq(now() + ttl))
    .execute(conn)?;
    Ok(n == 1)
}

/// Releases the lease and records that its batch ran (started at `ran_at`).
pub fn finish(
    conn: &mut DbConnection,
    name: &str,
    holder: &str,
    ran_at: chrono::NaiveDateTime,
) -> Result<(), Error> {
    diesel::update(
        leases::table
            .filter(leases::name.eq(name))
            .filter(leases::holder.eq(holder)),
    )
    .set((
        leases::expires_at.eq(now()),
        leases::last_run_at.eq(Some(ran_at)),
    ))
    .execute(conn)?;
    Ok(())
}
