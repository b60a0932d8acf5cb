//! Building the application from its configuration.
use crate::config::Config;
use crate::db::{Db, users};
use crate::mail::Mailer;
use crate::web::App;

/// Opens and migrates the database, and prepares mail and PeeringDB.
pub async fn build_app(config: Config) -> anyhow::Result<App> {
    let db = Db::open(&config.database)?;
    let ran = db.migrate()?;
    tracing::info!(
        backend = config.database.backend_name(),
        database = %crate::db::redact(&config.database),
        migrations = ran,
        "database ready"
    );
    let has_superuser = db
        .run(|c| users::any_superuser(c).map_err(crate::db::DbError::from))
        .await?;
    if !has_superuser {
        tracing::warn!(
            "there is no superuser yet: create the first IXP staff account with \
             `ixp-portal user create --superuser --username USERNAME --email EMAIL --name \"FULL NAME\"` \
             (a password is generated and printed once)"
        );
    }
    build_app_with(config, db)
}

/// The application over an open database (tests share one this way).
pub fn build_app_with(config: Config, db: Db) -> anyhow::Result<App> {
    // The dummy hash of SPEC §8's equal-cost check, made before any request.
    crate::auth::password::warm_up();
    let mailer = Mailer::new(
        config.smtp_url.as_deref(),
        &config.mail_from,
        &config.data_dir,
    )?;
    let peeringdb = match &config.peeringdb {
        Some(p) => Some(crate::peeringdb::client::PeeringDbClient::new(p)?),
        None => None,
    };
    let secrets = crate::web::secret_box(&config)?;
    Ok(App {
        config,
        db,
        mailer,
        peeringdb,
        secrets,
        lifecycle: crate::observability::Lifecycle::default(),
    })
}

/// Starts the background work of `serve` (SPEC §5), each loop under a
/// database lease: the PeeringDB re-check, the purge of expired sessions
/// and the mail queue.
/// Each stops between batches once the app's lifecycle says so (issue 14).
pub fn start_background(app: &App) -> Vec<tokio::task::JoinHandle<()>> {
    vec![
        crate::background::spawn_recheck(app.rechecker(), app.lifecycle.stopping()),
        crate::background::spawn_purge(
            app.db.clone(),
            app.config.sessions.max,
            app.lifecycle.stopping(),
        ),
        crate::background::spawn_mail(app.db.clone(), app.mailer.clone(), app.lifecycle.stopping()),
    ]
}
