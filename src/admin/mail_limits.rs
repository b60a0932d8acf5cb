//! The hourly limits of SPEC §8 on mails that others can make the portal
//! send: 3 per account (or invited address) and 20 per client address.
//! Whoever is limited gets the same answer as everyone else.
use crate::db::{DbConnection, mail_limits};
use chrono::NaiveDateTime;
use diesel::result::Error;

/// "Forgot password".
pub const FORGOT: &str = "forgot";
/// Invitations to join a customer.
pub const INVITE: &str = "invite";

pub const PER_ACCOUNT: i64 = 3;
pub const PER_ADDRESS: i64 = 20;

/// One more request from a client address.
pub fn allow_address(
    c: &mut DbConnection,
    kind: &str,
    address: &str,
    now: NaiveDateTime,
) -> Result<bool, Error> {
    mail_limits::allow(c, kind, &format!("address:{address}"), PER_ADDRESS, now)
}

/// One more mail to an account.
pub fn allow_account(
    c: &mut DbConnection,
    kind: &str,
    user_id: i64,
    now: NaiveDateTime,
) -> Result<bool, Error> {
    mail_limits::allow(c, kind, &format!("user:{user_id}"), PER_ACCOUNT, now)
}

/// One more mail to an email address (an invitation: the address may have
/// no account, and must not tell whether it has one).
pub fn allow_email(
    c: &mut DbConnection,
    kind: &str,
    email: &str,
    now: NaiveDateTime,
) -> Result<bool, Error> {
    let key = format!("email:{}", email.to_lowercase());
    mail_limits::allow(c, kind, &key, PER_ACCOUNT, now)
}
