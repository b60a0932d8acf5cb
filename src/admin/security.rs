//! Ending sessions and resetting a second factor (SPEC §7), for the
//! pages and the CLI alike; each audited.
use super::AdminError;
use crate::db::{DbConnection, audit, sessions, two_factor, users, write_tx};

/// Ends every session of a user, or all but the one with `except_sid`.
/// Returns how many ended.
pub fn end_sessions(
    conn: &mut DbConnection,
    actor: &str,
    user_id: i64,
    except_sid: Option<&str>,
) -> Result<usize, AdminError> {
    write_tx(conn, |c| {
        let user =
            users::find(c, user_id)?.ok_or_else(|| AdminError::NotFound("no such user".into()))?;
        let n = sessions::end_of_user(c, user_id, except_sid)?;
        audit::record(
            c,
            actor,
            "session.end",
            &user.username,
            &format!(
                "{n} session(s) ended{}",
                if except_sid.is_some() {
                    " (all but the current one)"
                } else {
                    ""
                }
            ),
        )?;
        Ok(n)
    })
}

/// Removes a user's second factor and ends their sessions (staff, CLI).
/// False when there was none.
pub fn reset_two_factor(
    conn: &mut DbConnection,
    actor: &str,
    user_id: i64,
) -> Result<bool, AdminError> {
    write_tx(conn, |c| {
        let user =
            users::find(c, user_id)?.ok_or_else(|| AdminError::NotFound("no such user".into()))?;
        if !two_factor::remove(c, user_id)? {
            return Ok(false);
        }
        let n = sessions::end_of_user(c, user_id, None)?;
        audit::record(
            c,
            actor,
            "two_factor.reset",
            &user.username,
            &format!("second factor removed; {n} session(s) ended"),
        )?;
        Ok(true)
    })
}
