//! Changes to users and their affiliations, shared by the staff pages, the
//! member pages and the CLI. Each checks its scope inside the transaction
//! and writes an audit entry with the change.
use super::peeringdb_access::{block_after_removal, lift_block};
use super::{AdminError, NewStaffUser, create_user, link};
use crate::db::models::{Affiliation, Customer, User};
use crate::db::{DbConnection, affiliations, audit, customers, users, write_tx};
use crate::domain::{BlockedBy, CreatedBy, Email, Privilege, Username};
use std::collections::HashSet;

/// Whose affiliations a change may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// IXP staff: any affiliation.
    Staff,
    /// A member's admin: only this customer's affiliations, never a
    /// superuser's, never their own.
    Member { customer_id: i64, actor_id: i64 },
}

fn no_such_link() -> AdminError {
    AdminError::NotFound("no such affiliation".into())
}

/// Loads an affiliation with its user and customer, if the scope may touch it.
fn load_in_scope(
    c: &mut DbConnection,
    affiliation_id: i64,
    scope: Scope,
) -> Result<(Affiliation, User, Customer), AdminError> {
    let (aff, user) = affiliations::with_user(c, affiliation_id)?.ok_or_else(no_such_link)?;
    if let Scope::Member {
        customer_id,
        actor_id,
    } = scope
    {
        if aff.customer_id != customer_id {
            return Err(no_such_link());
        }
        if user.superuser {
            return Err(AdminError::Refused(
                "The accounts of IXP staff are managed by the IXP.".into(),
            ));
        }
        if user.id == actor_id {
            return Err(AdminError::Refused(
                "You cannot change your own access; ask another admin of your network or the IXP."
                    .into(),
            ));
        }
    }
    let customer = customers::find(c, aff.customer_id)?.ok_or_else(no_such_link)?;
    Ok((aff, user, customer))
}

impl Scope {
    /// Who a removal in this scope is attributed to, for a block.
    pub fn blocked_by(self) -> BlockedBy {
        match self {
            Scope::Staff => BlockedBy::Staff,
            Scope::Member { .. } => BlockedBy::Custadmin,
        }
    }
}

/// Removes an affiliation; a PeeringDB-made one is also blocked, so that
/// the next PeeringDB login does not bring it back (SPEC §6.2). Returns
/// the user and customer it linked, and whether a block now keeps them apart.
pub fn unlink(
    conn: &mut DbConnection,
    actor: &str,
    affiliation_id: i64,
    scope: Scope,
) -> Result<(User, Customer, bool), AdminError> {
    write_tx(conn, |c| {
        let (aff, user, customer) = load_in_scope(c, affiliation_id, scope)?;
        affiliations::delete(c, aff.id)?;
        if user.current_customer_id == Some(customer.id) {
            users::set_current_customer(c, user.id, None)?;
        }
        audit::record(
            c,
            actor,
            "affiliation.remove",
            &user.username,
            &format!(
                "removed link to {} (AS{}), which was {} and made by {}",
                customer.shortname,
                customer.autsys,
                aff.privilege,
                aff.created_by.label()
            ),
        )?;
        let blocked = block_after_removal(
            c,
            actor,
            &user.username,
            user.peeringdb_id,
            aff.created_by,
            &customer,
            scope.blocked_by(),
        )?;
        Ok((user, customer, blocked))
    })
}

/// Lifts the block of a PeeringDB identity on a customer: staff anywhere,
/// a member's admin on their own customer only. False when there was none.
pub fn unblock(
    conn: &mut DbConnection,
    actor: &str,
    customer_id: i64,
    peeringdb_id: i64,
    scope: Scope,
) -> Result<bool, AdminError> {
    if let Scope::Member {
        customer_id: own, ..
    } = scope
        && own != customer_id
    {
        return Err(AdminError::NotFound("no such block".into()));
    }
    write_tx(conn, |c| {
        let customer = customers::find(c, customer_id)?
            .ok_or_else(|| AdminError::NotFound("no such customer".into()))?;
        let subject = users::by_peeringdb_id(c, peeringdb_id)?
            .map(|u| u.username)
            .unwrap_or_else(|| format!("peeringdb:{peeringdb_id}"));
        let why = match scope {
            Scope::Staff => "lifted by the exchange's staff",
            Scope::Member { .. } => "lifted by the network's administrator",
        };
        lift_block(c, actor, &subject, peeringdb_id, &customer, why)
    })
}

fn user_and_customer(
    c: &mut DbConnection,
    username: &str,
    shortname: &str,
) -> Result<(User, Customer), AdminError> {
    let user = users::by_username(c, username)?
        .ok_or_else(|| AdminError::NotFound(format!("no user named {username:?}")))?;
    let customer = customers::by_shortname(c, shortname)?
        .ok_or_else(|| AdminError::NotFound(format!("no customer with shortname {shortname:?}")))?;
    Ok((user, customer))
}

/// `user unlink USERNAME --customer SHORTNAME` (staff scope).
pub fn unlink_named(
    conn: &mut DbConnection,
    actor: &str,
    username: &str,
    shortname: &str,
) -> Result<(User, Customer, bool), AdminError> {
    let (user, customer) = user_and_customer(conn, username, shortname)?;
    let aff = affiliations::find(conn, user.id, customer.id)?.ok_or_else(|| {
        AdminError::NotFound(format!(
            "{username} is not linked to {shortname}: nothing to remove"
        ))
    })?;
    unlink(conn, actor, aff.id, Scope::Staff)
}

/// `user unblock USERNAME --customer SHORTNAME` (staff scope).
pub fn unblock_named(
    conn: &mut DbConnection,
    actor: &str,
    username: &str,
    shortname: &str,
) -> Result<(), AdminError> {
    let (user, customer) = user_and_customer(conn, username, shortname)?;
    let pdb_id = user.peeringdb_id.ok_or_else(|| {
        AdminError::NotFound(format!(
            "{username} has no PeeringDB identity, so nothing blocks it"
        ))
    })?;
    if unblock(conn, actor, customer.id, pdb_id, Scope::Staff)? {
        Ok(())
    } else {
        Err(AdminError::NotFound(format!(
            "{username} is not blocked from {shortname}: nothing to lift"
        )))
    }
}

/// Changes the privilege of an affiliation (custuser ↔ custadmin).
pub fn set_privilege(
    conn: &mut DbConnection,
    actor: &str,
    affiliation_id: i64,
    privilege: Privilege,
    scope: Scope,
) -> Result<(User, Customer), AdminError> {
    write_tx(conn, |c| {
        let (aff, user, customer) = load_in_scope(c, affiliation_id, scope)?;
        if aff.privilege != privilege {
            affiliations::set_privilege(c, aff.id, privilege)?;
            audit::record(
                c,
                actor,
                "affiliation.privilege",
                &user.username,
                &format!(
                    "privilege at {} {} → {privilege}",
                    customer.shortname, aff.privilege
                ),
            )?;
        }
        Ok((user, customer))
    })
}

/// What staff may change on a user.
#[derive(Debug, Clone)]
pub struct UserEdit {
    pub name: String,
    pub email: Email,
    pub disabled: bool,
    pub superuser: bool,
}

fn user_changes(old: &User, new: &UserEdit) -> Vec<String> {
    let mut d = Vec::new();
    if old.name != new.name {
        d.push(format!("name {:?} → {:?}", old.name, new.name));
    }
    if old.email != new.email.as_str() {
        d.push(format!("email {} → {}", old.email, new.email));
    }
    if old.disabled != new.disabled {
        d.push(if new.disabled { "disabled" } else { "enabled" }.to_string());
    }
    if old.superuser != new.superuser {
        d.push(
            if new.superuser {
                "made superuser"
            } else {
                "superuser flag removed"
            }
            .to_string(),
        );
    }
    d
}

/// Edits a user's name, email and flags.
pub fn update_user(
    conn: &mut DbConnection,
    actor: &str,
    id: i64,
    edit: &UserEdit,
) -> Result<User, AdminError> {
    write_tx(conn, |c| {
        let old = users::find(c, id)?.ok_or_else(|| AdminError::NotFound("no such user".into()))?;
        let changes = user_changes(&old, edit);
        if changes.is_empty() {
            return Ok(old);
        }
        users::update_profile(c, id, &edit.name, edit.email.as_str())?;
        users::update_flags(c, id, edit.disabled, edit.superuser)?;
        audit::record(c, actor, "user.update", &old.username, &changes.join("; "))?;
        Ok(old)
    })
}

/// Deletes a user with their affiliations and login records.
pub fn delete_user(conn: &mut DbConnection, actor: &str, id: i64) -> Result<User, AdminError> {
    write_tx(conn, |c| {
        let user =
            users::find(c, id)?.ok_or_else(|| AdminError::NotFound("no such user".into()))?;
        let links = affiliations::of_user(c, id)?;
        users::delete(c, id)?;
        let names: Vec<&str> = links.iter().map(|(_, c)| c.shortname.as_str()).collect();
        audit::record(
            c,
            actor,
            "user.delete",
            &user.username,
            &format!(
                "deleted {} <{}> (created by {}){}",
                user.name,
                user.email,
                user.creator,
                if names.is_empty() {
                    String::new()
                } else {
                    format!(", with links to {}", names.join(", "))
                }
            ),
        )?;
        Ok(user)
    })
}

/// The first free username of `base`, `base2`, `base3`, …
pub fn free_username(c: &mut DbConnection, base: &Username) -> Result<Username, AdminError> {
    let taken: HashSet<String> = users::taken_candidates(c, base)?;
    Ok((1..)
        .map(|n| base.with_suffix(n))
        .find(|u| !taken.contains(u.as_str()))
        .unwrap_or_else(|| base.clone()))
}

/// What adding a user by email did.
#[derive(Debug)]
pub enum Added {
    /// An existing user was linked.
    Linked(User),
    /// A new user was made and linked; they need a password link.
    Created(User),
    /// The user was linked already.
    AlreadyLinked(User),
}

/// A member's admin (or staff) adds a person to a customer by email: the
/// existing user with that address is linked, or a new one is made
/// (`creator` = the actor, a password nobody knows). `name` is needed only
/// for a new user; `unknown_hash` is its password hash.
pub fn add_member_by_email(
    conn: &mut DbConnection,
    actor: &str,
    customer_id: i64,
    email: &Email,
    name: Option<&str>,
    privilege: Privilege,
    unknown_hash: &str,
) -> Result<Added, AdminError> {
    write_tx(conn, |c| {
        let customer = customers::find(c, customer_id)?
            .ok_or_else(|| AdminError::NotFound("no such customer".into()))?;
        let mut found = users::by_email(c, email.as_str())?;
        let user = match found.len() {
            0 => None,
            1 => found.pop(),
            _ => {
                return Err(AdminError::Refused(
                    "Several accounts use this address; ask the IXP's support team to add the right one."
                        .into(),
                ));
            }
        };
        if let Some(user) = user {
            if user.superuser {
                return Err(AdminError::Refused(
                    "This address belongs to IXP staff; their accounts are managed by the IXP."
                        .into(),
                ));
            }
            if affiliations::find(c, user.id, customer.id)?.is_some() {
                return Ok(Added::AlreadyLinked(user));
            }
            link(c, actor, &user, &customer, privilege, CreatedBy::Admin)?;
            return Ok(Added::Linked(user));
        }
        let name = name
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| AdminError::Field {
                field: "name",
                message: "No account uses this address yet: give the person's name to create one."
                    .into(),
            })?;
        let local = email.as_str().split('@').next().unwrap_or_default();
        let username = free_username(c, &Username::sanitize(Some(local)))?;
        let id = create_user(
            c,
            actor,
            &NewStaffUser {
                username,
                email: email.clone(),
                name: name.to_string(),
                superuser: false,
            },
            unknown_hash,
        )?;
        let user =
            users::find(c, id)?.ok_or_else(|| AdminError::NotFound("no such user".into()))?;
        link(c, actor, &user, &customer, privilege, CreatedBy::Admin)?;
        let user =
            users::find(c, id)?.ok_or_else(|| AdminError::NotFound("no such user".into()))?;
        Ok(Added::Created(user))
    })
}
