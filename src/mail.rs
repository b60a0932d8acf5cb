//! Outgoing mail: SMTP when `SMTP_URL` is set; otherwise each message is
//! written to `<data>/outbox/` (and announced in the log, without its body,
//! which may hold a reset link) so that a local install still works.
use lettre::message::Mailbox;
use lettre::{Message, SmtpTransport, Transport};
use std::path::PathBuf;

#[derive(Clone)]
pub struct Mailer {
    smtp: Option<SmtpTransport>,
    from: Mailbox,
    outbox: PathBuf,
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

    /// Sends a plain-text message. Blocking: call from a blocking thread.
    pub fn send(&self, to: &str, subject: &str, body: &str) -> anyhow::Result<()> {
        let to_box: Mailbox = to
            .parse()
            .map_err(|e| anyhow::anyhow!("cannot send mail to {to:?}: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to_box)
            .subject(subject)
            .body(body.to_string())?;
        match &self.smtp {
            Some(t) => {
                t.send(&message)?;
                tracing::info!(%to, %subject, "mail sent by SMTP");
            }
            None => {
                std::fs::create_dir_all(&self.outbox)?;
                let name = format!(
                    "{}-{}.eml",
                    chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f"),
                    &crate::auth::token::random_token()[..8]
                );
                let path = self.outbox.join(name);
                std::fs::write(&path, message.formatted())?;
                tracing::info!(%to, %subject, path = %path.display(), "SMTP_URL is unset: mail written to the outbox");
            }
        }
        Ok(())
    }
}
