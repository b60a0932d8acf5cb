//! The re-check of SPEC §6.3: PeeringDB-made links follow PeeringDB
//! without a login. For each user due, the stored refresh token buys a
//! fresh profile, and the same `reconcile` as a login decides (actor
//! `peeringdb-recheck`, no login record, the rotated token stored). Without
//! a usable token only the link age of §6.4 applies. No database
//! connection is held while PeeringDB is asked.
use super::apply::{process_expiry, process_recheck, refresh_context};
use super::client::{PeeringDbClient, ProviderError};
use super::reconcile::{Plan, Policy};
use crate::auth::secret_box::SecretBox;
use crate::config::LinkPolicy;
use crate::db::models::{now, today};
use crate::db::{Db, DbError, leases, peeringdb_links, users};
use crate::domain::Privilege;
use chrono::Duration;

/// The lease that lets one instance run each batch.
pub const LEASE: &str = "peeringdb-recheck";
/// How long a lease lasts unless renewed (after every user).
pub const LEASE_TTL_SECONDS: i64 = 60;
/// The most users one batch takes.
pub const BATCH_LIMIT: i64 = 10_000;

/// Which users to re-check.
#[derive(Debug, Clone, Copy)]
pub enum Select {
    /// Those whose oldest PeeringDB-made link was confirmed longer ago
    /// than `AUTH_PEERINGDB_RECHECK_AFTER`.
    Due,
    /// Every user with a PeeringDB-made link.
    All,
    /// One user, due or not.
    User(i64),
}

/// What a re-check needs besides the database.
#[derive(Clone)]
pub struct Rechecker {
    pub db: Db,
    pub client: Option<PeeringDbClient>,
    pub secrets: SecretBox,
    pub links: LinkPolicy,
    /// `AUTH_PEERINGDB_PRIVS`, for links a re-check adds.
    pub privilege: Privilege,
}

/// What a batch did, for the log and the CLI.
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// Users looked at.
    pub checked: usize,
    /// Users whose profile PeeringDB gave.
    pub refreshed: usize,
    /// Users for whom PeeringDB could not be asked or answered garbage:
    /// nothing changed for them but the link age (retried next interval).
    pub failed: usize,
    /// Refresh tokens the provider refused (deleted).
    pub tokens_refused: usize,
    /// One line per change, naming the user.
    pub changes: Vec<String>,
    /// The lease was lost half-way (another instance took over).
    pub lease_lost: bool,
}

/// The lines a plan adds to a report.
fn describe(username: &str, plan: &Plan, changes: &mut Vec<String>) {
    for a in &plan.add {
        changes.push(format!(
            "{username}: linked to {} (AS{})",
            a.customer_name, a.asn
        ));
    }
    for r in &plan.remove {
        changes.push(format!(
            "{username}: removed link to {}: {}",
            r.customer_name, r.reason
        ));
    }
    if plan.delete_user.is_some() {
        changes.push(format!("{username}: deleted (no link left)"));
    }
}

impl Rechecker {
    fn policy(&self) -> Policy {
        Policy {
            privilege: self.privilege,
            // `amr` describes how the person signed in, which a refresh
            // does not repeat: MFA is for logins.
            require_mfa: false,
            today: today(),
            now: now(),
            max_link_age: self.links.max_age,
        }
    }

    /// The user ids a selection names.
    pub async fn select(&self, select: Select) -> Result<Vec<i64>, DbError> {
        let after = self.links.recheck_after;
        self.db
            .run(move |c| match select {
                Select::User(id) => Ok(vec![id]),
                Select::All => Ok(peeringdb_links::users_due(c, None, BATCH_LIMIT)?),
                Select::Due => Ok(peeringdb_links::users_due(
                    c,
                    Some(now() - Duration::seconds(after)),
                    BATCH_LIMIT,
                )?),
            })
            .await
    }

    /// Re-checks these users one after the other. With a lease `holder`,
    /// the lease is renewed after each user and the batch stops if lost.
    pub async fn run(&self, ids: &[i64], holder: Option<&str>) -> Result<Report, DbError> {
        let mut report = Report::default();
        for &id in ids {
            self.one(id, &mut report).await?;
            if let Some(holder) = holder {
                let holder = holder.to_string();
                let kept = self
                    .db
                    .run(move |c| {
                        Ok::<_, DbError>(leases::renew(
                            c,
                            LEASE,
                            &holder,
                            Duration::seconds(LEASE_TTL_SECONDS),
                        )?)
                    })
                    .await?;
                if !kept {
                    report.lease_lost = true;
                    break;
                }
            }
        }
        Ok(report)
    }

    async fn one(&self, user_id: i64, report: &mut Report) -> Result<(), DbError> {
        let loaded = self
            .db
            .run(move |c| {
                let Some(u) = users::find(c, user_id)? else {
                    return Ok::<_, DbError>(None);
                };
                let sealed = peeringdb_links::refresh_token(c, user_id)?;
                Ok(Some((u, sealed)))
            })
            .await?;
        let Some((user, sealed)) = loaded else {
            return Ok(());
        };
        report.checked += 1;
        let username = user.username.clone();
        let policy = self.policy();
        let fetched = match (&self.client, user.peeringdb_id, &sealed) {
            (Some(client), Some(pdb_id), Some(sealed)) => {
                match self.secrets.open(&refresh_context(pdb_id), sealed) {
                    Some(token) => Some((client, pdb_id, client.refresh(&token).await)),
                    None => {
                        tracing::warn!(user = %username, "a stored refresh token does not open with the current key (PORTAL_SECRET_KEY or SESSION_KEY changed?); it is deleted");
                        self.drop_token(user_id, sealed.clone()).await?;
                        None
                    }
                }
            }
            _ => None,
        };
        let plan = match fetched {
            Some((_, pdb_id, Ok(refreshed))) => {
                let sealed_new = match refreshed.refresh_token.as_deref() {
                    Some(t) => self.secrets.seal(&refresh_context(pdb_id), t),
                    None => None,
                };
                match refreshed.profile {
                    Ok(profile) if profile.id == pdb_id => {
                        report.refreshed += 1;
                        self.db
                            .run(move |c| {
                                process_recheck(c, &profile, &policy, sealed_new.as_deref())
                            })
                            .await?
                    }
                    other => {
                        match other {
                            Ok(p) => {
                                tracing::warn!(user = %username, expected = pdb_id, got = p.id, "PeeringDB answered a re-check with another person's profile; nothing changed")
                            }
                            Err(e) => {
                                tracing::warn!(user = %username, error = %crate::web::log_safe(&e.to_string()), "PeeringDB re-check: the profile could not be read; retried next interval")
                            }
                        }
                        report.failed += 1;
                        // The provider rotated the token: keep the new one.
                        if let Some(sealed_new) = sealed_new {
                            self.db
                                .run(move |c| {
                                    Ok::<_, DbError>(peeringdb_links::set_refresh_token(
                                        c,
                                        user_id,
                                        Some(&sealed_new),
                                    )?)
                                })
                                .await?;
                        }
                        self.expire(user_id, policy).await?
                    }
                }
            }
            Some((_, _, Err(ProviderError::RefreshRefused))) => {
                tracing::info!(user = %username, "PeeringDB refused the stored refresh token; it is deleted");
                report.tokens_refused += 1;
                if let Some(sealed) = sealed {
                    self.drop_token(user_id, sealed).await?;
                }
                self.expire(user_id, policy).await?
            }
            Some((_, _, Err(e))) => {
                // An outage or garbage: nothing changes but the link age.
                tracing::warn!(user = %username, error = %crate::web::log_safe(&e.to_string()), "PeeringDB re-check failed; retried next interval");
                report.failed += 1;
                self.expire(user_id, policy).await?
            }
            None => self.expire(user_id, policy).await?,
        };
        describe(&username, &plan, &mut report.changes);
        Ok(())
    }

    async fn expire(&self, user_id: i64, policy: Policy) -> Result<Plan, DbError> {
        self.db
            .run(move |c| process_expiry(c, user_id, &policy))
            .await
    }

    /// Deletes the stored token if it is still the one that was used (a
    /// login meanwhile may have stored a new one).
    async fn drop_token(&self, user_id: i64, used: String) -> Result<(), DbError> {
        self.db
            .run(move |c| {
                crate::db::write_tx(c, |c| {
                    if peeringdb_links::refresh_token(c, user_id)?.as_deref() == Some(&used) {
                        peeringdb_links::set_refresh_token(c, user_id, None)?;
                    }
                    Ok::<_, DbError>(())
                })
            })
            .await
    }

    /// SPEC §6.1 for changes nobody made: a date left that has arrived
    /// since. Every customer that still has PeeringDB-made links but is no
    /// longer eligible loses them now (actor `peeringdb-recheck`).
    pub async fn sweep_customers(&self) -> Result<Vec<String>, DbError> {
        self.db
            .run(|c| {
                let ids = peeringdb_links::customers_with_links(c)?;
                let day = today();
                let mut lines = Vec::new();
                for customer in crate::db::customers::by_ids(c, &ids)? {
                    let Err(why) = customer.facts().eligibility(day) else {
                        continue;
                    };
                    let done = crate::db::write_tx(c, |c| {
                        crate::admin::peeringdb_access::revoke_customer_links(
                            c,
                            crate::db::audit::ACTOR_RECHECK,
                            &customer,
                            crate::domain::Cause::Ineligible(why),
                        )
                    })
                    .map_err(|e| match e {
                        crate::admin::AdminError::Db(e) => DbError::Query(e),
                        _ => DbError::Task,
                    })?;
                    lines.extend(done);
                }
                Ok(lines)
            })
            .await
    }

    /// One batch under the lease, if this instance gets it and the batch
    /// is due (`every` seconds since the last one, across instances).
    /// `None` when another instance has it or it is not due.
    pub async fn batch_under_lease(
        &self,
        holder: &str,
        every: i64,
        select: Select,
    ) -> Result<Option<Report>, DbError> {
        let started = now();
        let h = holder.to_string();
        let got = self
            .db
            .run(move |c| {
                Ok::<_, DbError>(leases::try_acquire(
                    c,
                    LEASE,
                    &h,
                    Duration::seconds(LEASE_TTL_SECONDS),
                    Duration::seconds(every),
                )?)
            })
            .await?;
        if !got {
            return Ok(None);
        }
        let result = match (self.sweep_customers().await, self.select(select).await) {
            (Ok(swept), Ok(ids)) => self.run(&ids, Some(holder)).await.map(|mut r| {
                r.changes.splice(0..0, swept);
                r
            }),
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        if let Ok(report) = &result {
            crate::observability::metrics::recheck_batch(report);
        }
        let h = holder.to_string();
        // Released even when the batch failed, so that the next interval
        // retries rather than a lapsed lease a minute later.
        self.db
            .run(move |c| Ok::<_, DbError>(leases::finish(c, LEASE, &h, started)?))
            .await?;
        result.map(Some)
    }
}
