//! Invitations to join a customer (SPEC §3). A member's admin who adds a
//! colleague by email learns nothing about other accounts: every address
//! gets an invitation (to make an account, or to sign in and accept), and
//! nobody is linked until the invited person accepts. The link it makes is
//! a manual one (`created_by = admin`), like the ones staff make by hand.
use super::{AdminError, NewStaffUser, create_user, link};
use crate::admin::mail_limits::{self as limits, INVITE};
use crate::db::invitations::{self, Invitation, NewInvitation};
use crate::db::models::{Customer, User};
use crate::db::{DbConnection, audit, customers, users, write_tx};
use crate::domain::{CreatedBy, Email, Privilege, Username};
use chrono::NaiveDateTime;

/// The answer to a token that is not (or no longer) live.
pub const GONE: &str = "This invitation link is invalid, used already or expired. Ask the person who invited you to send a new one.";
/// The answer to a signed-in account the invitation was not sent to.
pub const OTHER_ACCOUNT: &str = "This invitation was sent to another email address than the one of the account you are signed in with. Sign out, and sign in with the invited account to accept it.";

/// A new invitation, as the inviting admin gave it.
pub struct Invite<'a> {
    pub customer: &'a Customer,
    pub email: &'a Email,
    pub name: &'a str,
    pub privilege: Privilege,
    /// The inviting admin's username.
    pub actor: &'a str,
    /// The client address of the request (for the hourly limit).
    pub address: &'a str,
    pub token_hash: &'a str,
}

/// Records an invitation and queues its mail, in one transaction. The
/// mail's subject and body come from `mail(known)`, `known` telling whether
/// an account uses the address. Returns false when an hourly limit held it
/// back (the caller answers the same either way).
pub fn invite(
    conn: &mut DbConnection,
    inv: &Invite,
    now: NaiveDateTime,
    mail: &dyn Fn(bool) -> (String, String),
) -> Result<bool, AdminError> {
    write_tx(conn, |c| {
        let email = inv.email.as_str();
        if !limits::allow_address(c, INVITE, inv.address, now)?
            || !limits::allow_email(c, INVITE, email, now)?
        {
            tracing::warn!(
                actor = %inv.actor,
                "an invitation was held back by the hourly limit"
            );
            return Ok(false);
        }
        let known = !users::by_email(c, email)?.is_empty();
        invitations::create(
            c,
            &NewInvitation {
                customer_id: inv.customer.id,
                email,
                name: inv.name,
                privilege: inv.privilege,
                known,
                token_hash: inv.token_hash,
                invited_by: inv.actor,
            },
            now,
        )?;
        let (subject, body) = mail(known);
        crate::mail::enqueue(c, email, &subject, &body)?;
        audit::record(
            c,
            inv.actor,
            "invitation.create",
            email,
            &format!(
                "invited to {} (AS{}) as {}",
                inv.customer.shortname, inv.customer.autsys, inv.privilege
            ),
        )?;
        Ok(true)
    })
}

fn gone() -> AdminError {
    AdminError::NotFound(GONE.into())
}

/// The live invitation of a token, with its customer.
pub fn live(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> Result<Option<(Invitation, Customer)>, AdminError> {
    let Some(inv) = invitations::live(conn, token_hash, now)? else {
        return Ok(None);
    };
    Ok(customers::find(conn, inv.customer_id)?.map(|c| (inv, c)))
}

/// Whether `user` is the account an invitation was sent to.
pub fn is_invited(inv: &Invitation, user: &User) -> bool {
    inv.known && user.email.to_lowercase() == inv.email.to_lowercase()
}

/// The signed-in `user` accepts an invitation sent to their address.
/// Returns the customer, and false when they had access already.
pub fn accept_signed_in(
    conn: &mut DbConnection,
    token_hash: &str,
    user: &User,
    now: NaiveDateTime,
) -> Result<(Customer, bool), AdminError> {
    write_tx(conn, |c| {
        let (inv, customer) = live(c, token_hash, now)?.ok_or_else(gone)?;
        if !is_invited(&inv, user) {
            return Err(AdminError::Refused(OTHER_ACCOUNT.into()));
        }
        if !invitations::consume(c, inv.id, now)? {
            return Err(gone());
        }
        let linked = link(
            c,
            &user.username,
            user,
            &customer,
            inv.privilege,
            CreatedBy::Admin,
        )?;
        record_accept(c, &user.username, &inv, &customer)?;
        Ok((customer, linked))
    })
}

/// The invited person makes their account (the invitation went to an
/// address no account used): username, name and password hash are theirs.
pub fn accept_new_account(
    conn: &mut DbConnection,
    token_hash: &str,
    username: &Username,
    name: &str,
    password_hash: &str,
    now: NaiveDateTime,
) -> Result<(User, Customer), AdminError> {
    write_tx(conn, |c| {
        let (inv, customer) = live(c, token_hash, now)?.ok_or_else(gone)?;
        if inv.known || !invitations::consume(c, inv.id, now)? {
            return Err(gone());
        }
        let email = Email::parse(&inv.email)
            .map_err(|_| AdminError::Invalid("the invitation's address is not usable".into()))?;
        let id = create_user(
            c,
            &inv.invited_by,
            &NewStaffUser {
                username: username.clone(),
                email,
                name: name.to_string(),
                superuser: false,
            },
            password_hash,
        )?;
        let user = users::find(c, id)?.ok_or_else(gone)?;
        link(
            c,
            &user.username,
            &user,
            &customer,
            inv.privilege,
            CreatedBy::Admin,
        )?;
        record_accept(c, &user.username, &inv, &customer)?;
        let user = users::find(c, id)?.ok_or_else(gone)?;
        Ok((user, customer))
    })
}

fn record_accept(
    c: &mut DbConnection,
    actor: &str,
    inv: &Invitation,
    customer: &Customer,
) -> Result<(), AdminError> {
    audit::record(
        c,
        actor,
        "invitation.accept",
        actor,
        &format!(
            "accepted the invitation of {} to {} (AS{}) as {}",
            inv.invited_by, customer.shortname, customer.autsys, inv.privilege
        ),
    )?;
    Ok(())
}

/// The pending invitation `id` of a customer (for the revoke page).
pub fn pending(
    conn: &mut DbConnection,
    id: i64,
    customer_id: i64,
    now: NaiveDateTime,
) -> Result<Invitation, AdminError> {
    invitations::pending_in_customer(conn, id, customer_id, now)?
        .ok_or_else(|| AdminError::NotFound("no such pending invitation".into()))
}

/// Revokes a pending invitation of the admin's customer.
pub fn revoke(
    conn: &mut DbConnection,
    actor: &str,
    id: i64,
    customer_id: i64,
    now: NaiveDateTime,
) -> Result<Invitation, AdminError> {
    write_tx(conn, |c| {
        let inv = pending(c, id, customer_id, now)?;
        invitations::delete(c, inv.id)?;
        let shortname = customers::find(c, customer_id)?
            .map(|cu| cu.shortname)
            .unwrap_or_default();
        audit::record(
            c,
            actor,
            "invitation.revoke",
            &inv.email,
            &format!(
                "revoked the invitation to {shortname} made by {}",
                inv.invited_by
            ),
        )?;
        Ok(inv)
    })
}
