//! The login reconciliation of SPEC §2 as a pure function: a profile, the
//! current state and the policy in; a plan with reasons out. Nothing here
//! touches the database; `apply` carries the plan out in one transaction.
use super::profile::Profile;
use crate::domain::{Asn, CreatedBy, CustomerFacts, Ineligible, Privilege, Username};
use chrono::NaiveDate;
use std::collections::{BTreeSet, HashSet};

/// How this portal grants PeeringDB logins.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// `AUTH_PEERINGDB_PRIVS`: the privilege of the links OAuth makes.
    pub privilege: Privilege,
    /// `AUTH_PEERINGDB_REQUIRE_MFA`.
    pub require_mfa: bool,
    /// The date that decides who is cancelled.
    pub today: NaiveDate,
}

/// The user that already carries this PeeringDB id, with their links.
#[derive(Debug, Clone)]
pub struct ExistingUser {
    pub id: i64,
    pub username: String,
    pub superuser: bool,
    pub disabled: bool,
    pub links: Vec<ExistingLink>,
}

#[derive(Debug, Clone)]
pub struct ExistingLink {
    pub affiliation_id: i64,
    pub customer: CustomerFacts,
    pub created_by: CreatedBy,
}

/// What the database says before the login.
#[derive(Debug, Clone, Default)]
pub struct State {
    pub user: Option<ExistingUser>,
    /// Every customer whose ASN is among the affiliated ones (more may be
    /// given; they are ignored).
    pub customers: Vec<CustomerFacts>,
    /// Usernames already taken that could collide with a new user's.
    pub taken_usernames: HashSet<String>,
}

/// Why the login is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Unverified,
    MfaRequired,
    NoMatch,
    Disabled,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Unverified => super::MSG_UNVERIFIED,
            Refusal::MfaRequired => super::MSG_MFA,
            Refusal::NoMatch => super::MSG_NO_MATCH,
            Refusal::Disabled => super::MSG_DISABLED,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Unverified => "unverified",
            Refusal::MfaRequired => "mfa_required",
            Refusal::NoMatch => "no_match",
            Refusal::Disabled => "disabled",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserAction {
    /// Leave the user as is (or there is none).
    Keep,
    Create {
        username: Username,
        name: String,
        email: String,
        peeringdb_id: i64,
    },
    Update {
        id: i64,
        name: String,
        email: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddLink {
    pub customer_id: i64,
    pub customer_name: String,
    pub asn: Asn,
    pub privilege: Privilege,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoveLink {
    pub affiliation_id: i64,
    pub customer_id: i64,
    pub customer_name: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub customer_id: i64,
    pub customer_name: String,
    pub asn: Asn,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub peeringdb_id: i64,
    pub user: UserAction,
    pub add: Vec<AddLink>,
    pub remove: Vec<RemoveLink>,
    pub skipped: Vec<Skip>,
    /// Delete this user (left with no link at all; never a superuser).
    pub delete_user: Option<i64>,
    /// `None`: the login succeeds.
    pub refusal: Option<Refusal>,
}

impl Plan {
    fn refused(peeringdb_id: i64, refusal: Refusal) -> Plan {
        Plan {
            peeringdb_id,
            user: UserAction::Keep,
            add: Vec::new(),
            remove: Vec::new(),
            skipped: Vec::new(),
            delete_user: None,
            refusal: Some(refusal),
        }
    }

    /// Does the plan change anything in the database (besides logging)?
    pub fn changes_anything(&self) -> bool {
        self.user != UserAction::Keep
            || !self.add.is_empty()
            || !self.remove.is_empty()
            || self.delete_user.is_some()
    }
}

/// SPEC §2, steps 2 to 8 (step 1 is the profile parser's).
pub fn reconcile(profile: &Profile, state: &State, policy: &Policy) -> Plan {
    // 2. Verified user and email.
    if !(profile.verified_user && profile.verified_email) {
        return Plan::refused(profile.id, Refusal::Unverified);
    }
    if policy.require_mfa && !profile.has_mfa() {
        return Plan::refused(profile.id, Refusal::MfaRequired);
    }

    // 3. The affiliated ASNs, and the customers that carry them.
    let asns: BTreeSet<Asn> = profile.affiliated_asns().into_iter().collect();
    let mut matching: Vec<&CustomerFacts> = state
        .customers
        .iter()
        .filter(|c| asns.contains(&c.asn))
        .collect();
    matching.sort_by_key(|c| c.id);
    matching.dedup_by_key(|c| c.id);
    let any_match = !matching.is_empty();

    let mut plan = Plan::refused(profile.id, Refusal::NoMatch);
    plan.refusal = None;

    // 4. Load or create the user (only when something matched).
    let existing = state.user.as_ref();
    let name = profile.display_name();
    let email = profile.email.clone().unwrap_or_default();
    if any_match {
        plan.user = match existing {
            Some(u) => UserAction::Update {
                id: u.id,
                name: name.clone(),
                email: email.clone(),
            },
            None => {
                let base = Username::sanitize(profile.name.as_deref());
                let username = (1..)
                    .map(|n| base.with_suffix(n))
                    .find(|c| !state.taken_usernames.contains(c.as_str()))
                    .unwrap_or(base);
                UserAction::Create {
                    username,
                    name: name.clone(),
                    email: email.clone(),
                    peeringdb_id: profile.id,
                }
            }
        };
    }

    // 5. Remove OAuth-made links that no longer hold.
    let mut kept = 0usize;
    let mut linked: HashSet<i64> = HashSet::new();
    if let Some(u) = existing {
        for link in &u.links {
            let reason = if link.created_by != CreatedBy::PeeringDb {
                None
            } else if !asns.contains(&link.customer.asn) {
                Some(format!(
                    "AS{} is no longer among the user's PeeringDB networks",
                    link.customer.asn
                ))
            } else {
                link.customer
                    .eligibility(policy.today)
                    .err()
                    .map(Ineligible::reason)
            };
            match reason {
                Some(reason) => plan.remove.push(RemoveLink {
                    affiliation_id: link.affiliation_id,
                    customer_id: link.customer.id,
                    customer_name: link.customer.name.clone(),
                    reason,
                }),
                None => {
                    kept += 1;
                    linked.insert(link.customer.id);
                }
            }
        }
    }

    // 6 and 7. Link every eligible candidate, skip the others with a reason.
    if any_match {
        for c in matching.iter().filter(|c| !linked.contains(&c.id)) {
            // A link that step 5 removes is not re-added in the same login.
            if plan.remove.iter().any(|r| r.customer_id == c.id) {
                continue;
            }
            match c.eligibility(policy.today) {
                Ok(()) => plan.add.push(AddLink {
                    customer_id: c.id,
                    customer_name: c.name.clone(),
                    asn: c.asn,
                    privilege: policy.privilege,
                }),
                Err(why) => plan.skipped.push(Skip {
                    customer_id: c.id,
                    customer_name: c.name.clone(),
                    asn: c.asn,
                    reason: why.reason(),
                }),
            }
        }
    }

    // 8. A user left with no link at all is deleted (never a superuser).
    if kept + plan.add.len() == 0 {
        plan.refusal = Some(Refusal::NoMatch);
        plan.add.clear();
        match existing {
            Some(u) if !u.superuser => {
                plan.delete_user = Some(u.id);
                plan.user = UserAction::Keep;
            }
            Some(_) => plan.user = UserAction::Keep,
            None => plan.user = UserAction::Keep,
        }
    } else if !any_match {
        // 3. Nothing matched: the login fails, links of step 5 are gone.
        plan.refusal = Some(Refusal::NoMatch);
    } else if existing.is_some_and(|u| u.disabled) {
        plan.refusal = Some(Refusal::Disabled);
    }
    plan
}

#[cfg(test)]
#[path = "reconcile_tests.rs"]
mod tests;
