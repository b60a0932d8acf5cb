//! What SPEC §6 keeps about PeeringDB-made links: their confirmation
//! time, the blocks that make a removal stick, and the encrypted refresh
//! token of each user's last PeeringDB login.
use super::DbConnection;
use super::models::now;
use super::schema::{affiliations, customers, peeringdb_blocks, peeringdb_tokens};
use crate::domain::{Asn, BlockedBy, CreatedBy};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::Error;

/// A block, with the customer it keeps closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub customer_id: i64,
    pub customer_shortname: String,
    pub customer_name: String,
    pub asn: Asn,
    pub peeringdb_id: i64,
    pub by: BlockedBy,
    pub actor: String,
    pub created_at: NaiveDateTime,
}

type BlockRow = (i64, String, String, Asn, i64, String, String, NaiveDateTime);

fn to_block(r: BlockRow) -> Block {
    Block {
        customer_id: r.0,
        customer_shortname: r.1,
        customer_name: r.2,
        asn: r.3,
        peeringdb_id: r.4,
        by: BlockedBy::parse(&r.5).unwrap_or(BlockedBy::Staff),
        actor: r.6,
        created_at: r.7,
    }
}

macro_rules! block_query {
    () => {
        peeringdb_blocks::table
            .inner_join(customers::table)
            .select((
                peeringdb_blocks::customer_id,
                customers::shortname,
                customers::name,
                customers::autsys,
                peeringdb_blocks::peeringdb_id,
                peeringdb_blocks::blocked_by,
                peeringdb_blocks::actor,
                peeringdb_blocks::created_at,
            ))
    };
}

/// The blocks of one PeeringDB identity, by customer name.
pub fn blocks_of(conn: &mut DbConnection, peeringdb_id: i64) -> Result<Vec<Block>, Error> {
    Ok(block_query!()
        .filter(peeringdb_blocks::peeringdb_id.eq(peeringdb_id))
        .order(customers::name)
        .load::<BlockRow>(conn)?
        .into_iter()
        .map(to_block)
        .collect())
}

/// Every block, by PeeringDB id then customer name (for listing all users
/// at once, `user list --json`).
pub fn all_blocks(conn: &mut DbConnection) -> Result<Vec<Block>, Error> {
    Ok(block_query!()
        .order((peeringdb_blocks::peeringdb_id, customers::name))
        .load::<BlockRow>(conn)?
        .into_iter()
        .map(to_block)
        .collect())
}

/// The blocks on one customer, by PeeringDB id.
pub fn blocks_on(conn: &mut DbConnection, customer_id: i64) -> Result<Vec<Block>, Error> {
    Ok(block_query!()
        .filter(peeringdb_blocks::customer_id.eq(customer_id))
        .order(peeringdb_blocks::peeringdb_id)
        .load::<BlockRow>(conn)?
        .into_iter()
        .map(to_block)
        .collect())
}

/// The blocks on one customer, each with the username of the account
/// that carries the PeeringDB id (or a note that there is none now).
pub fn blocks_on_named(
    conn: &mut DbConnection,
    customer_id: i64,
) -> Result<Vec<(Block, String)>, Error> {
    let mut out = Vec::new();
    for b in blocks_on(conn, customer_id)? {
        let name = super::users::by_peeringdb_id(conn, b.peeringdb_id)?
            .map(|u| u.username)
            .unwrap_or_else(|| format!("PeeringDB user {} (no account now)", b.peeringdb_id));
        out.push((b, name));
    }
    Ok(out)
}

/// Records a block; an existing one is kept as it is. True when new.
pub fn block(
    conn: &mut DbConnection,
    customer_id: i64,
    peeringdb_id: i64,
    by: BlockedBy,
    actor: &str,
) -> Result<bool, Error> {
    let exists: i64 = peeringdb_blocks::table
        .filter(peeringdb_blocks::customer_id.eq(customer_id))
        .filter(peeringdb_blocks::peeringdb_id.eq(peeringdb_id))
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Ok(false);
    }
    diesel::insert_into(peeringdb_blocks::table)
        .values((
            peeringdb_blocks::customer_id.eq(customer_id),
            peeringdb_blocks::peeringdb_id.eq(peeringdb_id),
            peeringdb_blocks::blocked_by.eq(by.as_str()),
            peeringdb_blocks::actor.eq(actor),
            peeringdb_blocks::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Lifts a block; true when there was one.
pub fn unblock(
    conn: &mut DbConnection,
    customer_id: i64,
    peeringdb_id: i64,
) -> Result<bool, Error> {
    let n = diesel::delete(
        peeringdb_blocks::table
            .filter(peeringdb_blocks::customer_id.eq(customer_id))
            .filter(peeringdb_blocks::peeringdb_id.eq(peeringdb_id)),
    )
    .execute(conn)?;
    Ok(n > 0)
}

/// Marks a user's PeeringDB-made links as confirmed by PeeringDB now.
///
/// The user's links are found by the user alone (the index
/// `affiliations_user_customer`), their kind is looked at here. With the
/// kind in the condition too, PostgreSQL may pick the index by kind
/// (`affiliations_confirmed`) whenever its statistics say PeeringDB-made
/// links are rare, as they are until the next `ANALYZE` after PeeringDB
/// logins begin, and then read every PeeringDB-made link of every user at
/// each login (issue 12: 4,400 index entries a login in the benchmark, 16 ms
/// for a user with many links).
///
/// Two logins of one user at once on PostgreSQL: a multi-row UPDATE locks
/// its rows in scan order, and two of them can deadlock. Taking the row
/// locks first, in id order, makes the order the same for everyone; then
/// one UPDATE serves every link. The locks cover all of the user's links
/// (a change of one of them by staff waits for the login's transaction,
/// a few milliseconds). SQLite's write lock is the whole database already.
pub fn confirm_all(
    conn: &mut DbConnection,
    user_id: i64,
    at: NaiveDateTime,
) -> Result<usize, Error> {
    let links = links_of_user(user_id);
    let links: Vec<(i64, CreatedBy)> = match conn {
        DbConnection::Pg(pg) => links.for_update().load(pg)?,
        DbConnection::Sqlite(_) => links.load(conn)?,
    };
    let mine: Vec<i64> = links
        .into_iter()
        .filter(|(_, by)| *by == CreatedBy::PeeringDb)
        .map(|(id, _)| id)
        .collect();
    if mine.is_empty() {
        return Ok(0);
    }
    diesel::update(affiliations::table.filter(affiliations::id.eq_any(mine)))
        .set(affiliations::confirmed_at.eq(Some(at)))
        .execute(conn)
}

/// The ids and kinds of a user's links, in id order (also for the
/// query-plan check of [`confirm_all`]).
pub fn links_of_user(user_id: i64) -> LinksOfUser {
    affiliations::table
        .filter(affiliations::user_id.eq(user_id))
        .order(affiliations::id)
        .select((affiliations::id, affiliations::created_by))
}

/// The statement of [`links_of_user`].
pub type LinksOfUser = diesel::dsl::Select<
    diesel::dsl::Order<diesel::dsl::Filter<affiliations::table, UserIs>, affiliations::id>,
    (affiliations::id, affiliations::created_by),
>;
type UserIs = diesel::dsl::Eq<affiliations::user_id, i64>;

/// Users whose oldest PeeringDB-made link was confirmed before `before`
/// (or never), oldest first, at most `limit`.
pub fn users_due(
    conn: &mut DbConnection,
    before: Option<NaiveDateTime>,
    limit: i64,
) -> Result<Vec<i64>, Error> {
    let mut q = affiliations::table
        .filter(affiliations::created_by.eq(CreatedBy::PeeringDb))
        .select(affiliations::user_id)
        .distinct()
        .order(affiliations::user_id)
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        q = q.filter(
            affiliations::confirmed_at
                .is_null()
                .or(affiliations::confirmed_at.lt(before)),
        );
    }
    q.load(conn)
}

/// The stored (encrypted) refresh token of a user.
pub fn refresh_token(conn: &mut DbConnection, user_id: i64) -> Result<Option<String>, Error> {
    peeringdb_tokens::table
        .find(user_id)
        .select(peeringdb_tokens::refresh_token)
        .first(conn)
        .optional()
}

/// Stores (or with `None` deletes) a user's encrypted refresh token: one
/// upsert, so that concurrent logins of one user do not collide.
pub fn set_refresh_token(
    conn: &mut DbConnection,
    user_id: i64,
    sealed: Option<&str>,
) -> Result<(), Error> {
    let Some(sealed) = sealed else {
        diesel::delete(peeringdb_tokens::table.find(user_id)).execute(conn)?;
        return Ok(());
    };
    let t = now();
    let row = (
        peeringdb_tokens::user_id.eq(user_id),
        peeringdb_tokens::refresh_token.eq(sealed),
        peeringdb_tokens::updated_at.eq(t),
    );
    crate::on_backend!(&mut *conn, |c| diesel::insert_into(peeringdb_tokens::table)
        .values(row)
        .on_conflict(peeringdb_tokens::user_id)
        .do_update()
        .set((
            peeringdb_tokens::refresh_token.eq(sealed),
            peeringdb_tokens::updated_at.eq(t),
        ))
        .execute(c))?;
    Ok(())
}

/// The customers that have at least one PeeringDB-made link.
pub fn customers_with_links(conn: &mut DbConnection) -> Result<Vec<i64>, Error> {
    affiliations::table
        .filter(affiliations::created_by.eq(CreatedBy::PeeringDb))
        .select(affiliations::customer_id)
        .distinct()
        .load(conn)
}
