//! Outgoing mail (SPEC §8). A request only queues its mail, in its own
//! transaction (`enqueue`); the background task sends the queue
//! (`deliver_due`): by SMTP when `SMTP_URL` is set, otherwise into
//! `<data>/outbox/` (files 0600, directory 0700) so that a local install
//! still works. No request waits on SMTP. Bodies hold live reset and
//! invitation links: they are never logged.
use crate::db::{Db, DbConnection, DbError, mail_queue};
use chrono::{Duration, NaiveDateTime};
use lettre::message::Mailbox;
use lettre::{Message, SmtpTransport, Transport};
use std::path::PathBuf;

/// Attempts before a mail is given up and kept as failed.
pub const MAX_ATTEMPTS: i32 = 8;
/// Mails sent per batch.
pub const BATCH: i64 = 20;
/// How long a claimed mail is not due again (longer than any attempt).
const CLAIM_SECONDS: i64 = 600;

#[derive(Clone)]
pub struct Mailer {
    smtp: Option<SmtpTransport>,
    from: Mailbox,
    outbox: PathBuf,
}

/// Why an attempt failed, and whether trying again may help.
#[derive(Debug)]
pub struct SendError {
    pub permanent: bool,
    pub message: String,
}

impl Mailer {
    pub fn new(
        smtp_url: Option<&str>,
        from: &str,
        data_dir: &std::path::Path,
    ) -> anyhow::Result<Mailer> {
        let smtp = match smtp_url {
            Some(u) => Some(
                SmtpTransport::from_url(u)
                    .map_err(|e| anyhow::anyhow!("configuration: SMTP_URL is not usable: {e}"))?
                    .timeout(Some(std::time::Duration::from_secs(15)))
                    .build(),
            ),
            None => None,
        };
        let from = from.parse().map_err(|e| {
            anyhow::anyhow!("configuration: MAIL_FROM is not an address ({e}): {from:?}")
        })?;
        Ok(Mailer {
            smtp,
            from,
            outbox: data_dir.join("outbox"),
        })
    }

    pub fn outbox(&self) -> &std::path::Path {
        &self.outbox
    }

    /// Sends one plain-text message now. Blocking: the background task
    /// calls it on a blocking thread, holding no database connection.
    pub fn deliver(&self, to: &str, subject: &str, body: &str) -> Result<(), SendError> {
        let permanent = |message: String| SendError {
            permanent: true,
            message,
        };
        let transient = |message: String| SendError {
            permanent: false,
            message,
        };
        let to_box: Mailbox = to
            .parse()
            .map_err(|e| permanent(format!("not a usable address: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to_box)
            .subject(subject)
            .body(body.to_string())
            .map_err(|e| permanent(format!("cannot build the message: {e}")))?;
        match &self.smtp {
            Some(t) => t.send(&message).map(|_| ()).map_err(|e| SendError {
                permanent: e.is_permanent(),
                message: format!("SMTP: {e}"),
            }),
            None => {
                crate::files::create_private_dir(&self.outbox)
                    .map_err(|e| transient(format!("outbox: {e}")))?;
                let name = format!(
                    "{}-{}.eml",
                    chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f"),
                    &crate::auth::token::random_token()[..8]
                );
                crate::files::write_private(&self.outbox.join(name), &message.formatted())
                    .map_err(|e| transient(format!("outbox: {e}")))
            }
        }
    }

    fn transport_name(&self) -> &'static str {
        if self.smtp.is_some() {
            "SMTP"
        } else {
            "outbox"
        }
    }
}

/// Queues a mail in the caller's transaction; the background task sends it.
pub fn enqueue(
    c: &mut DbConnection,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<(), diesel::result::Error> {
    let id = mail_queue::insert(c, to, subject, body, crate::db::models::now())?;
    tracing::info!(
        mail = id,
        to = %crate::web::log_safe(to),
        subject = %crate::web::log_safe(subject),
        "mail queued"
    );
    Ok(())
}

/// The wait before the next attempt after `attempts` failed ones:
/// 1, 2, 4, … minutes, at most an hour.
pub fn backoff(attempts: i32) -> Duration {
    let minutes = 1i64 << attempts.clamp(1, 7).saturating_sub(1);
    Duration::minutes(minutes.min(60))
}

/// What one batch did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// Sends the mails due at `now` (one batch). The connection is held only
/// to claim the batch and to record each result, never while sending.
pub async fn deliver_due(
    db: &Db,
    mailer: &Mailer,
    now: NaiveDateTime,
) -> Result<Delivery, DbError> {
    let batch = db
        .run(move |c| {
            mail_queue::claim_due(c, now, BATCH, Duration::seconds(CLAIM_SECONDS))
                .map_err(DbError::from)
        })
        .await?;
    let mut done = Delivery::default();
    for mail in batch {
        let m = mailer.clone();
        let (to, subject, body) = (mail.recipient.clone(), mail.subject.clone(), mail.body);
        let result = tokio::task::spawn_blocking(move || m.deliver(&to, &subject, &body))
            .await
            .unwrap_or_else(|_| {
                Err(SendError {
                    permanent: false,
                    message: "the sending thread stopped".into(),
                })
            });
        let (id, attempts) = (mail.id, mail.attempts);
        let to = crate::web::log_safe(&mail.recipient);
        let via = mailer.transport_name();
        match result {
            Ok(()) => {
                db.run(move |c| mail_queue::delete(c, id).map_err(DbError::from))
                    .await?;
                tracing::info!(mail = id, %to, via, attempts, "mail sent");
                done.sent += 1;
            }
            Err(e) if e.permanent || attempts >= MAX_ATTEMPTS => {
                let error = crate::web::log_safe(&e.message);
                let stored = error.clone();
                db.run(move |c| {
                    mail_queue::mark_failed(c, id, now, &stored).map_err(DbError::from)
                })
                .await?;
                tracing::error!(mail = id, %to, via, attempts, %error, "mail failed for good; kept as failed");
                done.failed += 1;
            }
            Err(e) => {
                let error = crate::web::log_safe(&e.message);
                let stored = error.clone();
                let next = now + backoff(attempts);
                db.run(move |c| mail_queue::retry_at(c, id, next, &stored).map_err(DbError::from))
                    .await?;
                tracing::warn!(mail = id, %to, via, attempts, %error, "mail not sent; will retry");
                done.retrying += 1;
            }
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(1), Duration::minutes(1));
        assert_eq!(backoff(2), Duration::minutes(2));
        assert_eq!(backoff(4), Duration::minutes(8));
        assert_eq!(backoff(7), Duration::minutes(60));
        assert_eq!(backoff(100), Duration::minutes(60));
    }
}
