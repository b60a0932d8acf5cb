//! SPEC §3: what a delete would take with it, and what still needs the
//! record and so refuses the delete. The confirmation pages show an
//! `Impact`; the delete operations compute it again inside their
//! transaction and refuse while anything is in the way.
//!
//! Route-server sessions are never lost silently: a live one (anything but
//! rejected or deleted) refuses the delete of its route server, connection
//! or customer; ended ones go with their route server or connection only
//! after the confirmation page named them, each with an audit entry.
use crate::admin::AdminError;
use crate::db::connections::{self, Connection};
use crate::db::lans::{self, Lan, RouteServer};
use crate::db::models::Customer;
use crate::db::peering_sessions::{self, PeeringSession};
use crate::db::{DbConnection, affiliations, api_tokens, audit, customers, peeringdb_links};
use crate::domain::{Privilege, SessionStatus};
use std::collections::HashMap;

/// A record that still needs the one to delete.
#[derive(Debug, Clone)]
pub enum Dependent {
    RouteServer {
        id: i64,
        name: String,
    },
    Connection {
        id: i64,
        customer: String,
        addresses: String,
    },
    Session {
        session: PeeringSession,
        customer: String,
    },
    User {
        id: i64,
        username: String,
        privilege: Privilege,
    },
}

impl Dependent {
    /// In words, for the refusal.
    pub fn describe(&self) -> String {
        match self {
            Dependent::RouteServer { name, .. } => format!("route server {name}"),
            Dependent::Connection {
                customer,
                addresses,
                ..
            } => format!("the connection of {customer} ({addresses})"),
            Dependent::Session { session, customer } => format!(
                "{} session of {customer}: AS{} {} with route server AS{} {}",
                session.status,
                session.member_asn,
                session.member_ip,
                session.rs_asn,
                session.rs_ip
            ),
            Dependent::User {
                username,
                privilege,
                ..
            } => format!(
                "user {username} ({})",
                match privilege {
                    Privilege::CustUser => "read-only user",
                    Privilege::CustAdmin => "administrator",
                }
            ),
        }
    }
}

/// What deleting a record means.
#[derive(Debug, Clone, Default)]
pub struct Impact {
    /// Records that still need it: the delete is refused while any remain.
    pub blockers: Vec<Dependent>,
    /// What the delete takes with it, in words.
    pub losses: Vec<String>,
    /// Ended sessions that go with it (named in `losses`, audited one by one).
    pub ended_sessions: Vec<PeeringSession>,
}

impl Impact {
    /// The refusal as one sentence, naming what is in the way.
    fn refusal(&self, what: &str, remedy: &str) -> AdminError {
        let list: Vec<String> = self.blockers.iter().map(Dependent::describe).collect();
        AdminError::Invalid(format!(
            "{what} still has {} that need{} it, so it cannot be deleted: {}; {remedy}",
            if list.len() == 1 {
                "a record".to_string()
            } else {
                format!("{} records", list.len())
            },
            if list.len() == 1 { "s" } else { "" },
            list.join("; ")
        ))
    }
}

/// A session that the route-server configuration carries or that waits
/// for staff: anything but rejected or deleted.
pub fn is_live(s: &PeeringSession) -> bool {
    !matches!(s.status(), SessionStatus::Deleted | SessionStatus::Rejected)
}

fn addresses(v4: &Option<String>, v6: &Option<String>) -> String {
    let list: Vec<&str> = [v4.as_deref(), v6.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if list.is_empty() {
        "no address".into()
    } else {
        list.join(", ")
    }
}

fn customer_names(c: &mut DbConnection) -> Result<HashMap<i64, String>, AdminError> {
    Ok(customers::all(c)?
        .into_iter()
        .map(|cu| (cu.id, cu.name))
        .collect())
}

/// Splits sessions into live ones (blockers) and ended ones (losses).
fn sessions_impact(
    c: &mut DbConnection,
    sessions: Vec<PeeringSession>,
    impact: &mut Impact,
) -> Result<(), AdminError> {
    if sessions.is_empty() {
        return Ok(());
    }
    let names = customer_names(c)?;
    let (live, ended): (Vec<_>, Vec<_>) = sessions.into_iter().partition(is_live);
    for s in live {
        impact.blockers.push(Dependent::Session {
            customer: names.get(&s.customer_id).cloned().unwrap_or_default(),
            session: s,
        });
    }
    if !ended.is_empty() {
        impact.losses.push(format!(
            "{} ended session record{} (rejected or deleted, kept as history until now); the audit log keeps an entry for each",
            ended.len(),
            if ended.len() == 1 { "" } else { "s" }
        ));
    }
    impact.ended_sessions = ended;
    Ok(())
}

pub fn lan_impact(c: &mut DbConnection, id: i64) -> Result<Option<(Lan, Impact)>, AdminError> {
    let Some(lan) = lans::lan(c, id)? else {
        return Ok(None);
    };
    let mut impact = Impact::default();
    for rs in lans::route_servers_of_lan(c, id)? {
        impact.blockers.push(Dependent::RouteServer {
            id: rs.id,
            name: rs.name,
        });
    }
    let conns = connections::of_lan(c, id)?;
    if !conns.is_empty() {
        let names = customer_names(c)?;
        for cn in conns {
            impact.blockers.push(Dependent::Connection {
                id: cn.id,
                customer: names.get(&cn.customer_id).cloned().unwrap_or_default(),
                addresses: addresses(&cn.ipv4_address, &cn.ipv6_address),
            });
        }
    }
    impact.losses.push(format!(
        "the peering LAN {} (VLAN {}, {})",
        lan.name,
        lan.vlan_id,
        addresses(&lan.ipv4_prefix, &lan.ipv6_prefix)
    ));
    Ok(Some((lan, impact)))
}

pub fn route_server_impact(
    c: &mut DbConnection,
    id: i64,
) -> Result<Option<(RouteServer, Impact)>, AdminError> {
    let Some(rs) = lans::route_server(c, id)? else {
        return Ok(None);
    };
    let mut impact = Impact::default();
    impact.losses.push(format!(
        "the route server {} (AS{}, {})",
        rs.name,
        rs.asn,
        addresses(&rs.ipv4_address, &rs.ipv6_address)
    ));
    impact.losses.push(format!(
        "its configuration feed /api/v1/routeservers/{}/sessions.json",
        rs.id
    ));
    let sessions = peering_sessions::of_route_server(c, id, SessionStatus::ALL)?;
    sessions_impact(c, sessions, &mut impact)?;
    Ok(Some((rs, impact)))
}

pub fn connection_impact(
    c: &mut DbConnection,
    id: i64,
) -> Result<Option<(Connection, Impact)>, AdminError> {
    let Some(cn) = connections::find(c, id)? else {
        return Ok(None);
    };
    let customer = customers::find(c, cn.customer_id)?
        .map(|cu| cu.name)
        .unwrap_or_default();
    let lan = lans::lan(c, cn.lan_id)?.map(|l| l.name).unwrap_or_default();
    let mut impact = Impact::default();
    impact.losses.push(format!(
        "the connection of {customer} on {lan}: {}, {} Mbit/s{}",
        addresses(&cn.ipv4_address, &cn.ipv6_address),
        cn.speed_mbps,
        if cn.macs().is_empty() {
            String::new()
        } else {
            format!(", MAC {}", cn.macs().join(", "))
        }
    ));
    let sessions = peering_sessions::of_connection(c, id)?;
    sessions_impact(c, sessions, &mut impact)?;
    Ok(Some((cn, impact)))
}

pub fn customer_impact(
    c: &mut DbConnection,
    id: i64,
) -> Result<Option<(Customer, Impact)>, AdminError> {
    let Some(customer) = customers::find(c, id)? else {
        return Ok(None);
    };
    let mut impact = Impact::default();
    for (a, u) in affiliations::of_customer(c, id)? {
        impact.blockers.push(Dependent::User {
            id: u.id,
            username: u.username,
            privilege: a.privilege,
        });
    }
    let lan_names: HashMap<i64, String> =
        lans::lans(c)?.into_iter().map(|l| (l.id, l.name)).collect();
    for cn in connections::of_customer(c, id)? {
        impact.blockers.push(Dependent::Connection {
            id: cn.id,
            customer: format!(
                "{} on {}",
                customer.name,
                lan_names.get(&cn.lan_id).cloned().unwrap_or_default()
            ),
            addresses: addresses(&cn.ipv4_address, &cn.ipv6_address),
        });
    }
    for s in peering_sessions::of_customer(c, id)? {
        impact.blockers.push(Dependent::Session {
            customer: customer.name.clone(),
            session: s,
        });
    }
    impact.losses.push(format!(
        "the customer {} (AS{}, {})",
        customer.name, customer.autsys, customer.shortname
    ));
    let keys = api_tokens::keys_of_customer(c, id)?;
    let active = keys.iter().filter(|k| k.revoked_at.is_none()).count();
    if !keys.is_empty() {
        impact.losses.push(format!(
            "its {} API key{} ({active} active: tools that use them stop working)",
            keys.len(),
            if keys.len() == 1 { "" } else { "s" }
        ));
    }
    let blocks = peeringdb_links::blocks_on(c, id)?.len();
    if blocks > 0 {
        impact.losses.push(format!(
            "{blocks} block{} of Login with PeeringDB (a new customer with this ASN starts without them)",
            if blocks == 1 { "" } else { "s" }
        ));
    }
    impact
        .losses
        .push("its name on past login records (the records stay, without a customer)".into());
    Ok(Some((customer, impact)))
}

/// Writes the history of ended sessions that go with a route server or a
/// connection: one audit entry each, with every detail of the session.
pub(super) fn audit_ended_sessions(
    c: &mut DbConnection,
    actor: &str,
    impact: &Impact,
    because: &str,
) -> Result<(), AdminError> {
    if impact.ended_sessions.is_empty() {
        return Ok(());
    }
    let shortnames: HashMap<i64, String> = customers::all(c)?
        .into_iter()
        .map(|cu| (cu.id, cu.shortname))
        .collect();
    for s in &impact.ended_sessions {
        let subject = shortnames.get(&s.customer_id).cloned().unwrap_or_default();
        audit::record(
            c,
            actor,
            "peering_session.purge",
            &subject,
            &format!(
                "session {} ({}; AS{} {} with AS{} {}, requested by {} on {}) removed with {because}",
                s.session_id,
                s.status,
                s.member_asn,
                s.member_ip,
                s.rs_asn,
                s.rs_ip,
                s.requested_by,
                s.created_at.format("%Y-%m-%d %H:%M")
            ),
        )?;
    }
    Ok(())
}

/// Refuses with the blockers named, or goes ahead.
pub(super) fn check(impact: &Impact, what: &str, remedy: &str) -> Result<(), AdminError> {
    if impact.blockers.is_empty() {
        Ok(())
    } else {
        Err(impact.refusal(what, remedy))
    }
}

/// Deletes a customer that nothing needs any more (no users, connections
/// or sessions): its API keys and PeeringDB blocks go with it.
pub fn delete_customer(
    conn: &mut DbConnection,
    actor: &str,
    id: i64,
) -> Result<Customer, AdminError> {
    crate::db::write_tx(conn, |c| {
        let (customer, impact) = customer_impact(c, id)?
            .ok_or_else(|| AdminError::NotFound("no such customer".into()))?;
        check(
            &impact,
            &format!("customer {}", customer.name),
            "remove its users, connections and sessions first",
        )?;
        customers::delete(c, id)?;
        audit::record(
            c,
            actor,
            "customer.delete",
            &customer.shortname,
            &format!(
                "{} (AS{}), type {}, status {}; with it: {}",
                customer.name,
                customer.autsys,
                customer.cust_type,
                customer.status,
                impact.losses.get(1..).unwrap_or_default().join("; ")
            ),
        )?;
        Ok(customer)
    })
}
