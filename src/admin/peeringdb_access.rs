//! SPEC §6.1 and §6.2 on the staff side: a customer that stops being
//! eligible loses its PeeringDB-made links at once, and a PeeringDB-made
//! link removed by hand stays removed (a block) until lifted.
use super::AdminError;
use crate::db::models::{Customer, CustomerFields};
use crate::db::schema::affiliations;
use crate::db::{DbConnection, affiliations as links, audit, peeringdb_links, users};
use crate::domain::{BlockedBy, Cause, CreatedBy};
use chrono::NaiveDate;
use diesel::prelude::*;

/// Why a customer's PeeringDB-made links cannot stay after a change from
/// `old` to `new`: it is no longer eligible, or its ASN (which the links
/// stood on) changed.
pub fn revocation_cause(old: &Customer, new: &CustomerFields, today: NaiveDate) -> Option<Cause> {
    let facts = crate::domain::CustomerFacts {
        id: old.id,
        name: new.name.clone(),
        shortname: new.shortname.clone(),
        asn: new.autsys,
        kind: new.cust_type,
        status: new.status,
        date_left: new.date_left,
        peeringdb_oauth: new.peeringdb_oauth,
    };
    match facts.eligibility(today) {
        Err(why) => Some(Cause::Ineligible(why)),
        Ok(()) if old.autsys != new.autsys => Some(Cause::LeftProfile(old.autsys)),
        Ok(()) => None,
    }
}

/// Removes every PeeringDB-made link to the customer, inside the caller's
/// transaction, with an audit entry per link; a user left with no link at
/// all is deleted (never a superuser), as in step 8 of SPEC §2. Returns a
/// line per change.
pub fn revoke_customer_links(
    c: &mut DbConnection,
    actor: &str,
    customer: &Customer,
    cause: Cause,
) -> Result<Vec<String>, AdminError> {
    let made: Vec<_> = links::of_customer(c, customer.id)?
        .into_iter()
        .filter(|(a, _)| a.created_by == CreatedBy::PeeringDb)
        .collect();
    let mut lines = Vec::new();
    if made.is_empty() {
        return Ok(lines);
    }
    let ids: Vec<i64> = made.iter().map(|(a, _)| a.id).collect();
    diesel::delete(affiliations::table.filter(affiliations::id.eq_any(ids))).execute(c)?;
    let reason = cause.audit();
    for (_, user) in &made {
        if user.current_customer_id == Some(customer.id) {
            users::set_current_customer(c, user.id, None)?;
        }
        audit::record(
            c,
            actor,
            "affiliation.remove",
            &user.username,
            &format!("removed link to {}: {reason}", customer.name),
        )?;
        lines.push(format!(
            "{}: removed link to {}: {reason}",
            user.username, customer.shortname
        ));
    }
    let user_ids: Vec<i64> = made.iter().map(|(_, u)| u.id).collect();
    let counts = links::counts(c, &user_ids)?;
    for (_, user) in &made {
        let left = counts
            .iter()
            .find(|(id, _)| *id == user.id)
            .map_or(0, |(_, n)| *n);
        if left == 0 && !user.superuser {
            users::delete(c, user.id)?;
            audit::record(
                c,
                actor,
                "user.delete",
                &user.username,
                &format!(
                    "deleted: no affiliation left after {} stopped admitting PeeringDB logins",
                    customer.shortname
                ),
            )?;
            lines.push(format!("{}: deleted (no link left)", user.username));
        }
    }
    Ok(lines)
}

/// Records the block that makes a hand-made removal stick (§6.2), when the
/// removed link was PeeringDB-made. Inside the caller's transaction. True
/// when the identity is blocked from the customer now.
pub fn block_after_removal(
    c: &mut DbConnection,
    actor: &str,
    username: &str,
    peeringdb_id: Option<i64>,
    created_by: CreatedBy,
    customer: &Customer,
    by: BlockedBy,
) -> Result<bool, AdminError> {
    let (Some(pdb_id), CreatedBy::PeeringDb) = (peeringdb_id, created_by) else {
        return Ok(false);
    };
    if peeringdb_links::block(c, customer.id, pdb_id, by, actor)? {
        audit::record(
            c,
            actor,
            "peeringdb.block",
            username,
            &format!(
                "PeeringDB logins of user {pdb_id} will not link {} again ({}) until the block is lifted",
                customer.shortname,
                by.removed_by()
            ),
        )?;
    }
    Ok(true)
}

/// Lifts a block inside the caller's transaction; true when there was one.
pub fn lift_block(
    c: &mut DbConnection,
    actor: &str,
    username: &str,
    peeringdb_id: i64,
    customer: &Customer,
    why: &str,
) -> Result<bool, AdminError> {
    let lifted = peeringdb_links::unblock(c, customer.id, peeringdb_id)?;
    if lifted {
        audit::record(
            c,
            actor,
            "peeringdb.unblock",
            username,
            &format!(
                "PeeringDB logins of user {peeringdb_id} may link {} again ({why})",
                customer.shortname
            ),
        )?;
    }
    Ok(lifted)
}
