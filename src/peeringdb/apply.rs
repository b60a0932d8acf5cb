//! Carrying out a plan: one transaction (retried on a lost race) that
//! loads the state, asks `reconcile` (or `expire`) for the plan and applies
//! it, with the audit entries, the links' confirmation time, the refresh
//! token and, for a login, the login record.
use super::profile::Profile;
use super::reconcile::{
    ExistingLink, ExistingUser, Plan, Policy, State, UserAction, expire, reconcile,
};
use crate::db::audit::{ACTOR_OAUTH, ACTOR_RECHECK};
use crate::db::models::{NewUser, User, now};
use crate::db::schema::affiliations;
use crate::db::{
    DbConnection, DbError, audit, customers, logins, peeringdb_links, users, with_retry,
};
use crate::domain::{CreatedBy, LoginMethod, OAUTH_CREATOR, Username};
use diesel::prelude::*;

/// What the login did.
#[derive(Debug, Clone)]
pub struct Applied {
    pub plan: Plan,
    /// The signed-in user (when the login succeeded) and their password epoch.
    pub user: Option<(i64, i32)>,
    pub username: Option<String>,
}

/// Why a plan is carried out.
#[derive(Debug, Clone, Copy)]
pub enum Occasion<'a> {
    /// A PeeringDB login from this address: a login record, and the
    /// refresh token is replaced (deleted when the provider gave none).
    Login { address: &'a str },
    /// The background re-check (§6.3): no login record; a rotated refresh
    /// token replaces the stored one.
    Recheck,
    /// A password login or a re-check without a profile (§6.4).
    Expiry,
}

impl Occasion<'_> {
    fn actor(self) -> &'static str {
        match self {
            Occasion::Login { .. } => ACTOR_OAUTH,
            Occasion::Recheck | Occasion::Expiry => ACTOR_RECHECK,
        }
    }
}

/// A refresh token, sealed for storage, and the PeeringDB id it is bound to.
pub fn refresh_context(peeringdb_id: i64) -> String {
    format!("peeringdb-refresh:{peeringdb_id}")
}

/// The state of one existing user, as the reconciliation sees it.
fn existing_user(c: &mut DbConnection, u: User) -> Result<ExistingUser, DbError> {
    let links = crate::db::affiliations::of_user(c, u.id)?
        .into_iter()
        .map(|(a, cust)| ExistingLink {
            affiliation_id: a.id,
            customer: cust.facts(),
            created_by: a.created_by,
            confirmed_at: a.confirmed_at,
        })
        .collect();
    Ok(ExistingUser {
        id: u.id,
        username: u.username,
        email: u.email,
        superuser: u.superuser,
        disabled: u.disabled,
        links,
    })
}

/// Loads what the reconciliation needs.
fn load_state(c: &mut DbConnection, profile: &Profile) -> Result<State, DbError> {
    let user = match users::by_peeringdb_id(c, profile.id)? {
        Some(u) => Some(existing_user(c, u)?),
        None => None,
    };
    let customers = customers::by_asns(c, &profile.affiliated_asns())?
        .iter()
        .map(|c| c.facts())
        .collect();
    let taken_usernames = if user.is_none() {
        let base = Username::sanitize(profile.name.as_deref());
        users::taken_candidates(c, &base)?
    } else {
        Default::default()
    };
    let blocks = peeringdb_links::blocks_of(c, profile.id)?
        .into_iter()
        .map(|b| (b.customer_id, b.by))
        .collect();
    Ok(State {
        user,
        customers,
        taken_usernames,
        blocks,
    })
}

/// Applies the plan inside the caller's transaction.
fn apply_plan(
    c: &mut DbConnection,
    plan: &Plan,
    state: &State,
    occasion: Occasion<'_>,
    unknown_hash: &str,
    refresh: Option<&str>,
) -> Result<Applied, DbError> {
    let actor = occasion.actor();
    let mut log = Vec::new();
    let mut entry = |action: &str, subject: &str, details: String| {
        log.push((
            actor.to_string(),
            action.to_string(),
            subject.to_string(),
            details,
        ))
    };
    let subject = match (&plan.user, &state.user) {
        (UserAction::Create { username, .. }, _) => username.to_string(),
        (_, Some(u)) => u.username.clone(),
        _ => format!("peeringdb:{}", plan.peeringdb_id),
    };
    let t = now();
    let user_id = match &plan.user {
        UserAction::Create {
            username,
            name,
            email,
            peeringdb_id,
        } => {
            let id = users::insert(
                c,
                &NewUser {
                    username: username.as_str(),
                    name,
                    email,
                    password_hash: unknown_hash,
                    peeringdb_id: Some(*peeringdb_id),
                    creator: OAUTH_CREATOR,
                    disabled: false,
                    superuser: false,
                    current_customer_id: None,
                    session_epoch: 0,
                    created_at: t,
                    updated_at: t,
                },
            )?;
            entry(
                "user.create",
                &subject,
                format!("created from PeeringDB user {peeringdb_id} ({name} <{email}>)"),
            );
            Some(id)
        }
        UserAction::Update { id, name, email } => {
            users::update_profile(c, *id, name, email)?;
            Some(*id)
        }
        UserAction::Keep => state.user.as_ref().map(|u| u.id),
    };
    if !plan.remove.is_empty() {
        let ids: Vec<i64> = plan.remove.iter().map(|r| r.affiliation_id).collect();
        diesel::delete(affiliations::table.filter(affiliations::id.eq_any(ids))).execute(c)?;
        for r in &plan.remove {
            entry(
                "affiliation.remove",
                &subject,
                format!("removed link to {}: {}", r.customer_name, r.reason),
            );
        }
    }
    if let (Some(uid), false) = (user_id, plan.add.is_empty()) {
        let rows: Vec<_> = plan
            .add
            .iter()
            .map(|a| {
                (
                    affiliations::user_id.eq(uid),
                    affiliations::customer_id.eq(a.customer_id),
                    affiliations::privilege.eq(a.privilege),
                    affiliations::created_by.eq(CreatedBy::PeeringDb),
                    affiliations::created_at.eq(t),
                    affiliations::updated_at.eq(t),
                    affiliations::confirmed_at.eq(Some(t)),
                )
            })
            .collect();
        crate::on_backend!(&mut *c, |conn| diesel::insert_into(affiliations::table)
            .values(rows)
            .execute(conn))?;
        for a in &plan.add {
            entry(
                "affiliation.create",
                &subject,
                format!(
                    "linked to {} (AS{}) as {}, by PeeringDB",
                    a.customer_name, a.asn, a.privilege
                ),
            );
        }
    }
    for s in &plan.skipped {
        entry(
            "peeringdb.skip",
            &subject,
            format!(
                "not linked to {} (AS{}): {}",
                s.customer_name, s.asn, s.reason
            ),
        );
    }
    if let Some(id) = plan.delete_user {
        users::delete(c, id)?;
        entry(
            "user.delete",
            &subject,
            match occasion {
                Occasion::Login { .. } => {
                    "deleted: no affiliation left after Login with PeeringDB".into()
                }
                Occasion::Recheck => {
                    "deleted: no affiliation left after a PeeringDB re-check".into()
                }
                Occasion::Expiry => {
                    "deleted: no affiliation left once unconfirmed PeeringDB links expired".into()
                }
            },
        );
    } else if let Some(uid) = user_id {
        let confirmed_now = plan.user != UserAction::Keep;
        // PeeringDB has just confirmed every PeeringDB-made link it kept.
        if confirmed_now && !matches!(occasion, Occasion::Expiry) {
            peeringdb_links::confirm_all(c, uid, t)?;
        }
        match occasion {
            // Replaced at every login (deleted when none came with it).
            Occasion::Login { .. } if confirmed_now => {
                peeringdb_links::set_refresh_token(c, uid, refresh)?
            }
            // A rotated token replaces the one just used.
            Occasion::Recheck if refresh.is_some() => {
                peeringdb_links::set_refresh_token(c, uid, refresh)?
            }
            _ => {}
        }
    }
    let mut signed_in = None;
    match (occasion, plan.refusal, user_id) {
        (Occasion::Login { address }, None, Some(uid)) => {
            if let Some((_, epoch)) = logins::complete(c, uid, address, LoginMethod::PeeringDb)? {
                signed_in = Some((uid, epoch));
            }
            entry(
                "login.peeringdb",
                &subject,
                format!("signed in with PeeringDB from {address}"),
            );
        }
        (Occasion::Login { .. }, Some(refusal), _) => {
            entry(
                "login.peeringdb_refused",
                &subject,
                format!("PeeringDB user {}: {}", plan.peeringdb_id, refusal.code()),
            );
        }
        _ => {}
    }
    audit::record_many(c, &log)?;
    Ok(Applied {
        plan: plan.clone(),
        user: signed_in,
        username: user_id.map(|_| subject),
    })
}

/// SPEC §2 "Processing a PeeringDB login", in one transaction. `refresh`
/// is the sealed refresh token of this login, if the provider gave one.
pub fn process_login(
    c: &mut DbConnection,
    profile: &Profile,
    policy: &Policy,
    address: &str,
    refresh: Option<&str>,
) -> Result<Applied, DbError> {
    with_retry(c, |c| {
        let state = load_state(c, profile)?;
        let plan = reconcile(profile, &state, policy);
        let unknown = match plan.user {
            UserAction::Create { .. } => {
                crate::auth::password::unknown().map_err(|_| DbError::Task)?
            }
            _ => String::new(),
        };
        apply_plan(
            c,
            &plan,
            &state,
            Occasion::Login { address },
            &unknown,
            refresh,
        )
    })
}

/// The re-check of one user (§6.3) with the profile PeeringDB gave for
/// their refresh token: the same reconciliation as a login, without a
/// login record. Whoever the profile names must still be this user.
pub fn process_recheck(
    c: &mut DbConnection,
    profile: &Profile,
    policy: &Policy,
    refresh: Option<&str>,
) -> Result<Plan, DbError> {
    with_retry(c, |c| {
        let state = load_state(c, profile)?;
        if state.user.is_none() {
            // Deleted meanwhile: a re-check never creates a user.
            return Ok(Plan::unchanged(profile.id));
        }
        let plan = reconcile(profile, &state, policy);
        apply_plan(c, &plan, &state, Occasion::Recheck, "", refresh).map(|a| a.plan)
    })
}

/// The link age of §6.4 for one user, without a profile: at a password
/// login, and by a re-check that has no refresh token to use.
pub fn process_expiry(
    c: &mut DbConnection,
    user_id: i64,
    policy: &Policy,
) -> Result<Plan, DbError> {
    with_retry(c, |c| {
        let Some(u) = users::find(c, user_id)? else {
            return Ok(Plan::unchanged(0));
        };
        let peeringdb_id = u.peeringdb_id.unwrap_or_default();
        let state = State {
            user: Some(existing_user(c, u)?),
            ..State::default()
        };
        let mut plan = expire(&state, policy);
        plan.peeringdb_id = peeringdb_id;
        if !plan.changes_anything() {
            return Ok(plan);
        }
        apply_plan(c, &plan, &state, Occasion::Expiry, "", None).map(|a| a.plan)
    })
}
