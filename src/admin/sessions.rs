//! Staff steering of Peering API sessions: approve or reject, mark
//! provisioned, established or down, delete. Each transition is checked
//! against `SessionStatus::next` and audited.
use super::AdminError;
use crate::db::peering_sessions::{self, PeeringSession};
use crate::db::{DbConnection, audit, customers, write_tx};
use crate::domain::SessionStatus;

/// The audit action of a move to `to`.
pub fn action(to: SessionStatus) -> &'static str {
    match to {
        SessionStatus::Pending => "peering_session.pending",
        SessionStatus::Approved => "peering_session.approve",
        SessionStatus::Rejected => "peering_session.reject",
        SessionStatus::Provisioned => "peering_session.provision",
        SessionStatus::Established => "peering_session.establish",
        SessionStatus::Down => "peering_session.down",
        SessionStatus::Deleted => "peering_session.delete",
    }
}

pub fn set_status(
    conn: &mut DbConnection,
    actor: &str,
    id: i64,
    to: SessionStatus,
) -> Result<PeeringSession, AdminError> {
    write_tx(conn, |c| {
        let s = peering_sessions::find(c, id)?
            .ok_or_else(|| AdminError::NotFound("no such session".into()))?;
        let from = s.status();
        if !from.can_become(to) {
            return Err(AdminError::Invalid(format!(
                "a {from} session cannot become {to}"
            )));
        }
        peering_sessions::set_status(c, id, to)?;
        let who = customers::find(c, s.customer_id)?
            .map(|cu| cu.shortname)
            .unwrap_or_default();
        audit::record(
            c,
            actor,
            action(to),
            &who,
            &format!(
                "session {} (AS{} {} with AS{} {}): {from} → {to}",
                s.session_id, s.member_asn, s.member_ip, s.rs_asn, s.rs_ip
            ),
        )?;
        peering_sessions::find(c, id)?.ok_or_else(|| AdminError::NotFound("no such session".into()))
    })
}
