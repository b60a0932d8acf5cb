//! Who may act for which ASN: the PeeringDB networks with the permission
//! to manage peering sessions (or API keys of a customer), and the
//! customer behind the ASN must be eligible under the login rules.
use super::ApiError;
use crate::db::api_tokens::{ApiToken, KIND_API_KEY, KIND_PEERINGDB, KIND_STAFF_KEY};
use crate::db::models::{Customer, today};
use crate::db::{DbConnection, customers};
use crate::domain::Asn;
use crate::peeringdb::Network;

/// PeeringDB's permission bit for "update" in a network's `perms`.
pub const PERM_UPDATE: i64 = 0x02;

/// The networks whose sessions the user may manage, and the others:
/// `manage_peering_sessions` decides where present, else update
/// permission in `perms`.
pub fn split_networks(networks: &[Network]) -> (Vec<Asn>, Vec<Asn>) {
    let mut allowed = Vec::new();
    let mut others = Vec::new();
    for n in networks {
        let Some(asn) = n.asn else { continue };
        let ok = match n.manage_peering_sessions {
            Some(v) => v,
            None => n.perms.is_some_and(|p| p & PERM_UPDATE != 0),
        };
        let list = if ok { &mut allowed } else { &mut others };
        if !list.contains(&asn) {
            list.push(asn);
        }
    }
    others.retain(|a| !allowed.contains(a));
    (allowed, others)
}

/// The customer the caller acts for as `asn`, or 403 with the reason.
pub fn authorize(c: &mut DbConnection, token: &ApiToken, asn: Asn) -> Result<Customer, ApiError> {
    if token.kind == KIND_STAFF_KEY {
        return Err(ApiError::forbidden(
            "asn",
            "a staff key does not act for member networks: use a member's API key or a PeeringDB token",
        ));
    }
    let candidates = customers::by_asn(c, asn)?;
    let candidates: Vec<Customer> = if token.kind == KIND_API_KEY {
        let mine: Vec<Customer> = candidates
            .into_iter()
            .filter(|cu| Some(cu.id) == token.customer_id)
            .collect();
        if mine.is_empty() {
            return Err(ApiError::forbidden(
                "asn",
                format!("this API key does not belong to a customer with AS{asn}"),
            ));
        }
        mine
    } else {
        if !token.allowed().contains(&asn) {
            let why = if token.others().contains(&asn) {
                format!(
                    "your PeeringDB account may not manage peering sessions of AS{asn} (no manage_peering_sessions or update permission)"
                )
            } else {
                format!("AS{asn} is not among your PeeringDB networks")
            };
            return Err(ApiError::forbidden("asn", why));
        }
        candidates
    };
    if candidates.is_empty() {
        return Err(ApiError::forbidden(
            "asn",
            format!("AS{asn} is not a member of this IXP"),
        ));
    }
    let mut reason = None;
    // A PeeringDB identity that staff or the network's admin removed from
    // a customer may not act for it through the API either (SPEC §6.2).
    let candidates = match token
        .peeringdb_user_id
        .filter(|_| token.kind == KIND_PEERINGDB)
    {
        Some(pdb) => {
            let blocks = crate::db::peeringdb_links::blocks_of(c, pdb)?;
            let (blocked, open): (Vec<Customer>, Vec<Customer>) = candidates
                .into_iter()
                .partition(|cu| blocks.iter().any(|b| b.customer_id == cu.id));
            if let Some(b) = blocked
                .first()
                .and_then(|cu| blocks.iter().find(|b| b.customer_id == cu.id))
            {
                reason = Some(format!("your access was {}", b.by.removed_by()));
            }
            open
        }
        None => candidates,
    };
    let day = today();
    for cu in candidates {
        match cu.facts().eligibility(day) {
            Ok(()) => return Ok(cu),
            Err(e) => {
                reason.get_or_insert_with(|| e.reason());
            }
        }
    }
    Err(ApiError::forbidden(
        "asn",
        format!(
            "AS{asn} may not use the Peering API: {}",
            reason.unwrap_or_default()
        ),
    ))
}

/// SPEC §7: the Peering API's `/auth` applies the web login's rules. A
/// PeeringDB identity gets no token when `AUTH_PEERINGDB_REQUIRE_MFA` is on
/// and its sign-in lacked `mfa`, when its portal user is disabled, or when
/// none of its networks is an eligible customer here that it is not
/// blocked from (§6.2).
pub fn login_rules(
    c: &mut DbConnection,
    profile: &crate::peeringdb::Profile,
    require_mfa: bool,
) -> Result<(), ApiError> {
    if require_mfa && !profile.has_mfa() {
        return Err(ApiError::forbidden("code", crate::peeringdb::MSG_MFA));
    }
    if crate::db::users::by_peeringdb_id(c, profile.id)?.is_some_and(|u| u.disabled) {
        return Err(ApiError::forbidden(
            "code",
            "the portal account of this PeeringDB user is disabled",
        ));
    }
    let blocks = crate::db::peeringdb_links::blocks_of(c, profile.id)?;
    let day = today();
    let open = customers::by_asns(c, &profile.affiliated_asns())?
        .into_iter()
        .any(|cu| {
            cu.facts().eligibility(day).is_ok() && !blocks.iter().any(|b| b.customer_id == cu.id)
        });
    if !open {
        return Err(ApiError::forbidden(
            "code",
            "none of your PeeringDB networks is a member of this IXP that may use Login with PeeringDB",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(asn: i64, perms: Option<i64>, manage: Option<bool>) -> Network {
        Network {
            id: None,
            asn: Asn::new(asn),
            name: None,
            perms,
            manage_peering_sessions: manage,
        }
    }

    #[test]
    fn manage_flag_wins_then_update_permission() {
        let (allowed, others) = split_networks(&[
            net(1, Some(1), Some(true)),
            net(2, Some(15), Some(false)),
            net(3, Some(15), None),
            net(4, Some(1), None),
            net(5, None, None),
            net(0, Some(15), None),
        ]);
        let a: Vec<u32> = allowed.iter().map(|a| a.get()).collect();
        let o: Vec<u32> = others.iter().map(|a| a.get()).collect();
        assert_eq!(a, vec![1, 3]);
        assert_eq!(o, vec![2, 4, 5]);
    }
}
