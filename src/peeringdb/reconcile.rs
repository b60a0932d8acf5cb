//! The login reconciliation of SPEC §2 as a pure function: a profile, the
//! current state and the policy in; a plan with reasons out. Nothing here
//! touches the database; `apply` carries the plan out in one transaction.
use super::profile::Profile;
use crate::domain::{Asn, BlockedBy, Cause, CreatedBy, CustomerFacts, Privilege, Username};
use chrono::{NaiveDate, NaiveDateTime};
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
    /// The time that decides how old a link's confirmation is.
    pub now: NaiveDateTime,
    /// `AUTH_PEERINGDB_LINK_MAX_AGE` in seconds: a PeeringDB-made link not
    /// confirmed for longer is removed where no profile confirms it (§6.4).
    pub max_link_age: i64,
}

/// The user that already carries this PeeringDB id, with their links.
#[derive(Debug, Clone)]
pub struct ExistingUser {
    pub id: i64,
    pub username: String,
    /// The stored email, kept when the profile carries none.
    pub email: String,
    pub superuser: bool,
    pub disabled: bool,
    pub links: Vec<ExistingLink>,
}

#[derive(Debug, Clone)]
pub struct ExistingLink {
    pub affiliation_id: i64,
    pub customer: CustomerFacts,
    pub created_by: CreatedBy,
    /// When PeeringDB last confirmed it (PeeringDB-made links).
    pub confirmed_at: Option<NaiveDateTime>,
}

impl ExistingLink {
    /// A PeeringDB-made link that PeeringDB has not confirmed for longer
    /// than the policy allows (never confirmed counts as too long).
    pub fn is_unconfirmed(&self, policy: &Policy) -> bool {
        self.created_by == CreatedBy::PeeringDb
            && self
                .confirmed_at
                .is_none_or(|t| (policy.now - t).num_seconds() > policy.max_link_age)
    }
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
    /// Customers whose PeeringDB-made link to this PeeringDB identity was
    /// removed by hand (§6.2), with who removed it.
    pub blocks: Vec<(i64, BlockedBy)>,
}

/// Why the login is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Unverified,
    MfaRequired,
    NoMatch,
    /// Customers match, but none of them may be linked.
    NotEligible,
    /// A password login found every link of the user unconfirmed for too
    /// long (§6.4) and the user was deleted.
    Unconfirmed,
    Disabled,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Unverified => super::MSG_UNVERIFIED,
            Refusal::MfaRequired => super::MSG_MFA,
            Refusal::NoMatch => super::MSG_NO_MATCH,
            Refusal::NotEligible => super::MSG_NOT_ELIGIBLE,
            Refusal::Unconfirmed => super::MSG_UNCONFIRMED,
            Refusal::Disabled => super::MSG_DISABLED,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Unverified => "unverified",
            Refusal::MfaRequired => "mfa_required",
            Refusal::NoMatch => "no_match",
            Refusal::NotEligible => "not_eligible",
            Refusal::Unconfirmed => "unconfirmed",
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
    /// For the audit log.
    pub reason: String,
    pub cause: Cause,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub customer_id: i64,
    pub customer_name: String,
    pub asn: Asn,
    /// For the audit log.
    pub reason: String,
    pub cause: Cause,
}

/// What became of one of the person's own PeeringDB networks that is a
/// customer here: what the person is told after the login (SPEC §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkOutcome {
    pub customer_id: i64,
    pub customer_name: String,
    pub asn: Asn,
    /// `Ok(true)`: linked by this login; `Ok(false)`: linked already;
    /// `Err`: not linked, and why.
    pub linked: Result<bool, Cause>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub peeringdb_id: i64,
    pub user: UserAction,
    pub add: Vec<AddLink>,
    pub remove: Vec<RemoveLink>,
    pub skipped: Vec<Skip>,
    /// Each customer among the person's PeeringDB networks, by name.
    pub networks: Vec<NetworkOutcome>,
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
            networks: Vec::new(),
            delete_user: None,
            refusal: Some(refusal),
        }
    }

    /// A plan that changes nothing and refuses nothing.
    pub fn unchanged(peeringdb_id: i64) -> Plan {
        Plan {
            refusal: None,
            ..Plan::refused(peeringdb_id, Refusal::NoMatch)
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

/// SPEC §2, steps 2 to 8 (step 1 is the profile parser's), with the
/// blocks of §6.2: a PeeringDB login or a re-check.
pub fn reconcile(profile: &Profile, state: &State, policy: &Policy) -> Plan {
    decide(Some(profile), state, policy)
}

/// A sign-in without a profile (a password login, or a re-check that has
/// no refresh token): PeeringDB confirms nothing, so only the link age of
/// §6.4 applies; a user that loses its last link is deleted (step 8).
pub fn expire(state: &State, policy: &Policy) -> Plan {
    decide(None, state, policy)
}

fn removal(link: &ExistingLink, cause: Cause) -> RemoveLink {
    RemoveLink {
        affiliation_id: link.affiliation_id,
        customer_id: link.customer.id,
        customer_name: link.customer.name.clone(),
        reason: cause.audit(),
        cause,
    }
}

/// Why a PeeringDB-made link must go: with a profile, the profile and
/// the customer decide; without one, only its age.
fn remove_cause(
    link: &ExistingLink,
    asns: Option<&BTreeSet<Asn>>,
    policy: &Policy,
) -> Option<Cause> {
    if link.created_by != CreatedBy::PeeringDb {
        return None;
    }
    match asns {
        None => link.is_unconfirmed(policy).then_some(Cause::Unconfirmed {
            max_age_seconds: policy.max_link_age,
        }),
        Some(asns) if !asns.contains(&link.customer.asn) => {
            Some(Cause::LeftProfile(link.customer.asn))
        }
        Some(_) => link
            .customer
            .eligibility(policy.today)
            .err()
            .map(Cause::Ineligible),
    }
}

fn decide(profile: Option<&Profile>, state: &State, policy: &Policy) -> Plan {
    let existing = state.user.as_ref();
    let peeringdb_id = profile.map(|p| p.id).unwrap_or_default();
    if let Some(profile) = profile {
        // 2. Verified user and email.
        if !(profile.verified_user && profile.verified_email) {
            return Plan::refused(profile.id, Refusal::Unverified);
        }
        if policy.require_mfa && !profile.has_mfa() {
            return Plan::refused(profile.id, Refusal::MfaRequired);
        }
    }

    // 3. The affiliated ASNs, and the customers that carry them.
    let asns: Option<BTreeSet<Asn>> = profile.map(|p| p.affiliated_asns().into_iter().collect());
    let mut matching: Vec<&CustomerFacts> = match &asns {
        Some(asns) => state
            .customers
            .iter()
            .filter(|c| asns.contains(&c.asn))
            .collect(),
        None => Vec::new(),
    };
    matching.sort_by_key(|c| c.id);
    matching.dedup_by_key(|c| c.id);
    let any_match = !matching.is_empty();

    let mut plan = Plan::refused(peeringdb_id, Refusal::NoMatch);
    plan.refusal = None;

    // 4. Load or create the user (only when something matched).
    if let (Some(profile), true) = (profile, any_match) {
        let name = profile.display_name();
        // A profile without an email keeps the stored one.
        let email = profile.email.clone().filter(|e| !e.trim().is_empty());
        plan.user = match existing {
            Some(u) => UserAction::Update {
                id: u.id,
                name,
                email: email.unwrap_or_else(|| u.email.clone()),
            },
            None => {
                let base = Username::sanitize(profile.name.as_deref());
                let username = (1..)
                    .map(|n| base.with_suffix(n))
                    .find(|c| !state.taken_usernames.contains(c.as_str()))
                    .unwrap_or(base);
                UserAction::Create {
                    username,
                    name,
                    email: email.unwrap_or_default(),
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
            match remove_cause(link, asns.as_ref(), policy) {
                Some(cause) => plan.remove.push(removal(link, cause)),
                None => {
                    kept += 1;
                    linked.insert(link.customer.id);
                }
            }
        }
    }

    // 6 and 7. Link every eligible candidate that is not blocked, skip the
    // others with a reason.
    if any_match {
        for c in matching.iter().filter(|c| !linked.contains(&c.id)) {
            // A link that step 5 removes is not re-added in the same login.
            if plan.remove.iter().any(|r| r.customer_id == c.id) {
                continue;
            }
            let blocked = state
                .blocks
                .iter()
                .find(|(id, _)| *id == c.id)
                .map(|(_, by)| Cause::Blocked(*by));
            let cause =
                blocked.or_else(|| c.eligibility(policy.today).err().map(Cause::Ineligible));
            match cause {
                None => plan.add.push(AddLink {
                    customer_id: c.id,
                    customer_name: c.name.clone(),
                    asn: c.asn,
                    privilege: policy.privilege,
                }),
                Some(cause) => plan.skipped.push(Skip {
                    customer_id: c.id,
                    customer_name: c.name.clone(),
                    asn: c.asn,
                    reason: cause.audit(),
                    cause,
                }),
            }
        }
    }

    // 8. A user left with no link at all is deleted (never a superuser).
    // Without a profile, only a user who just lost links is.
    let lost_all = kept + plan.add.len() == 0 && (profile.is_some() || !plan.remove.is_empty());
    if lost_all {
        plan.refusal = Some(match profile {
            None => Refusal::Unconfirmed,
            Some(_) if any_match => Refusal::NotEligible,
            Some(_) => Refusal::NoMatch,
        });
        plan.add.clear();
        plan.user = UserAction::Keep;
        if let Some(u) = existing.filter(|u| !u.superuser) {
            plan.delete_user = Some(u.id);
        }
    } else if profile.is_some() && !any_match {
        // 3. Nothing matched: the login fails, links of step 5 are gone.
        plan.refusal = Some(Refusal::NoMatch);
    } else if profile.is_some() && existing.is_some_and(|u| u.disabled) {
        // A login of a disabled user (a password login checks this itself).
        plan.refusal = Some(Refusal::Disabled);
    }

    // What the person is told about each of their own networks here.
    plan.networks = matching
        .iter()
        .map(|c| {
            let linked = if plan.add.iter().any(|a| a.customer_id == c.id) {
                Ok(true)
            } else if linked.contains(&c.id) && plan.delete_user.is_none() {
                Ok(false)
            } else if let Some(r) = plan.remove.iter().find(|r| r.customer_id == c.id) {
                Err(r.cause)
            } else if let Some(s) = plan.skipped.iter().find(|s| s.customer_id == c.id) {
                Err(s.cause)
            } else {
                // Eligible, but the login failed as a whole.
                Ok(false)
            };
            NetworkOutcome {
                customer_id: c.id,
                customer_name: c.name.clone(),
                asn: c.asn,
                linked,
            }
        })
        .collect();
    plan.networks.sort_by(|a, b| {
        a.customer_name
            .cmp(&b.customer_name)
            .then(a.customer_id.cmp(&b.customer_id))
    });
    plan
}

#[cfg(test)]
#[path = "reconcile_tests.rs"]
mod tests;
