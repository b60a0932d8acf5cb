//! Background work of `serve` (SPEC §5, §6.3): every instance runs the
//! loop, and the database lease lets one of them do each batch. A crashed
//! holder's lease lapses within a minute and another instance takes over.
use crate::peeringdb::recheck::{Rechecker, Select};

/// How often an instance looks whether a batch is due (at most).
const TICK_SECONDS: i64 = 30;

/// A name for this instance in the lease table (never a secret).
pub fn instance_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    format!(
        "{}:{}:{}",
        crate::web::log_safe(&host),
        std::process::id(),
        &crate::auth::token::random_token()[..8]
    )
}

/// Starts the re-check loop: one batch per `AUTH_PEERINGDB_RECHECK_INTERVAL`
/// across all instances, the first one at start-up when due.
/// Between batches it stops once `stop` turns true (SIGTERM, issue 14).
pub fn spawn_recheck(
    rechecker: Rechecker,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let holder = instance_name();
    let every = rechecker.links.recheck_interval;
    let tick = std::time::Duration::from_secs(every.clamp(1, TICK_SECONDS) as u64);
    tokio::spawn(async move {
        loop {
            match rechecker
                .batch_under_lease(&holder, every, Select::Due)
                .await
            {
                Ok(Some(report)) => {
                    if report.checked > 0 {
                        tracing::info!(
                            checked = report.checked,
                            refreshed = report.refreshed,
                            failed = report.failed,
                            tokens_refused = report.tokens_refused,
                            changes = report.changes.len(),
                            lease_lost = report.lease_lost,
                            "PeeringDB re-check done"
                        );
                    }
                    for line in &report.changes {
                        tracing::info!(change = %line, "PeeringDB re-check");
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "PeeringDB re-check could not run"),
            }
            if crate::observability::lifecycle::sleep_or_stop(&mut stop, tick).await {
                tracing::debug!("PeeringDB re-check loop stopped");
                break;
            }
        }
    })
}

/// How often expired rows are purged (across all instances).
pub const PURGE_EVERY_SECONDS: i64 = 600;

/// Starts the purge loop: expired sessions (SPEC §7) and, on SQLite, the
/// user search's index merged into one piece (`db::search_index`), under
/// its own lease.
/// Between batches it stops once `stop` turns true (SIGTERM, issue 14).
pub fn spawn_purge(
    db: crate::db::Db,
    session_max: i64,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let holder = instance_name();
    tokio::spawn(async move {
        loop {
            let h = holder.clone();
            let result = db
                .run(
                    move |c| -> Result<Option<(usize, usize)>, crate::db::DbError> {
                        let started = crate::db::models::now();
                        let ttl = chrono::Duration::seconds(60);
                        let every = chrono::Duration::seconds(PURGE_EVERY_SECONDS);
                        if !crate::db::leases::try_acquire(c, "purge", &h, ttl, every)? {
                            return Ok(None);
                        }
                        let n =
                            crate::db::sessions::purge(c, chrono::Duration::seconds(session_max))?;
                        // The user search's index in one piece again (SQLite).
                        let merged = crate::db::search_index::tidy(c)?;
                        crate::db::leases::finish(c, "purge", &h, started)?;
                        Ok(Some((n, merged)))
                    },
                )
                .await;
            match result {
                Ok(Some((n, merged))) if n > 0 || merged > 0 => {
                    tracing::info!(
                        sessions = n,
                        merge_steps = merged,
                        "purged expired sessions, merged the user search index"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purging expired rows failed"),
            }
            let tick = std::time::Duration::from_secs(TICK_SECONDS as u64);
            if crate::observability::lifecycle::sleep_or_stop(&mut stop, tick).await {
                tracing::debug!("purge loop stopped");
                break;
            }
        }
    })
}

/// When the user search's trigram counts are first read: after start-up,
/// not beside it (the read is a pass over the whole index, 0.2 s of a core
/// for 100,000 users). Searches before that ask for every trigram.
pub const TRIGRAM_COUNTS_AFTER_SECONDS: u64 = 3;

/// Starts the loop that keeps the user search's trigram counts (SQLite;
/// `db::search_index`): read first a few seconds after start-up, then
/// again whenever older than `search_index::COUNTS_MAX_AGE`. Every
/// instance keeps its own, so no lease. Nothing to do on PostgreSQL.
pub fn spawn_trigram_counts(
    db: crate::db::Db,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if !matches!(db.url(), crate::db::DatabaseUrl::Sqlite(_)) {
            return;
        }
        let first = std::time::Duration::from_secs(TRIGRAM_COUNTS_AFTER_SECONDS);
        let tick = std::time::Duration::from_secs(TICK_SECONDS as u64);
        let mut wait = first;
        while !crate::observability::lifecycle::sleep_or_stop(&mut stop, wait).await {
            wait = tick;
            if !db.trigrams().stale() {
                continue;
            }
            let read = db.run(|c| -> Result<_, crate::db::DbError> {
                Ok(crate::db::search_index::read_counts(c)?)
            });
            match read.await {
                Ok(Some(counts)) => {
                    tracing::debug!(?counts, "read the user search's trigram counts");
                    db.trigrams().set(counts);
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "reading the user search's trigram counts failed")
                }
            }
        }
    })
}

/// How often the mail queue is looked at (SPEC §8).
pub const MAIL_EVERY_SECONDS: u64 = 5;

/// Starts the mail loop: under its own lease, one instance sends the due
/// mails (each claimed in the database, so none goes out twice) and drops
/// the expired counts of the mail limits. Stops between batches once `stop`
/// turns true.
pub fn spawn_mail(
    db: crate::db::Db,
    mailer: crate::mail::Mailer,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let holder = instance_name();
    tokio::spawn(async move {
        loop {
            let h = holder.clone();
            let leased = db
                .run(move |c| -> Result<bool, crate::db::DbError> {
                    let ttl = chrono::Duration::seconds(60);
                    let every = chrono::Duration::seconds(0);
                    Ok(crate::db::leases::try_acquire(c, "mail", &h, ttl, every)?)
                })
                .await;
            match leased {
                Ok(true) => {
                    let started = crate::db::models::now();
                    match crate::mail::deliver_due(&db, &mailer, started).await {
                        Ok(d) if d != crate::mail::Delivery::default() => tracing::info!(
                            sent = d.sent,
                            retrying = d.retrying,
                            failed = d.failed,
                            "mail queue worked"
                        ),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "sending the mail queue failed"),
                    }
                    let h = holder.clone();
                    let finished = db
                        .run(move |c| -> Result<(), crate::db::DbError> {
                            crate::db::mail_limits::purge(c, started)?;
                            crate::db::leases::finish(c, "mail", &h, started)?;
                            Ok(())
                        })
                        .await;
                    if let Err(e) = finished {
                        tracing::warn!(error = %e, "finishing the mail batch failed");
                    }
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "the mail queue could not run"),
            }
            let tick = std::time::Duration::from_secs(MAIL_EVERY_SECONDS);
            if crate::observability::lifecycle::sleep_or_stop(&mut stop, tick).await {
                tracing::debug!("mail loop stopped");
                break;
            }
        }
    })
}

/// Every [`crate::allocator::TRIM_EVERY`] until `stop`: moves the metrics'
/// histogram samples into their buckets (`observability::metrics::upkeep`,
/// which frees them), then gives glibc's free memory back to the system
/// (`allocator::give_back_free_memory`), on a blocking thread (the walk
/// takes the arenas' locks).
pub fn spawn_memory_upkeep(
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if crate::observability::lifecycle::sleep_or_stop(
                &mut stop,
                crate::allocator::TRIM_EVERY,
            )
            .await
            {
                break;
            }
            crate::observability::metrics::upkeep();
            let trimmed =
                tokio::task::spawn_blocking(crate::allocator::give_back_free_memory).await;
            if trimmed.is_err() {
                break;
            }
        }
    })
}
