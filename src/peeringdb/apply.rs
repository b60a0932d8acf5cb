//! Carrying out a login plan: one transaction (retried on a lost race) that
//! loads the state, asks `reconcile` for the plan and applies it, with the
//! audit entries and the login record.
use super::profile::Profile;
use super::reconcile::{ExistingLink, ExistingUser, Plan, Policy, State, UserAction, reconcile};
use crate::auth::password;
use crate::db::audit::ACTOR_OAUTH;
use crate::db::models::{NewUser, now};
use crate::db::schema::affiliations;
use crate::db::{DbConnection, DbError, audit, customers, logins, users, with_retry};
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

/// Loads what the reconciliation needs.
fn load_state(c: &mut DbConnection, profile: &Profile) -> Result<State, DbError> {
    let user = match users::by_peeringdb_id(c, profile.id)? {
        Some(u) => {
            let links = crate::db::affiliations::of_user(c, u.id)?
                .into_iter()
                .map(|(a, cust)| ExistingLink {
                    affiliation_id: a.id,
                    customer: cust.facts(),
                    created_by: a.created_by,
                })
                .collect();
            Some(ExistingUser {
                id: u.id,
                username: u.username,
                superuser: u.superuser,
                disabled: u.disabled,
                links,
            })
        }
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
    Ok(State {
        user,
        customers,
        taken_usernames,
    })
}

fn entry(action: &str, subject: &str, details: String) -> (String, String, String, String) {
    (
        ACTOR_OAUTH.to_string(),
        action.to_string(),
        subject.to_string(),
        details,
    )
}

/// Applies the plan inside the caller's transaction.
fn apply_plan(
    c: &mut DbConnection,
    plan: &Plan,
    state: &State,
    address: &str,
    unknown_hash: &str,
) -> Result<Applied, DbError> {
    let mut log = Vec::new();
    let subject = match (&plan.user, &state.user) {
        (UserAction::Create { username, .. }, _) => username.to_string(),
        (_, Some(u)) => u.username.clone(),
        _ => format!("peeringdb:{}", plan.peeringdb_id),
    };
    let user_id = match &plan.user {
        UserAction::Create {
            username,
            name,
            email,
            peeringdb_id,
        } => {
            let t = now();
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
            log.push(entry(
                "user.create",
                &subject,
                format!("created from PeeringDB user {peeringdb_id} ({name} <{email}>)"),
            ));
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
            log.push(entry(
                "affiliation.remove",
                &subject,
                format!("removed link to {}: {}", r.customer_name, r.reason),
            ));
        }
    }
    if let (Some(uid), false) = (user_id, plan.add.is_empty()) {
        let t = now();
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
                )
            })
            .collect();
        crate::on_backend!(&mut *c, |conn| diesel::insert_into(affiliations::table)
            .values(rows)
            .execute(conn))?;
        for a in &plan.add {
            log.push(entry(
                "affiliation.create",
                &subject,
                format!(
                    "linked to {} (AS{}) as {}, by PeeringDB",
                    a.customer_name, a.asn, a.privilege
                ),
            ));
        }
    }
    for s in &plan.skipped {
        log.push(entry(
            "peeringdb.skip",
            &subject,
            format!(
                "not linked to {} (AS{}): {}",
                s.customer_name, s.asn, s.reason
            ),
        ));
    }
    if let Some(id) = plan.delete_user {
        users::delete(c, id)?;
        log.push(entry(
            "user.delete",
            &subject,
            "deleted: no affiliation left after Login with PeeringDB".into(),
        ));
    }
    let mut signed_in = None;
    match (plan.refusal, user_id) {
        (None, Some(uid)) => {
            if let Some((_, epoch)) = logins::complete(c, uid, address, LoginMethod::PeeringDb)? {
                signed_in = Some((uid, epoch));
            }
            log.push(entry(
                "login.peeringdb",
                &subject,
                format!("signed in with PeeringDB from {address}"),
            ));
        }
        (Some(refusal), _) => {
            log.push(entry(
                "login.peeringdb_refused",
                &subject,
                format!("PeeringDB user {}: {}", plan.peeringdb_id, refusal.code()),
            ));
        }
        (None, None) => {}
    }
    audit::record_many(c, &log)?;
    Ok(Applied {
        plan: plan.clone(),
        user: signed_in,
        username: user_id.map(|_| subject),
    })
}

/// SPEC §2 "Processing a PeeringDB login", in one transaction.
pub fn process_login(
    c: &mut DbConnection,
    profile: &Profile,
    policy: &Policy,
    address: &str,
) -> Result<Applied, DbError> {
    with_retry(c, |c| {
        let state = load_state(c, profile)?;
        let plan = reconcile(profile, &state, policy);
        let unknown = match plan.user {
            UserAction::Create { .. } => password::unknown().map_err(|_| DbError::Task)?,
            _ => String::new(),
        };
        apply_plan(c, &plan, &state, address, &unknown)
    })
}
