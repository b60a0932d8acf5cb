//! The test harness: the real application on port 0, a fresh database per
//! test (an SQLite file, or a new PostgreSQL database dropped afterwards),
//! the PeeringDB simulator in-process, and a cookie-keeping HTTP client.
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use ixp_portal::config::Config;
use ixp_portal::db::{Db, DbConnection};
use ixp_portal::peeringdb::simulator::{SimConfig, Simulator};
use reqwest::{Client, Response, StatusCode, redirect};
use serde_json::Value;
use std::collections::HashMap;
use std::net::TcpListener;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a scenario on SQLite and on PostgreSQL, as two tests.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        $(mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::common::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(
                not(portal_test_postgres),
                ignore = "PORTAL_TEST_POSTGRES_URL was unset when the tests were built"
            )]
            async fn postgres() {
                super::$name($crate::common::Backend::Postgres).await
            }
        })+
    };
}

pub const CLIENT_ID: &str = "test-client";
/// The `SESSION_KEY` of test applications on PostgreSQL (shared by the
/// instances of the two-instance tests).
pub const TEST_SESSION_KEY: &str =
    "test-session-key-shared-by-every-instance-on-one-postgresql-database-0123456789";
pub const CLIENT_SECRET: &str = "test-secret";

/// Extra settings for a test application.
#[derive(Default, Clone)]
pub struct Opts {
    pub vars: Vec<(&'static str, String)>,
    pub profiles: Vec<Value>,
    /// A shorter provider timeout, for the timeout tests.
    pub provider_timeout: Option<std::time::Duration>,
    /// Share the database of another test application (SPEC §5).
    pub database_url: Option<String>,
    /// Start the background work of `serve` (the PeeringDB re-check).
    pub background: bool,
    /// Share the PeeringDB simulator of another test application.
    pub sim: Option<(Simulator, String)>,
}

/// A PostgreSQL database made for one test and dropped with it.
pub struct PgDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut c) = PgConnection::establish(&self.admin_url) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// A fresh PostgreSQL database, or `None` (with a notice) when
/// `PORTAL_TEST_POSTGRES_URL` is unset.
pub fn fresh_postgres() -> Option<PgDatabase> {
    let Ok(admin_url) = std::env::var("PORTAL_TEST_POSTGRES_URL") else {
        eprintln!(
            "skipped: PORTAL_TEST_POSTGRES_URL is unset, so the PostgreSQL variant of this test did not run"
        );
        return None;
    };
    let token = ixp_portal::auth::token::random_token()
        .to_lowercase()
        .replace(['-', '_'], "");
    let name = format!("ixp_test_{}", &token[..16]);
    let mut c = PgConnection::establish(&admin_url)
        .unwrap_or_else(|e| panic!("PORTAL_TEST_POSTGRES_URL is set but unusable: {e}"));
    c.batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create test database");
    let mut url = url::Url::parse(&admin_url).expect("PORTAL_TEST_POSTGRES_URL is a URL");
    url.set_path(&format!("/{name}"));
    Some(PgDatabase {
        admin_url,
        name,
        url: url.to_string(),
    })
}

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub db: Db,
    pub sim: Simulator,
    pub sim_base: String,
    pub dir: tempfile::TempDir,
    pub database_url: String,
    /// The re-check of SPEC §6.3 as `serve` runs it.
    pub rechecker: ixp_portal::peeringdb::recheck::Rechecker,
    /// The mailer the background task sends the queue with.
    pub mailer: ixp_portal::mail::Mailer,
    _pg: Option<PgDatabase>,
}

pub fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .build()
        .expect("http client")
}

pub async fn spawn(backend: Backend) -> Option<TestApp> {
    spawn_with(backend, Opts::default()).await
}

pub async fn spawn_with(backend: Backend, opts: Opts) -> Option<TestApp> {
    let dir = tempfile::tempdir().expect("temp dir");
    let pg = match (backend, &opts.database_url) {
        (_, Some(_)) | (Backend::Sqlite, None) => None,
        (Backend::Postgres, None) => Some(fresh_postgres()?),
    };
    let database_url = match (&opts.database_url, &pg) {
        (Some(shared), _) => shared.clone(),
        (None, Some(p)) => p.url.clone(),
        (None, None) => format!("sqlite:{}", dir.path().join("portal.sqlite").display()),
    };
    let (sim, sim_base) = match opts.sim.clone() {
        Some(shared) => shared,
        None => {
            let sim = Simulator::new(
                SimConfig {
                    client_id: CLIENT_ID.into(),
                    client_secret: CLIENT_SECRET.into(),
                    redirect_uris: vec![],
                },
                opts.profiles.clone(),
            );
            let sim_running = sim
                .start("127.0.0.1:0".parse().unwrap())
                .expect("simulator starts");
            let sim_base = format!("http://{}", sim_running.addr);
            tokio::spawn(sim_running.server);
            (sim, sim_base)
        }
    };

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let mut vars: HashMap<&str, String> = HashMap::from([
        ("APP_URL", base.clone()),
        ("PORTAL_BIND", addr.to_string()),
        ("DATABASE_URL", database_url.clone()),
        ("PORTAL_DATA_DIR", dir.path().display().to_string()),
        ("AUTH_PEERINGDB_ENABLED", "true".into()),
        ("PEERINGDB_OAUTH_CLIENT_ID", CLIENT_ID.into()),
        ("PEERINGDB_OAUTH_CLIENT_SECRET", CLIENT_SECRET.into()),
        ("PEERINGDB_OAUTH_BASE_URL", sim_base.clone()),
    ]);
    if database_url.starts_with("postgres") {
        // PostgreSQL means instances that share sessions: one key for all
        // (`serve` refuses to start without it, SPEC §5).
        vars.insert("SESSION_KEY", TEST_SESSION_KEY.into());
    }
    for (k, v) in &opts.vars {
        vars.insert(k, v.clone());
    }
    let config =
        Config::from_lookup(|k| vars.get(k).cloned()).expect("test configuration is valid");
    // The start-up of `serve`: migrations, the first-superuser hint.
    let mut app = ixp_portal::startup::build_app(config.clone())
        .await
        .expect("app builds");
    let db = app.db.clone();
    if let (Some(t), Some(p)) = (opts.provider_timeout, config.peeringdb.as_ref()) {
        app.peeringdb =
            Some(ixp_portal::peeringdb::client::PeeringDbClient::with_timeout(p, t).unwrap());
    }
    let rechecker = app.rechecker();
    let mailer = app.mailer.clone();
    if opts.background {
        ixp_portal::startup::start_background(&app);
    }
    let running = ixp_portal::web::start_on(app, listener).expect("server starts");
    tokio::spawn(running.server);
    Some(TestApp {
        base,
        client: client(),
        db,
        sim,
        sim_base,
        dir,
        database_url,
        rechecker,
        mailer,
        _pg: pg,
    })
}

/// The value of the first `name="csrf"` field of a page.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html
        .find(marker)
        .map(|i| i + marker.len())
        .expect("page has a CSRF field");
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

pub fn location(resp: &Response) -> String {
    resp.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn conn(&self) -> ixp_portal::db::PooledConn {
        self.db.conn().expect("db connection")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_text(&self, path: &str) -> (StatusCode, String) {
        let r = self.get(path).await;
        let s = r.status();
        (s, r.text().await.unwrap_or_default())
    }

    /// A CSRF token of this client's session (from a page it can see).
    pub async fn csrf(&self) -> String {
        let (_, body) = self.get_text("/password/forgot").await;
        csrf_of(&body)
    }

    /// POSTs a form with this session's CSRF token added.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Response {
        let token = self.csrf().await;
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        fields.push(("csrf", &token));
        self.client
            .post(self.url(path))
            .form(&fields)
            .send()
            .await
            .expect("POST")
    }

    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.post("/login", &[("username", username), ("password", password)])
            .await
    }

    /// Adds a plain user row (made by "cli", no password that works) with
    /// this name and email; returns its id.
    pub fn insert_person(&self, username: &str, name: &str, email: &str) -> i64 {
        let t = ixp_portal::db::models::now();
        ixp_portal::db::users::insert(
            &mut self.conn(),
            &ixp_portal::db::models::NewUser {
                username,
                name,
                email,
                password_hash: "x",
                peeringdb_id: None,
                creator: "cli",
                disabled: false,
                superuser: false,
                current_customer_id: None,
                session_epoch: 0,
                created_at: t,
                updated_at: t,
            },
        )
        .unwrap()
    }

    /// Creates a user directly (password set), optionally superuser.
    pub fn create_user(&self, username: &str, password: &str, superuser: bool) -> i64 {
        use ixp_portal::admin::{NewStaffUser, create_user};
        use ixp_portal::domain::{Email, Username};
        let hash = ixp_portal::auth::password::hash(password).unwrap();
        let mut c = self.conn();
        create_user(
            &mut c,
            "test",
            &NewStaffUser {
                username: Username::parse(username).unwrap(),
                email: Email::parse(&format!("{username}@example.net")).unwrap(),
                name: format!("{username} name"),
                superuser,
            },
            &hash,
        )
        .unwrap()
    }

    /// Runs the PeeringDB flow as the simulator's profile `index`; returns
    /// the portal's answer to the callback.
    pub async fn peeringdb_login(&self, index: usize) -> Response {
        let start = self.get("/auth/login/peeringdb").await;
        assert_eq!(
            start.status(),
            StatusCode::SEE_OTHER,
            "the flow starts with a redirect"
        );
        let authorize = location(&start);
        assert!(
            authorize.starts_with(&self.sim_base),
            "redirects to the provider: {authorize}"
        );
        let callback = self
            .provider_answer(&format!("{authorize}&user={index}"))
            .await;
        self.client.get(callback).send().await.expect("callback")
    }

    /// What the provider redirects the browser to.
    pub async fn provider_answer(&self, authorize: &str) -> String {
        let r = client().get(authorize).send().await.expect("authorize");
        assert_eq!(
            r.status(),
            StatusCode::FOUND,
            "the simulator answers with a redirect"
        );
        location(&r)
    }

    /// The flash messages on the next page.
    pub async fn page_after(&self, resp: Response) -> String {
        let to = location(&resp);
        let path = to.strip_prefix(&self.base).unwrap_or(&to).to_string();
        self.get_text(&path).await.1
    }

    /// Sends the queued mail now, as the background task does.
    pub async fn deliver_mail(&self) -> ixp_portal::mail::Delivery {
        ixp_portal::mail::deliver_due(&self.db, &self.mailer, ixp_portal::db::models::now())
            .await
            .expect("the mail queue is sent")
    }

    /// The outbox's messages, oldest first, once the queue is sent.
    pub fn outbox(&self) -> Vec<String> {
        tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(self.deliver_mail())
        });
        let dir = self.dir.path().join("outbox");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap_or_default())
            .collect()
    }

    pub fn with_conn<T>(&self, f: impl FnOnce(&mut DbConnection) -> T) -> T {
        let mut c = self.conn();
        f(&mut c)
    }
}

/// A PeeringDB profile as PeeringDB sends it.
pub fn profile(id: i64, name: &str, asns: &[i64]) -> Value {
    serde_json::json!({
        "id": id, "name": name, "given_name": name, "family_name": "",
        "email": format!("{}@example.org", name.to_lowercase().replace(' ', ".")),
        "verified_user": true, "verified_email": true,
        "networks": asns.iter().enumerate().map(|(i, a)| serde_json::json!({"id": i + 1, "asn": a, "name": format!("Net {a}"), "perms": 15})).collect::<Vec<_>>(),
    })
}
