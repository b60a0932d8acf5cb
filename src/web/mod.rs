//! The web application: state, middleware and routes.
pub mod blocks;
pub mod csv;
pub mod ctx;
pub mod device;
pub mod error;
pub mod form;
pub mod guard;
pub mod pages;
pub mod preload;
pub mod proxy;
pub mod routes;
pub mod session;
pub mod session_store;
pub mod sort;
pub mod words;

use crate::config::Config;
use crate::db::Db;
use crate::mail::Mailer;
use actix_session::SessionMiddleware;
use actix_session::config::{CookieContentSecurity, PersistentSession, TtlExtensionPolicy};
use actix_web::cookie::{Key, SameSite};
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpServer, web};
use session_store::DbSessionStore;
use std::net::{SocketAddr, TcpListener};

/// What every handler can reach.
pub struct App {
    pub config: Config,
    pub db: Db,
    pub mailer: Mailer,
    pub peeringdb: Option<crate::peeringdb::client::PeeringDbClient>,
    /// Encrypts refresh tokens at rest.
    pub secrets: crate::auth::secret_box::SecretBox,
    /// Draining and the stop of the background loops (issue 14).
    pub lifecycle: crate::observability::Lifecycle,
}

impl App {
    pub fn peeringdb_enabled(&self) -> bool {
        self.config.peeringdb.is_some()
    }

    /// What the re-check of SPEC §6.3 works with.
    pub fn rechecker(&self) -> crate::peeringdb::recheck::Rechecker {
        crate::peeringdb::recheck::Rechecker {
            db: self.db.clone(),
            client: self.peeringdb.clone(),
            secrets: self.secrets.clone(),
            links: self.config.links,
            privilege: self
                .config
                .peeringdb
                .as_ref()
                .map_or(crate::domain::Privilege::CustUser, |p| p.privilege),
        }
    }
}

/// A server that is listening; `server` must be awaited (or spawned) to run.
pub struct Running {
    pub addr: SocketAddr,
    pub server: actix_web::dev::Server,
}

/// The key that signs and encrypts session cookies: `SESSION_KEY`, or a key
/// generated once into the data directory, so a restart logs nobody out.
pub fn session_key(config: &Config) -> anyhow::Result<Key> {
    let material = key_material(config)?;
    Ok(match &config.session_key {
        Some(_) => Key::derive_from(&material),
        None => Key::from(&material),
    })
}

/// The key of secrets at rest: `PORTAL_SECRET_KEY`, else derived from the
/// session key material.
pub fn secret_box(config: &Config) -> anyhow::Result<crate::auth::secret_box::SecretBox> {
    Ok(match &config.secret_key {
        Some(k) => crate::auth::secret_box::SecretBox::new(k),
        None => crate::auth::secret_box::SecretBox::new(&key_material(config)?),
    })
}

/// `SESSION_KEY`, or the 64 bytes generated once into the data directory.
fn key_material(config: &Config) -> anyhow::Result<Vec<u8>> {
    if let Some(k) = &config.session_key {
        return Ok(k.clone());
    }
    let path = config.data_dir.join("session.key");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let bytes = hex::decode(text.trim())
            .ok()
            .filter(|b| b.len() == 64)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{} is damaged: delete it to make a new key (everyone will be signed out)",
                    path.display()
                )
            })?;
        return Ok(bytes);
    }
    crate::files::create_private_dir(&config.data_dir)?;
    let bytes = crate::auth::token::random_bytes(64);
    crate::files::write_private(&path, hex::encode(&bytes).as_bytes())?;
    tracing::info!(path = %path.display(), "generated a new session key");
    Ok(bytes)
}

/// The security headers of every response.
fn security_headers(https: bool) -> DefaultHeaders {
    let mut h = DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .add(("X-Frame-Options", "DENY"))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "same-origin"))
        // Pages of signed-in users and API answers are never cached (SPEC
        // §8); a response that may be cached says so itself (the
        // stylesheet, the public IX-F export).
        .add(("Cache-Control", "no-store"));
    if https {
        h = h.add((
            "Strict-Transport-Security",
            "max-age=31536000; includeSubDomains",
        ));
    }
    h
}

/// One log line per request: method, path (never the query, which may hold
/// OAuth codes; reset tokens in paths are cut off), status and duration.
fn log_request<S>(
    req: actix_web::dev::ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<actix_web::dev::ServiceResponse, actix_web::Error>> + use<S>
where
    S: actix_web::dev::Service<
            actix_web::dev::ServiceRequest,
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
        >,
{
    let method = req.method().clone();
    let path = redact_path(req.path());
    let started = std::time::Instant::now();
    let fut = srv.call(req);
    async move {
        let res = fut.await?;
        tracing::info!(
            %method,
            %path,
            status = res.status().as_u16(),
            micros = started.elapsed().as_micros() as u64,
            "request"
        );
        Ok(res)
    }
}

/// A value from outside fit for a log line: control characters escaped
/// (no forged lines, no terminal escapes), at most 200 characters.
pub fn log_safe(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == 200 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A path fit for the log: secrets carried in the path are cut off.
pub fn redact_path(path: &str) -> String {
    for secret_after in ["/password/reset/", "/invitations/"] {
        if path.starts_with(secret_after) {
            return format!("{secret_after}…");
        }
    }
    path.to_string()
}

/// Binds the configured address (port 0 picks a free one) and builds the server.
pub fn start(app: App) -> anyhow::Result<Running> {
    let listener = TcpListener::bind(app.config.bind)
        .map_err(|e| anyhow::anyhow!("cannot listen on {} (PORTAL_BIND): {e}", app.config.bind))?;
    start_on(app, listener)
}

/// Serves on a listener bound already (tests bind port 0 first, to know
/// the `APP_URL` before the application is built).
pub fn start_on(app: App, listener: TcpListener) -> anyhow::Result<Running> {
    let addr = listener.local_addr()?;
    let key = session_key(&app.config)?;
    let https = app.config.https();
    // Database work runs on blocking threads, and each worker has a pool
    // of its own: more threads in all than pooled connections only wait
    // (on the pool, then on the CPU), and every idle thread keeps memory.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let blocking = (app.db.max_size() as usize).div_ceil(workers).max(1);
    let idle = app.config.sessions.idle;
    let store_db = app.db.clone();
    let signals_managed = app.lifecycle.signals_managed();
    crate::observability::metrics::install();
    let data = web::Data::new(app);
    let server = HttpServer::new(move || {
        let sessions =
            SessionMiddleware::builder(DbSessionStore::new(store_db.clone()), key.clone())
                .cookie_name("ixp_portal".into())
                .cookie_secure(https)
                .cookie_http_only(true)
                .cookie_same_site(SameSite::Lax)
                .cookie_content_security(CookieContentSecurity::Private)
                .session_lifecycle(
                    PersistentSession::default()
                        .session_ttl(actix_web::cookie::time::Duration::seconds(idle))
                        .session_ttl_extension_policy(TtlExtensionPolicy::OnStateChanges),
                )
                .build();
        actix_web::App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(form::MAX_FORM_BYTES))
            .app_data(web::FormConfig::default().limit(form::MAX_FORM_BYTES))
            // Inside the session: error pages keep the signed-in layout.
            .wrap(actix_web::middleware::from_fn(error::in_layout))
            .wrap(sessions)
            // The slot where the session's hop leaves the signed-in user.
            .wrap_fn(preload::middleware)
            .wrap(security_headers(https))
            .wrap_fn(log_request)
            // Outermost: the request id's span covers every line above.
            .wrap_fn(crate::observability::http::observe)
            .configure(routes::configure)
            .default_service(web::to(routes::not_found))
    })
    .workers(workers)
    .worker_max_blocking_threads(blocking)
    .listen(listener)?
    // Requests in flight get this long after a stop (issue 14).
    .shutdown_timeout(crate::observability::lifecycle::SHUTDOWN_TIMEOUT_SECONDS);
    // `serve` stops the server itself after draining (SIGTERM).
    let server = if signals_managed {
        server.disable_signals()
    } else {
        server
    };
    let server = server.run();
    Ok(Running { addr, server })
}
