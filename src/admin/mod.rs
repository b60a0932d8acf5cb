//! Staff operations shared by the CLI and the staff pages; each writes an
//! audit entry in the same transaction as its change.
use crate::auth::password;
use crate::db::models::{Customer, CustomerFields, NewUser, User};
use crate::db::{
    DbConnection, affiliations, audit, customers, is_unique_violation, models::now, users, write_tx,
};
use crate::domain::{Asn, CreatedBy, Email, Privilege, Username};

mod accounts;
pub mod api_keys;
pub mod invitations;
pub mod mail_limits;
pub mod peering;
pub mod peeringdb_access;
pub mod security;
pub mod sessions;
pub mod sign_in;
pub use accounts::{
    Scope, UserEdit, delete_user, free_username, set_privilege, unblock, unblock_named, unlink,
    unlink_named, update_user,
};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    /// A problem with one form field (a shortname or username used
    /// already, say).
    #[error("{message}")]
    Field {
        field: &'static str,
        message: String,
    },
    /// Not allowed in this scope (a member's admin touching staff, say).
    #[error("{0}")]
    Refused(String),
    #[error("database error: {0}")]
    Db(#[from] diesel::result::Error),
}

impl From<crate::db::DbError> for AdminError {
    fn from(e: crate::db::DbError) -> Self {
        AdminError::Invalid(e.to_string())
    }
}

/// Describes the differences between two customers for the audit log.
fn customer_changes(old: &Customer, new: &CustomerFields) -> Vec<String> {
    let mut d = Vec::new();
    if old.name != new.name {
        d.push(format!("name {:?} → {:?}", old.name, new.name));
    }
    if old.shortname != new.shortname {
        d.push(format!("shortname {} → {}", old.shortname, new.shortname));
    }
    if old.autsys != new.autsys {
        d.push(format!("ASN {} → {}", old.autsys, new.autsys));
    }
    if old.cust_type != new.cust_type {
        d.push(format!("type {} → {}", old.cust_type, new.cust_type));
    }
    if old.status != new.status {
        d.push(format!("status {} → {}", old.status, new.status));
    }
    if old.date_joined != new.date_joined {
        d.push(format!(
            "date joined {:?} → {:?}",
            old.date_joined, new.date_joined
        ));
    }
    if old.date_left != new.date_left {
        d.push(format!(
            "date left {:?} → {:?}",
            old.date_left, new.date_left
        ));
    }
    if old.peeringdb_oauth != new.peeringdb_oauth {
        d.push(format!(
            "login via PeeringDB OAuth {}",
            if new.peeringdb_oauth {
                "allowed"
            } else {
                "disabled (opted out)"
            }
        ));
    }
    d
}

fn shortname_taken(shortname: &str) -> AdminError {
    AdminError::Field {
        field: "shortname",
        message: format!("the shortname {shortname:?} is already used by another customer"),
    }
}

pub fn create_customer(
    conn: &mut DbConnection,
    actor: &str,
    fields: &CustomerFields,
) -> Result<i64, AdminError> {
    write_tx(conn, |c| {
        let id = customers::create(c, fields).map_err(|e| {
            if is_unique_violation(&e) {
                shortname_taken(&fields.shortname)
            } else {
                e.into()
            }
        })?;
        audit::record(
            c,
            actor,
            "customer.create",
            &fields.shortname,
            &format!(
                "{} (AS{}), type {}, status {}, PeeringDB OAuth {}",
                fields.name,
                fields.autsys,
                fields.cust_type,
                fields.status,
                if fields.peeringdb_oauth {
                    "allowed"
                } else {
                    "disabled"
                }
            ),
        )?;
        Ok(id)
    })
}

/// Changes a customer. When the change ends its eligibility for PeeringDB
/// logins (or its ASN), its PeeringDB-made links go in the same
/// transaction (SPEC §6.1); returns a line per link removed or user deleted.
pub fn update_customer(
    conn: &mut DbConnection,
    actor: &str,
    id: i64,
    fields: &CustomerFields,
) -> Result<Vec<String>, AdminError> {
    write_tx(conn, |c| {
        let old = customers::find(c, id)?
            .ok_or_else(|| AdminError::NotFound("no such customer".into()))?;
        customers::update(c, id, fields).map_err(|e| {
            if is_unique_violation(&e) {
                shortname_taken(&fields.shortname)
            } else {
                e.into()
            }
        })?;
        let changes = customer_changes(&old, fields);
        if !changes.is_empty() {
            audit::record(
                c,
                actor,
                "customer.update",
                &fields.shortname,
                &changes.join("; "),
            )?;
        }
        match peeringdb_access::revocation_cause(&old, fields, crate::db::models::today()) {
            Some(cause) => {
                let customer = customers::find(c, id)?
                    .ok_or_else(|| AdminError::NotFound("no such customer".into()))?;
                peeringdb_access::revoke_customer_links(c, actor, &customer, cause)
            }
            None => Ok(Vec::new()),
        }
    })
}

/// A user made by staff or the CLI (never by OAuth).
pub struct NewStaffUser {
    pub username: Username,
    pub email: Email,
    pub name: String,
    pub superuser: bool,
}

/// Creates the user; the password hash is computed by the caller (slow).
/// Inside a caller's transaction it is a savepoint of it.
pub fn create_user(
    conn: &mut DbConnection,
    actor: &str,
    new: &NewStaffUser,
    password_hash: &str,
) -> Result<i64, AdminError> {
    write_tx(conn, |c| {
        let t = now();
        let id = users::insert(
            c,
            &NewUser {
                username: new.username.as_str(),
                name: &new.name,
                email: new.email.as_str(),
                password_hash,
                peeringdb_id: None,
                creator: actor,
                disabled: false,
                superuser: new.superuser,
                current_customer_id: None,
                session_epoch: 0,
                created_at: t,
                updated_at: t,
            },
        )
        .map_err(|e| {
            if is_unique_violation(&e) {
                AdminError::Field {
                    field: "username",
                    message: format!("the username {:?} is taken", new.username.as_str()),
                }
            } else {
                e.into()
            }
        })?;
        audit::record(
            c,
            actor,
            "user.create",
            new.username.as_str(),
            &format!(
                "{} <{}>{}",
                new.name,
                new.email,
                if new.superuser { ", superuser" } else { "" }
            ),
        )?;
        Ok(id)
    })
}

/// Links a user to a customer (staff-made); an existing link is reported.
pub fn link(
    c: &mut DbConnection,
    actor: &str,
    user: &User,
    customer: &Customer,
    privilege: Privilege,
    created_by: CreatedBy,
) -> Result<bool, AdminError> {
    if affiliations::find(c, user.id, customer.id)?.is_some() {
        return Ok(false);
    }
    affiliations::insert(c, user.id, customer.id, privilege, created_by)?;
    // Linking by hand lifts a block on this customer (SPEC §6.2).
    if let Some(pdb_id) = user.peeringdb_id {
        peeringdb_access::lift_block(c, actor, &user.username, pdb_id, customer, "linked by hand")?;
    }
    if user.current_customer_id.is_none() {
        users::set_current_customer(c, user.id, Some(customer.id))?;
    }
    audit::record(
        c,
        actor,
        "affiliation.create",
        &user.username,
        &format!(
            "linked to {} (AS{}) as {privilege}, by {}",
            customer.shortname,
            customer.autsys,
            created_by.label()
        ),
    )?;
    Ok(true)
}

/// `user link USERNAME --asn A`: every customer with that ASN.
pub fn link_by_asn(
    conn: &mut DbConnection,
    actor: &str,
    username: &str,
    asn: Asn,
    privilege: Privilege,
    created_by: CreatedBy,
) -> Result<Vec<(String, bool)>, AdminError> {
    write_tx(conn, |c| {
        let user = users::by_username(c, username)?
            .ok_or_else(|| AdminError::NotFound(format!("no user named {username:?}")))?;
        let targets = customers::by_asn(c, asn)?;
        if targets.is_empty() {
            return Err(AdminError::NotFound(format!("no customer has ASN {asn}")));
        }
        let mut out = Vec::new();
        for customer in &targets {
            let made = link(c, actor, &user, customer, privilege, created_by)?;
            out.push((customer.shortname.clone(), made));
        }
        Ok(out)
    })
}

/// Hashes off the caller's thread of thought: a helper for both front ends.
pub fn hash_password(pw: &str) -> Result<String, AdminError> {
    password::hash(pw).map_err(AdminError::Invalid)
}
