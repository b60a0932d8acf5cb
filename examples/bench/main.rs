//! The benchmark: seeds a database (10,000 customers, 100,000 users), starts
//! the release binary and the PeeringDB simulator as separate processes, loads
//! them from this process over loopback and prints one table.
//!
//!     bench/run.sh            (SQLite, then PostgreSQL when BENCH_POSTGRES_URL is set)
//!     cargo run --release --example bench -- --help
mod loadgen_http;
mod people;

use diesel::prelude::*;
use ixp_portal::db::models::{NewUser, now};
use ixp_portal::db::schema::{affiliations, customers, users};
use ixp_portal::db::{DatabaseUrl, Db};
use ixp_portal::domain::{Asn, CreatedBy, CustomerStatus, CustomerType, Privilege};
use loadgen_http::Conn;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

struct Args {
    postgres: Option<String>,
    users: usize,
    customers: usize,
    seconds: u64,
    soak_seconds: u64,
    identities: usize,
    /// Leave the PostgreSQL database for a look at query plans.
    keep_db: bool,
}

/// `--rows a,b`: only the rows whose name contains one of these (the
/// ceiling always runs), to measure or profile one step at a time.
static ROWS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

fn row_wanted(name: &str) -> bool {
    name.starts_with("ceiling")
        || ROWS
            .get()
            .is_none_or(|want| want.iter().any(|w| name.contains(w.as_str())))
}

fn parse_args() -> Args {
    let mut a = Args {
        postgres: None,
        users: 100_000,
        customers: 10_000,
        seconds: 10,
        soak_seconds: 120,
        identities: 2_000,
        keep_db: false,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let v = argv.get(i + 1).cloned().unwrap_or_default();
        if argv[i] == "--keep-db" {
            a.keep_db = true;
            i += 1;
            continue;
        }
        match argv[i].as_str() {
            "--postgres" => a.postgres = Some(v),
            "--users" => a.users = v.parse().expect("--users N"),
            "--customers" => a.customers = v.parse().expect("--customers N"),
            "--seconds" => a.seconds = v.parse().expect("--seconds N"),
            "--soak-seconds" => a.soak_seconds = v.parse().expect("--soak-seconds N"),
            "--identities" => a.identities = v.parse().expect("--identities N"),
            "--rows" => {
                let _ = ROWS.set(v.split(',').map(str::to_string).collect());
            }
            _ => {
                eprintln!(
                    "usage: bench [--postgres URL] [--keep-db] [--rows NAME,…] [--users N] [--customers N] [--seconds N] [--soak-seconds N] [--identities N]"
                );
                std::process::exit(2);
            }
        }
        i += 2;
    }
    a
}

const PASSWORD: &str = "benchmark password";

fn asn_of(customer: usize) -> i64 {
    // Customers come in pairs sharing an ASN, like real IXPs' multi-entity members.
    100_000 + (customer / 2) as i64
}

/// Seeds customers, users with one link each, a superuser, and PeeringDB identities.
fn seed(db: &Db, a: &Args) -> anyhow::Result<()> {
    let mut c = db.conn()?;
    let t = now();
    for chunk in (0..a.customers).collect::<Vec<_>>().chunks(1000) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|i| {
                (
                    customers::name.eq(format!("Member Network {i:05}")),
                    customers::shortname.eq(format!("member{i:05}")),
                    customers::autsys.eq(Asn::new(asn_of(*i)).expect("valid")),
                    // Odd customers include ineligible ones (skipped with a
                    // reason at each login); even ones, which the identities
                    // point at, are all eligible.
                    customers::cust_type.eq(if i % 14 == 3 {
                        CustomerType::Associate
                    } else {
                        CustomerType::Full
                    }),
                    customers::status.eq(CustomerStatus::Normal),
                    customers::peeringdb_oauth.eq(i % 22 != 5),
                    customers::created_at.eq(t),
                    customers::updated_at.eq(t),
                )
            })
            .collect();
        ixp_portal::on_backend!(&mut *c, |conn| diesel::insert_into(customers::table)
            .values(rows)
            .execute(conn))?;
    }
    let hash = ixp_portal::auth::password::hash(PASSWORD).map_err(anyhow::Error::msg)?;
    let names: Vec<people::Person> = (0..a.users).map(people::person).collect();
    for chunk in names.chunks(1000) {
        let rows: Vec<NewUser> = chunk
            .iter()
            .map(|p| NewUser {
                username: &p.username,
                name: &p.name,
                email: &p.email,
                password_hash: &hash,
                peeringdb_id: None,
                creator: if p.username.ends_with('7') {
                    "OAuth-PeeringDB"
                } else {
                    "cli"
                },
                disabled: false,
                superuser: false,
                current_customer_id: None,
                session_epoch: 0,
                created_at: t,
                updated_at: t,
            })
            .collect();
        ixp_portal::on_backend!(&mut *c, |conn| diesel::insert_into(users::table)
            .values(rows)
            .execute(conn))?;
    }
    let ids: Vec<i64> = users::table
        .select(users::id)
        .order(users::id)
        .load(&mut *c)?;
    for chunk in ids.chunks(1000) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|uid| {
                (
                    affiliations::user_id.eq(uid),
                    affiliations::customer_id.eq(1 + (uid % a.customers as i64)),
                    affiliations::privilege.eq(Privilege::CustUser),
                    affiliations::created_by.eq(CreatedBy::Cli),
                    affiliations::created_at.eq(t),
                    affiliations::updated_at.eq(t),
                )
            })
            .collect();
        ixp_portal::on_backend!(&mut *c, |conn| diesel::insert_into(affiliations::table)
            .values(rows)
            .execute(conn))?;
    }
    let staff = ixp_portal::admin::NewStaffUser {
        username: ixp_portal::domain::Username::parse("bench")?,
        email: ixp_portal::domain::Email::parse("bench@ixp.example")?,
        name: "Bench Staff".into(),
        superuser: true,
    };
    ixp_portal::admin::create_user(&mut c, "bench", &staff, &hash)?;
    if let Some(Ok(mut s)) = matches!(db.url(), DatabaseUrl::Postgres(_)).then(|| db.conn()) {
        // As autovacuum leaves a table in service: statistics and the
        // visibility map current.
        diesel::sql_query("VACUUM ANALYZE").execute(&mut *s)?;
    }
    Ok(())
}

fn profiles(a: &Args) -> serde_json::Value {
    (0..a.identities)
        .map(|i| {
            serde_json::json!({"id": 1_000_000 + i, "name": format!("Bench Person {i}"), "email": format!("p{i}@example.org"),
                "verified_user": true, "verified_email": true,
                "networks": [{"id": i, "asn": asn_of((i * 2) % a.customers), "perms": 15}]})
        })
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The server's pid, for the CPU time each row costs it.
static SERVER_PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();

/// CPU time the server has used so far (user + system), in seconds; 0 where
/// `/proc` does not say.
fn server_cpu_seconds() -> f64 {
    let Some(pid) = SERVER_PID.get() else {
        return 0.0;
    };
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces): utime is the
    // 12th and stime the 13th of them.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // SAFETY: sysconf only reads a system constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    (ticks(11) + ticks(12)) / hz
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

#[derive(Default)]
struct Stats {
    lat: Vec<u32>,
    errors: u64,
    server_errors: u64,
    /// Error kinds: an HTTP status, or 1–6 for the login steps (1 start
    /// failed, 2 no session or redirect, 3 provider unreachable, 4 no code,
    /// 5 callback failed, 6 login refused).
    kinds: std::collections::BTreeMap<u16, u64>,
}

struct Row {
    name: String,
    rps: f64,
    p50: f64,
    p99: f64,
    /// The server's CPU time per answered request, µs (user + system):
    /// steadier than the rate when the load generator shares the cores.
    cpu_us: f64,
    errors: u64,
    server_errors: u64,
    kinds: std::collections::BTreeMap<u16, u64>,
}

impl Row {
    fn errors_text(&self) -> String {
        if self.kinds.is_empty() {
            return "0".into();
        }
        let kinds: Vec<String> = self.kinds.iter().map(|(k, v)| format!("{v}×{k}")).collect();
        format!("{} ({})", self.errors, kinds.join(", "))
    }
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

/// Runs `concurrency` workers for `secs`, each calling `step` in a loop;
/// `step` returns the latency to record (µs) or an error status.
async fn load<F>(name: &str, concurrency: usize, secs: u64, step: F) -> Row
where
    F: Fn(usize) -> StepFn + Send + Sync + Clone + 'static,
{
    if !row_wanted(name) {
        return Row {
            name: format!("{name} (not run)"),
            rps: 0.0,
            p50: 0.0,
            p99: 0.0,
            cpu_us: 0.0,
            errors: 0,
            server_errors: 0,
            kinds: Default::default(),
        };
    }
    eprintln!("row: {name} ({secs} s)");
    let cpu_before = server_cpu_seconds();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let stop = stop.clone();
        let make = step.clone();
        tasks.push(tokio::spawn(async move {
            let mut s = Stats::default();
            let mut next = make(w);
            while !stop.load(Ordering::Relaxed) {
                match next().await {
                    Ok(us) => s.lat.push(us),
                    Err(code) => {
                        s.errors += 1;
                        *s.kinds.entry(code).or_default() += 1;
                        if code >= 500 {
                            s.server_errors += 1;
                        }
                    }
                }
            }
            s
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Stats::default();
    for t in tasks {
        if let Ok(s) = t.await {
            all.lat.extend(s.lat);
            all.errors += s.errors;
            all.server_errors += s.server_errors;
            for (k, v) in s.kinds {
                *all.kinds.entry(k).or_default() += v;
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = server_cpu_seconds() - cpu_before;
    all.lat.sort_unstable();
    Row {
        name: name.to_string(),
        rps: all.lat.len() as f64 / elapsed,
        p50: pct(&all.lat, 0.5),
        p99: pct(&all.lat, 0.99),
        cpu_us: cpu * 1e6 / (all.lat.len().max(1) as f64),
        errors: all.errors,
        server_errors: all.server_errors,
        kinds: all.kinds,
    }
}

type StepFn = Box<
    dyn FnMut() -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<u32, u16>> + Send>>
        + Send,
>;

/// A worker that GETs one path over a kept-alive connection.
fn get_step(addr: String, path: String, cookie: Option<String>) -> StepFn {
    let conn = Arc::new(tokio::sync::Mutex::new(Conn::new(&addr)));
    Box::new(move || {
        let (conn, path, cookie) = (conn.clone(), path.clone(), cookie.clone());
        Box::pin(async move {
            let t = Instant::now();
            let mut c = conn.lock().await;
            match c.request("GET", &path, cookie.as_deref(), None).await {
                Ok(r) if r.status == 200 => Ok(t.elapsed().as_micros() as u32),
                Ok(r) => Err(r.status),
                Err(_) => Err(0),
            }
        })
    })
}

fn path_of(url: &str) -> String {
    match url.find("://") {
        Some(i) => url[i + 3..]
            .find('/')
            .map(|j| url[i + 3 + j..].to_string())
            .unwrap_or_else(|| "/".into()),
        None => url.to_string(),
    }
}

/// A worker that performs whole PeeringDB logins; the recorded latency is the
/// portal's callback (code exchange, profile, reconciliation, session).
fn login_step(portal: String, sim: String, identities: usize, worker: usize) -> StepFn {
    let conns = Arc::new(tokio::sync::Mutex::new((
        Conn::new(&portal),
        Conn::new(&sim),
        worker,
    )));
    Box::new(move || {
        let conns = conns.clone();
        Box::pin(async move {
            let mut g = conns.lock().await;
            let (p, s, n) = &mut *g;
            *n = (*n + 16) % identities;
            let start = p
                .request("GET", "/auth/login/peeringdb", None, None)
                .await
                .map_err(|_| 0u16)?;
            let (Some(cookie), Some(loc)) = (start.set_cookie, start.location) else {
                return Err(start.status);
            };
            let auth = s
                .request("GET", &format!("{}&user={}", path_of(&loc), n), None, None)
                .await
                .map_err(|_| 0u16)?;
            let Some(cb) = auth.location else {
                return Err(auth.status);
            };
            let t = Instant::now();
            let done = p
                .request("GET", &path_of(&cb), Some(&cookie), None)
                .await
                .map_err(|_| 0u16)?;
            let us = t.elapsed().as_micros() as u32;
            match (done.status, done.location.as_deref()) {
                (303, Some("/")) => Ok(us),
                (303, _) => Err(6),
                (status, _) => Err(status),
            }
        })
    })
}

async fn sign_in(addr: &str) -> String {
    let mut c = Conn::new(addr);
    let page = c
        .request("GET", "/login", None, None)
        .await
        .expect("login page");
    let cookie = page.set_cookie.expect("session cookie");
    let html = String::from_utf8_lossy(&page.body);
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("csrf")
        .to_string();
    let body = format!(
        "username=bench&password={}&csrf={csrf}",
        PASSWORD.replace(' ', "+")
    );
    let r = c
        .request("POST", "/login", Some(&cookie), Some(&body))
        .await
        .expect("login");
    assert_eq!(r.status, 303, "staff sign-in");
    r.set_cookie.expect("signed-in cookie")
}

/// What a server-side session costs a signed-in request (SPEC §7): the
/// session store's lookup is one more hop to a blocking thread and one
/// indexed SELECT, against 20,000 live sessions. Returns µs per lookup and
/// µs of an empty hop (the part that is the hand-off, not the query).
async fn session_bench(db: &Db) -> anyhow::Result<(f64, f64)> {
    use ixp_portal::auth::token::{digest, random_token};
    use ixp_portal::db::sessions;
    const SESSIONS: usize = 20_000;
    const LOOKUPS: usize = 20_000;
    let hashes: Vec<String> = (0..SESSIONS).map(|_| digest(&random_token())).collect();
    {
        let mut c = db.conn()?;
        let state = "{}";
        for h in &hashes {
            let meta = sessions::Meta {
                user_id: Some(1),
                sid: "bench",
                address: "127.0.0.1",
                user_agent: "bench",
                created_at: now(),
            };
            sessions::insert(&mut c, h, state, &meta, chrono::Duration::hours(1))?;
        }
    }
    let t = Instant::now();
    for i in 0..LOOKUPS {
        let h = hashes[(i * 7919) % SESSIONS].clone();
        let found = db
            .run(move |c| sessions::load_with_user(c, &h).map_err(ixp_portal::db::DbError::from))
            .await?;
        anyhow::ensure!(found.is_some(), "a live session was not found");
    }
    let lookup = t.elapsed().as_secs_f64() * 1e6 / LOOKUPS as f64;
    let t = Instant::now();
    for _ in 0..LOOKUPS {
        db.run(|_| Ok::<_, ixp_portal::db::DbError>(())).await?;
    }
    let hop = t.elapsed().as_secs_f64() * 1e6 / LOOKUPS as f64;
    Ok((lookup, hop))
}

/// The user list's page data (page 1, no filter) in-process on one
/// connection, with no hop: what the database part of the page costs.
fn page_bench(db: &Db) -> anyhow::Result<(f64, f64)> {
    use ixp_portal::db::users::{self, UserFilter};
    const N: usize = 2_000;
    let mut c = db.conn()?;
    let filter = UserFilter::default();
    let sort = ixp_portal::web::routes::staff_users::SORT.default;
    let _ = ixp_portal::web::routes::staff_users::load_page(&mut c, &filter, sort, None, 50);
    let t = Instant::now();
    for _ in 0..N {
        let (rows, _) =
            ixp_portal::web::routes::staff_users::load_page(&mut c, &filter, sort, None, 50)
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        anyhow::ensure!(rows.len() == 50, "a page of 50");
    }
    let page = t.elapsed().as_secs_f64() * 1e6 / N as f64;
    let t = Instant::now();
    for _ in 0..N {
        let (rows, _) = users::list(&mut c, &filter, None, 50)?;
        anyhow::ensure!(rows.len() == 50, "a page of 50");
    }
    let list = t.elapsed().as_secs_f64() * 1e6 / N as f64;
    Ok((page, list))
}

/// Reconciliation of a 1,000-network profile against the seeded customers,
/// in-process, counting SQL statements.
fn reconcile_bench(db: &Db, a: &Args) -> anyhow::Result<(f64, f64, u64, u64)> {
    use ixp_portal::peeringdb::{Policy, Profile, apply::process_login};
    let count = Arc::new(AtomicU64::new(0));
    let run = |networks: usize, id: i64| -> anyhow::Result<(f64, u64)> {
        let nets: Vec<_> = (0..networks)
            .map(|i| serde_json::json!({"asn": asn_of((i * 2 + 1) % a.customers)}))
            .collect();
        let profile = Profile::from_value(
            &serde_json::json!({"id": id, "name": "Big Profile", "email": "big@example.org",
            "verified_user": true, "verified_email": true, "networks": nets}),
        )?;
        let policy = Policy {
            privilege: Privilege::CustUser,
            require_mfa: false,
            today: chrono::Utc::now().date_naive(),
            now: chrono::Utc::now().naive_utc(),
            max_link_age: 2_592_000,
        };
        let mut c = db.conn()?;
        process_login(&mut c, &profile, &policy, "127.0.0.1", None)?; // first login creates the links
        let counter = count.clone();
        c.set_instrumentation(move |e: diesel::connection::InstrumentationEvent<'_>| {
            if matches!(
                e,
                diesel::connection::InstrumentationEvent::StartQuery { .. }
            ) {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        });
        count.store(0, Ordering::Relaxed);
        let t = Instant::now();
        process_login(&mut c, &profile, &policy, "127.0.0.1", None)?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        c.set_instrumentation(
            diesel::connection::get_default_instrumentation()
                .unwrap_or_else(|| Box::new(|_: diesel::connection::InstrumentationEvent<'_>| {})),
        );
        Ok((ms, count.load(Ordering::Relaxed)))
    };
    let (ms_big, q_big) = run(1000, 9_000_001)?;
    let (ms_small, q_small) = run(10, 9_000_002)?;
    Ok((ms_big, ms_small, q_big, q_small))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() -> anyhow::Result<()> {
    // As the server's `main` does, so that the in-process figures below
    // see SQLite as the server does.
    ixp_portal::db::sqlite_setup::before_first_connection();
    let a = parse_args();
    // `BENCH_PAGE_ONLY=URL`: only the in-process page cost, on a database
    // kept by an earlier `--keep-db` run (steady enough for `perf stat`).
    if let Ok(url) = std::env::var("BENCH_PAGE_ONLY") {
        let db = Db::open(&DatabaseUrl::parse(&url).map_err(anyhow::Error::msg)?)?;
        let (page, list) = page_bench(&db)?;
        println!("user list page data: {page:.1} µs; the users' statement alone: {list:.1} µs");
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let (database_url, backend) = match &a.postgres {
        Some(admin) => {
            let name = format!("ixp_bench_{}", std::process::id());
            let mut c = diesel::PgConnection::establish(admin)?;
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {name}")).execute(&mut c)?;
            diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut c)?;
            let mut u = url::Url::parse(admin)?;
            u.set_path(&format!("/{name}"));
            (u.to_string(), "postgresql")
        }
        None => (
            format!("sqlite:{}", dir.path().join("bench.sqlite").display()),
            "sqlite",
        ),
    };
    eprintln!(
        "seeding {} customers and {} users on {backend} …",
        a.customers, a.users
    );
    let db = Db::open(&DatabaseUrl::parse(&database_url).map_err(anyhow::Error::msg)?)?;
    db.migrate()?;
    seed(&db, &a)?;
    let (rec_big, rec_small, q_big, q_small) = reconcile_bench(&db, &a)?;
    let session_cost = session_bench(&db).await?;
    let page_cost = page_bench(&db)?;
    drop(db);

    let exe = std::env::current_exe()?;
    let bin = exe
        .parent()
        .and_then(|p| p.parent())
        .map(|p| p.join("ixp-portal"))
        .expect("target dir");
    let profiles_file = dir.path().join("profiles.json");
    std::fs::write(&profiles_file, serde_json::to_vec(&profiles(&a))?)?;
    let sim_addr = format!("127.0.0.1:{}", free_port());
    let _sim = Proc(
        Command::new(&bin)
            .args(["fake-peeringdb", "--bind", &sim_addr, "--profiles"])
            .arg(&profiles_file)
            .args(["--client-id", "bench", "--client-secret", "bench-secret"])
            .env(
                "RUST_LOG",
                std::env::var("BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::null())
            .spawn()?,
    );
    let addr = format!("127.0.0.1:{}", free_port());
    let t0 = Instant::now();
    let server = Proc(
        Command::new(&bin)
            .arg("serve")
            .current_dir(dir.path())
            .env("PORTAL_BIND", &addr)
            .env("APP_URL", format!("http://{addr}"))
            .env("DATABASE_URL", &database_url)
            .env("PORTAL_DATA_DIR", dir.path())
            // PostgreSQL requires a shared key (SPEC §5); a fresh one per run.
            .env(
                "SESSION_KEY",
                ixp_portal::auth::token::random_token() + &ixp_portal::auth::token::random_token(),
            )
            .env("AUTH_PEERINGDB_ENABLED", "true")
            .env("PEERINGDB_OAUTH_CLIENT_ID", "bench")
            .env("PEERINGDB_OAUTH_CLIENT_SECRET", "bench-secret")
            .env("PEERINGDB_OAUTH_BASE_URL", format!("http://{sim_addr}"))
            .env(
                "RUST_LOG",
                std::env::var("BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::null())
            .spawn()?,
    );
    let pid = server.0.id();
    eprintln!("server pid {pid}");
    let _ = SERVER_PID.set(pid);
    let startup = loop {
        let mut c = Conn::new(&addr);
        if let Ok(r) = c.request("GET", "/healthz", None, None).await
            && r.status == 200
        {
            break t0.elapsed();
        }
        if t0.elapsed() > Duration::from_secs(30) {
            anyhow::bail!("the server did not start");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    // Wait for the simulator too.
    for _ in 0..500 {
        if tokio::net::TcpStream::connect(&sim_addr).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let cookie = sign_in(&addr).await;
    // Usernames in the list's order, for cursors at a depth.
    let sorted: Arc<Vec<String>> = Arc::new({
        let mut v: Vec<String> = (0..a.users).map(|i| people::person(i).username).collect();
        v.sort();
        v
    });
    let deep_after = sorted[sorted.len() * 9 / 10].clone();
    let secs = a.seconds;
    let mut rows = Vec::new();
    // The server's resident memory after each row (issue 12: ≤ 64 MiB).
    let mut rss_rows: Vec<u64> = Vec::new();
    let (ad, ck) = (addr.clone(), cookie.clone());
    let g = move |path: String, cookie: Option<String>| {
        let ad = ad.clone();
        move |_w: usize| get_step(ad.clone(), path.clone(), cookie.clone())
    };
    rows.push(
        load(
            "ceiling: GET /robots.txt (static)",
            16,
            secs,
            g("/robots.txt".into(), None),
        )
        .await,
    );
    rss_rows.push(rss_kib(pid, "VmRSS:"));
    // Warm the identities (first logins create the users), then measure returning users.
    let (pa, sa, ids) = (addr.clone(), sim_addr.clone(), a.identities);
    let logins = move |w: usize| login_step(pa.clone(), sa.clone(), ids, w);
    let _ = load("warm-up logins", 16, secs.max(5), logins.clone()).await;
    rows.push(
        load(
            "PeeringDB login callbacks, returning users",
            16,
            secs,
            logins.clone(),
        )
        .await,
    );
    rss_rows.push(rss_kib(pid, "VmRSS:"));
    rows.push(
        load(
            "staff users list, page 1",
            16,
            secs,
            g("/staff/users".into(), Some(ck.clone())),
        )
        .await,
    );
    rss_rows.push(rss_kib(pid, "VmRSS:"));
    rows.push(
        load(
            "staff users list, deep page (after user 90%)",
            16,
            secs,
            g(format!("/staff/users?after={deep_after}"), Some(ck.clone())),
        )
        .await,
    );
    rss_rows.push(rss_kib(pid, "VmRSS:"));
    for (what, q) in people::SEARCHES {
        rows.push(
            load(
                &format!("staff users list, search: {what} ({q})"),
                16,
                secs,
                g(format!("/staff/users?q={q}"), Some(ck.clone())),
            )
            .await,
        );
        rss_rows.push(rss_kib(pid, "VmRSS:"));
    }
    let peak_after_load = rss_kib(pid, "VmHWM:");
    let rss_before_soak = rss_kib(pid, "VmRSS:");

    // Soak: mixed pages and logins at concurrency 64.
    let mix = {
        let (ad, ck, sa) = (addr.clone(), cookie.clone(), sim_addr.clone());
        let sorted = sorted.clone();
        move |w: usize| {
            let (ad, ck, sa) = (ad.clone(), ck.clone(), sa.clone());
            match w % 4 {
                0 => login_step(ad, sa, ids, w),
                1 => get_step(ad, "/staff/users".into(), Some(ck)),
                2 => get_step(
                    ad,
                    format!("/staff/users?after={}", sorted[(w * 1543) % sorted.len()]),
                    Some(ck),
                ),
                _ => get_step(ad, "/staff/customers".into(), Some(ck)),
            }
        }
    };
    let soak = load(
        "soak: mixed pages and logins, c=64",
        64,
        a.soak_seconds,
        mix,
    )
    .await;
    let rss_after_soak = rss_kib(pid, "VmRSS:");
    let peak = rss_kib(pid, "VmHWM:");

    // The CLI's whole user list as JSON, on the same database.
    let t_list = Instant::now();
    let listed = Command::new(&bin)
        .args(["user", "list", "--json"])
        .current_dir(dir.path())
        .env("DATABASE_URL", &database_url)
        .env("PORTAL_DATA_DIR", dir.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .output()?;
    let list_time = t_list.elapsed();
    let list_users = serde_json::from_slice::<Vec<serde_json::Value>>(&listed.stdout)
        .map(|v| v.len())
        .unwrap_or(0);

    let ceiling = rows[0].rps.max(1.0);
    println!(
        "\n### ixp-portal benchmark on {backend} ({} customers, {} users; {secs} s per row, concurrency 16)\n",
        a.customers, a.users
    );
    println!(
        "| measurement | requests/s | ratio to ceiling | p50 ms | p99 ms | server CPU µs/request | errors | server RSS after, MiB |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (i, r) in rows.iter().enumerate() {
        println!(
            "| {} | {:.0} | {:.3} | {:.2} | {:.2} | {:.0} | {} | {:.1} |",
            r.name,
            r.rps,
            r.rps / ceiling,
            r.p50,
            r.p99,
            r.cpu_us,
            r.errors,
            rss_rows.get(i).copied().unwrap_or(0) as f64 / 1024.0
        );
    }
    println!(
        "| {} ({} s) | {:.0} | {:.3} | {:.2} | {:.2} | {:.0} | {} | {:.1} |",
        soak.name,
        a.soak_seconds,
        soak.rps,
        soak.rps / ceiling,
        soak.p50,
        soak.p99,
        soak.cpu_us,
        soak.errors_text(),
        rss_after_soak as f64 / 1024.0
    );
    println!();
    println!(
        "- reconciliation, profile with 1,000 networks vs {} customers (returning user): {rec_big:.1} ms, {q_big} SQL statements (10 networks: {rec_small:.1} ms, {q_small} statements)",
        a.customers
    );
    println!(
        "- server-side session lookup per signed-in request (in-process, 20,000 live sessions): {:.1} µs, of which {:.1} µs is the hop to a blocking thread",
        session_cost.0, session_cost.1
    );
    println!(
        "- user list page data (page 1, in-process, one connection, no hop): {:.1} µs, of which {:.1} µs is the users' statement alone",
        page_cost.0, page_cost.1
    );
    println!(
        "- start-up to first answered request on the existing database: {} ms",
        startup.as_millis()
    );
    println!(
        "- server peak RSS after the load rows: {:.1} MiB; after the soak: {:.1} MiB",
        peak_after_load as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    println!(
        "- soak RSS: {:.1} MiB before, {:.1} MiB after; 5xx responses during the soak: {}",
        rss_before_soak as f64 / 1024.0,
        rss_after_soak as f64 / 1024.0,
        soak.server_errors
    );
    println!(
        "- `ixp-portal user list --json`: {} users in {:.2} s{}",
        list_users,
        list_time.as_secs_f64(),
        if listed.status.success() {
            ""
        } else {
            " (FAILED)"
        }
    );
    if a.keep_db {
        drop(server);
        if a.postgres.is_none() {
            let _ = dir.keep();
        }
        eprintln!("kept the database: {database_url}");
    } else if let Some(admin) = &a.postgres {
        drop(server);
        let name = database_url
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let mut c = diesel::PgConnection::establish(admin)?;
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut c)?;
    }
    Ok(())
}
