//! The command line: `serve` (the default), `migrate`, `demo`,
//! `fake-peeringdb`, and the `customer` and `user` commands for scripting.
use crate::admin::{self, NewStaffUser};
use crate::config::Config;
use crate::db::models::{Affiliation, Customer, CustomerFields, User};
use crate::db::{Db, affiliations, audit::ACTOR_CLI, customers, users};
use crate::domain::{Asn, CreatedBy, CustomerStatus, CustomerType, Email, Privilege, Username};
use anyhow::{Context, anyhow, bail};
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::PathBuf;

pub mod peering;
mod values;

#[derive(Parser)]
#[command(
    name = "ixp-portal",
    version,
    about = "Member portal of an Internet Exchange Point, with Login with PeeringDB"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the portal on PORTAL_BIND (the default command); migrates first.
    Serve,
    /// Apply pending database migrations.
    Migrate,
    /// The portal on a fresh SQLite file with sample data and a PeeringDB simulator.
    Demo(crate::demo::DemoArgs),
    /// A PeeringDB OAuth simulator for local development.
    FakePeeringdb(FakeArgs),
    /// Manage customers (member networks).
    #[command(subcommand)]
    Customer(CustomerCmd),
    /// Manage users.
    #[command(subcommand)]
    User(UserCmd),
    /// The IXP's own record (for the IX-F export and the Peering API).
    #[command(subcommand)]
    Ixp(peering::IxpCmd),
    /// Manage peering LANs.
    #[command(subcommand)]
    Lan(peering::LanCmd),
    /// Manage route servers.
    #[command(subcommand)]
    Routeserver(peering::RouteServerCmd),
    /// Manage customers' connections on the peering LANs.
    #[command(subcommand)]
    Connection(peering::ConnectionCmd),
    /// Peering API keys.
    #[command(subcommand)]
    Apikey(peering::ApiKeyCmd),
    /// Login with PeeringDB: the re-check of PeeringDB-made links.
    #[command(subcommand)]
    Peeringdb(PeeringdbCmd),
    /// A consistent copy of the SQLite database, also while `serve` runs
    /// (0600, never over an existing file); on PostgreSQL: use pg_dump.
    Backup {
        /// The new file to write.
        #[arg(long)]
        to: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum PeeringdbCmd {
    /// Re-check PeeringDB-made links now (SPEC §6.3): the users due, one
    /// user, or every user with PeeringDB-made links; prints what changed.
    Recheck {
        /// Only this user, due or not.
        #[arg(long, conflicts_with = "all")]
        user: Option<String>,
        /// Every user with PeeringDB-made links, due or not.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Args)]
pub struct FakeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8081")]
    pub bind: String,
    /// JSON file: an array of PeeringDB profiles.
    #[arg(long)]
    pub profiles: PathBuf,
    /// The OAuth client id the simulator accepts.
    #[arg(
        long,
        env = "PEERINGDB_OAUTH_CLIENT_ID",
        default_value = "ixp-portal-dev"
    )]
    pub client_id: String,
    /// The OAuth client secret the simulator accepts.
    #[arg(
        long,
        env = "PEERINGDB_OAUTH_CLIENT_SECRET",
        default_value = "ixp-portal-dev-secret",
        hide_env_values = true
    )]
    pub client_secret: String,
}

#[derive(Subcommand)]
pub enum CustomerCmd {
    /// Create a customer.
    Create(CustomerCreate),
    /// Change a customer, found by its shortname.
    Update(CustomerUpdate),
    /// List customers.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct CustomerCreate {
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub shortname: String,
    #[arg(long)]
    pub asn: String,
    #[arg(long = "type", value_enum, ignore_case = true)]
    pub kind: CustomerType,
    #[arg(long, value_enum, ignore_case = true)]
    pub status: CustomerStatus,
    #[arg(long)]
    pub date_joined: Option<String>,
    #[arg(long)]
    pub date_left: Option<String>,
    /// The member asked to be excluded from Login with PeeringDB.
    #[arg(long)]
    pub no_peeringdb_oauth: bool,
}

#[derive(Args)]
pub struct CustomerUpdate {
    pub shortname_key: String,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub shortname: Option<String>,
    #[arg(long)]
    pub asn: Option<String>,
    #[arg(long = "type", value_enum, ignore_case = true)]
    pub kind: Option<CustomerType>,
    #[arg(long, value_enum, ignore_case = true)]
    pub status: Option<CustomerStatus>,
    #[arg(long)]
    pub date_joined: Option<String>,
    /// A date, or `none` to clear it.
    #[arg(long)]
    pub date_left: Option<String>,
    #[arg(long)]
    pub peeringdb_oauth: Option<String>,
    #[arg(long, conflicts_with = "peeringdb_oauth")]
    pub no_peeringdb_oauth: bool,
}

#[derive(Subcommand)]
pub enum UserCmd {
    /// Create a user; `--superuser` makes IXP staff.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        superuser: bool,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Link a user to every customer with an ASN (a staff-made affiliation).
    Link {
        username: String,
        #[arg(long)]
        asn: String,
        #[arg(long, value_enum, ignore_case = true, default_value = "custuser")]
        privilege: Privilege,
    },
    /// Remove a user's link to a customer; a PeeringDB-made one is also
    /// blocked, so that PeeringDB logins do not bring it back.
    Unlink {
        username: String,
        #[arg(long)]
        customer: String,
    },
    /// Lift the block that keeps PeeringDB logins from linking a customer.
    Unblock {
        username: String,
        #[arg(long)]
        customer: String,
    },
    /// End every session of a user (all browsers are signed out).
    SignOut { username: String },
    /// Remove a user's second factor (they can set up a new one).
    #[command(name = "2fa-reset")]
    TwoFactorReset { username: String },
    /// List users.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one user.
    Show {
        username: String,
        #[arg(long)]
        json: bool,
    },
}

fn parse_date(var: &str, s: &str) -> anyhow::Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| anyhow!("--{var} {s:?} is not a date: use YYYY-MM-DD"))
}

fn parse_bool_flag(var: &str, s: &str) -> anyhow::Result<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" => Ok(false),
        _ => bail!("--{var} {s:?}: use true or false"),
    }
}

fn parse_shortname(s: &str) -> anyhow::Result<String> {
    crate::domain::Username::parse(&s.to_lowercase())
        .map(|u| u.to_string())
        .map_err(|e| {
            anyhow!(
                "--shortname {s:?}: {}",
                e.to_string().replace("username", "shortname")
            )
        })
}

fn parse_name(s: &str) -> anyhow::Result<String> {
    let t = s.trim();
    if t.is_empty() || t.len() > 255 {
        bail!("--name must have 1 to 255 characters");
    }
    Ok(t.to_string())
}

pub fn customer_json(c: &Customer) -> serde_json::Value {
    serde_json::json!({
        "id": c.id,
        "name": c.name,
        "shortname": c.shortname,
        "asn": c.autsys,
        "type": c.cust_type,
        "status": c.status,
        "date_joined": c.date_joined,
        "date_left": c.date_left,
        "peeringdb_oauth": c.peeringdb_oauth,
    })
}

/// What `user show --json` adds about signing in (SPEC §4, §6, §7).
pub struct UserExtras {
    pub blocks: Vec<crate::db::peeringdb_links::Block>,
    pub two_factor: bool,
    /// Live sessions.
    pub sessions: i64,
}

impl UserExtras {
    /// Loads them for one user.
    pub fn load(
        conn: &mut crate::db::DbConnection,
        u: &User,
        session_max: i64,
    ) -> anyhow::Result<UserExtras> {
        Ok(UserExtras {
            blocks: match u.peeringdb_id {
                Some(id) => crate::db::peeringdb_links::blocks_of(conn, id)?,
                None => Vec::new(),
            },
            two_factor: crate::db::two_factor::is_enabled(conn, u.id)?,
            sessions: crate::db::sessions::count_of_user(
                conn,
                u.id,
                chrono::Duration::seconds(session_max),
            )?,
        })
    }

    /// Loads them for every user at once (three queries, not three per
    /// user): `user list --json` at 100,000 users.
    pub fn load_all(
        conn: &mut crate::db::DbConnection,
        session_max: i64,
    ) -> anyhow::Result<AllExtras> {
        let mut blocks: HashMap<i64, Vec<crate::db::peeringdb_links::Block>> = HashMap::new();
        for b in crate::db::peeringdb_links::all_blocks(conn)? {
            blocks.entry(b.peeringdb_id).or_default().push(b);
        }
        Ok(AllExtras {
            blocks,
            two_factor: crate::db::two_factor::enabled_users(conn)?,
            sessions: crate::db::sessions::counts_by_user(
                conn,
                chrono::Duration::seconds(session_max),
            )?,
        })
    }
}

/// `UserExtras` of every user, loaded at once.
pub struct AllExtras {
    blocks: HashMap<i64, Vec<crate::db::peeringdb_links::Block>>,
    two_factor: std::collections::HashSet<i64>,
    sessions: HashMap<i64, i64>,
}

impl AllExtras {
    /// The extras of one user.
    pub fn of(&mut self, u: &User) -> UserExtras {
        UserExtras {
            blocks: u
                .peeringdb_id
                .and_then(|id| self.blocks.remove(&id))
                .unwrap_or_default(),
            two_factor: self.two_factor.contains(&u.id),
            sessions: self.sessions.get(&u.id).copied().unwrap_or(0),
        }
    }
}

/// Links grouped by user id, in the order loaded (customer name).
fn links_by_user(
    links: Vec<(Affiliation, Customer)>,
) -> HashMap<i64, Vec<(Affiliation, Customer)>> {
    let mut out: HashMap<i64, Vec<(Affiliation, Customer)>> = HashMap::new();
    for l in links {
        out.entry(l.0.user_id).or_default().push(l);
    }
    out
}

/// The JSON of a user (SPEC §4).
pub fn user_json(u: &User, links: &[(Affiliation, Customer)], x: &UserExtras) -> serde_json::Value {
    serde_json::json!({
        "id": u.id,
        "username": u.username,
        "name": u.name,
        "email": u.email,
        "peeringdb_id": u.peeringdb_id,
        "creator": u.creator,
        "superuser": u.superuser,
        "disabled": u.disabled,
        "two_factor": x.two_factor,
        "sessions": x.sessions,
        "affiliations": links.iter().map(|(a, c)| serde_json::json!({
            "customer": c.shortname,
            "asn": c.autsys,
            "privilege": a.privilege,
            "created_by": a.created_by,
            "confirmed_at": a.confirmed_at.map(|t| t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        })).collect::<Vec<_>>(),
        "blocked": x.blocks.iter().map(|b| serde_json::json!({
            "customer": b.customer_shortname,
            "asn": b.asn,
            "by": b.by.as_str(),
        })).collect::<Vec<_>>(),
    })
}

fn open_db(config: &Config) -> anyhow::Result<Db> {
    let db = Db::open(&config.database)?;
    db.migrate()?;
    Ok(db)
}

/// Logs to standard error in `PORTAL_LOG_FORMAT` (text or JSON lines).
pub fn init_tracing(format: crate::observability::logs::LogFormat) {
    crate::observability::logs::init(format);
}

/// Runs the command line; errors carry a message for the person at the terminal.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::FakePeeringdb(args) = command {
        init_tracing(crate::observability::logs::LogFormat::from_env()?);
        return crate::peeringdb::simulator::run_cli(
            &args.bind,
            &args.client_id,
            &args.client_secret,
            &args.profiles,
        );
    }
    if let Command::Demo(args) = command {
        init_tracing(crate::observability::logs::LogFormat::from_env()?);
        return crate::demo::run(args);
    }
    let config = Config::from_env()?;
    match command {
        Command::Serve => {
            init_tracing(config.ops.log_format);
            serve(config)
        }
        Command::Migrate => {
            let db = Db::open(&config.database)?;
            let n = db.migrate()?;
            println!(
                "{n} migration(s) applied to the {} database",
                config.database.backend_name()
            );
            Ok(())
        }
        Command::Customer(cmd) => customer_cmd(&open_db(&config)?, cmd),
        Command::User(cmd) => user_cmd(&open_db(&config)?, &config, cmd),
        Command::Ixp(cmd) => peering::ixp_cmd(&mut *open_db(&config)?.conn()?, cmd),
        Command::Lan(cmd) => peering::lan_cmd(&mut *open_db(&config)?.conn()?, cmd),
        Command::Routeserver(cmd) => peering::routeserver_cmd(&mut *open_db(&config)?.conn()?, cmd),
        Command::Connection(cmd) => peering::connection_cmd(&mut *open_db(&config)?.conn()?, cmd),
        Command::Apikey(cmd) => peering::apikey_cmd(&mut *open_db(&config)?.conn()?, cmd),
        Command::Peeringdb(cmd) => peeringdb_cmd(&config, open_db(&config)?, cmd),
        Command::Backup { to } => backup_cmd(&config, &to),
        Command::Demo(_) | Command::FakePeeringdb(_) => unreachable!("handled above"),
    }
}

/// `serve`: migrate, say how to make the first superuser if there is none,
/// and serve until stopped.
pub fn serve(config: Config) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = rt.block_on(async move {
        let ops = config.ops.clone();
        let app = crate::startup::build_app(config).await?;
        // SIGTERM drains (issue 14): /readyz 503, then the listeners close.
        app.lifecycle.manage_signals();
        let lifecycle = app.lifecycle.clone();
        if !ops.trusted_proxies.is_empty() {
            tracing::info!(trusted_proxies = %ops.trusted_proxies.describe(), "X-Forwarded-For is read from these peers");
        }
        let metrics = match ops.metrics_bind {
            Some(addr) => {
                let m = crate::observability::metrics::start_listener(addr, app.db.clone())?;
                tracing::info!(address = %m.addr, "metrics listening (GET /metrics)");
                Some(m)
            }
            None => None,
        };
        let background = crate::startup::start_background(&app);
        let running = crate::web::start(app)?;
        tracing::info!(address = %running.addr, "ixp-portal is listening");
        crate::observability::lifecycle::serve_until_stopped(
            running,
            metrics,
            background,
            lifecycle,
            std::time::Duration::from_secs(ops.drain_delay),
        )
        .await
    });
    // Blocking work still running (a database call) gets a moment more.
    rt.shutdown_timeout(std::time::Duration::from_secs(5));
    result
}

/// `backup --to FILE` (issue 14).
fn backup_cmd(config: &Config, to: &std::path::Path) -> anyhow::Result<()> {
    let s = crate::backup::backup(&config.database, to)?;
    println!(
        "backed up {} user(s), schema at migration {}, to {} ({} bytes, readable by this user only)",
        s.users,
        s.migrations,
        s.path.display(),
        s.bytes
    );
    println!(
        "restore: stop the portal, then serve it with DATABASE_URL={} (or copy it over the database file)",
        s.path.display()
    );
    Ok(())
}

/// `peeringdb recheck`: under the same lease as the background task, so
/// that a refresh token is never used twice at once.
fn peeringdb_cmd(config: &Config, db: Db, cmd: PeeringdbCmd) -> anyhow::Result<()> {
    use crate::peeringdb::recheck::{Rechecker, Select};
    let PeeringdbCmd::Recheck { user, all } = cmd;
    let select = match &user {
        Some(name) => {
            let u = users::by_username(&mut *db.conn()?, name)?
                .ok_or_else(|| anyhow!("no user named {name:?}"))?;
            Select::User(u.id)
        }
        None if all => Select::All,
        None => Select::Due,
    };
    let client = match &config.peeringdb {
        Some(p) => Some(crate::peeringdb::client::PeeringDbClient::new(p)?),
        None => None,
    };
    if client.is_none() {
        eprintln!(
            "AUTH_PEERINGDB_ENABLED is off: only the link age (AUTH_PEERINGDB_LINK_MAX_AGE) is applied"
        );
    }
    let rechecker = Rechecker {
        db,
        client,
        secrets: crate::web::secret_box(config)?,
        links: config.links,
        privilege: config
            .peeringdb
            .as_ref()
            .map_or(Privilege::CustUser, |p| p.privilege),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = rt.block_on(async {
        let holder = format!("cli:{}", crate::background::instance_name());
        rechecker.batch_under_lease(&holder, 0, select).await
    })?;
    let Some(report) = report else {
        bail!("a re-check is running in another instance of the portal; try again in a minute");
    };
    for line in &report.changes {
        println!("{line}");
    }
    println!(
        "checked {} user(s): {} confirmed by PeeringDB, {} failed (PeeringDB unreachable or unusable answer), {} refresh token(s) refused, {} change(s)",
        report.checked,
        report.refreshed,
        report.failed,
        report.tokens_refused,
        report.changes.len()
    );
    if report.checked == 0 && report.changes.is_empty() {
        bail!(if user.is_some() {
            "that user is gone: nothing to re-check"
        } else {
            "no user is due for a re-check: nothing changed (use --all to re-check everyone)"
        });
    }
    if report.failed > 0 {
        bail!(
            "PeeringDB could not be asked for {} user(s); their links stay as they were until the next re-check",
            report.failed
        );
    }
    Ok(())
}

fn customer_cmd(db: &Db, cmd: CustomerCmd) -> anyhow::Result<()> {
    let mut conn = db.conn()?;
    match cmd {
        CustomerCmd::Create(a) => {
            let fields = CustomerFields {
                name: parse_name(&a.name)?,
                shortname: parse_shortname(&a.shortname)?,
                autsys: a.asn.parse::<Asn>().map_err(|e| anyhow!("--asn: {e}"))?,
                cust_type: a.kind,
                status: a.status,
                date_joined: a
                    .date_joined
                    .as_deref()
                    .map(|d| parse_date("date-joined", d))
                    .transpose()?,
                date_left: a
                    .date_left
                    .as_deref()
                    .map(|d| parse_date("date-left", d))
                    .transpose()?,
                peeringdb_oauth: !a.no_peeringdb_oauth,
            };
            let id = admin::create_customer(&mut conn, ACTOR_CLI, &fields)?;
            println!("created customer {} (id {id})", fields.shortname);
        }
        CustomerCmd::Update(a) => {
            let old = customers::by_shortname(&mut conn, &a.shortname_key)?
                .ok_or_else(|| anyhow!("no customer with shortname {:?}", a.shortname_key))?;
            let mut f = CustomerFields {
                name: old.name.clone(),
                shortname: old.shortname.clone(),
                autsys: old.autsys,
                cust_type: old.cust_type,
                status: old.status,
                date_joined: old.date_joined,
                date_left: old.date_left,
                peeringdb_oauth: old.peeringdb_oauth,
            };
            if let Some(v) = a.name {
                f.name = parse_name(&v)?;
            }
            if let Some(v) = a.shortname {
                f.shortname = parse_shortname(&v)?;
            }
            if let Some(v) = a.asn {
                f.autsys = v.parse().map_err(|e| anyhow!("--asn: {e}"))?;
            }
            if let Some(v) = a.kind {
                f.cust_type = v;
            }
            if let Some(v) = a.status {
                f.status = v;
            }
            if let Some(v) = a.date_joined {
                f.date_joined = Some(parse_date("date-joined", &v)?);
            }
            if let Some(v) = a.date_left {
                f.date_left = if v.trim().eq_ignore_ascii_case("none") {
                    None
                } else {
                    Some(parse_date("date-left", &v)?)
                };
            }
            if let Some(v) = a.peeringdb_oauth {
                f.peeringdb_oauth = parse_bool_flag("peeringdb-oauth", &v)?;
            }
            if a.no_peeringdb_oauth {
                f.peeringdb_oauth = false;
            }
            let revoked = admin::update_customer(&mut conn, ACTOR_CLI, old.id, &f)?;
            println!("updated customer {}", f.shortname);
            for line in revoked {
                println!("  {line}");
            }
        }
        CustomerCmd::List { json } => {
            let all = customers::all(&mut conn)?;
            if json {
                let v: Vec<_> = all.iter().map(customer_json).collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                println!(
                    "{:<20} {:<12} {:<10} {:<13} {:<5} NAME",
                    "SHORTNAME", "ASN", "TYPE", "STATUS", "OAUTH"
                );
                for c in all {
                    println!(
                        "{:<20} {:<12} {:<10} {:<13} {:<5} {}",
                        c.shortname,
                        c.autsys,
                        c.cust_type,
                        c.status,
                        if c.peeringdb_oauth { "yes" } else { "no" },
                        c.name
                    );
                }
            }
        }
    }
    Ok(())
}

fn user_cmd(db: &Db, config: &Config, cmd: UserCmd) -> anyhow::Result<()> {
    let session_max = config.sessions.max;
    let mut conn = db.conn()?;
    match cmd {
        UserCmd::Create {
            username,
            email,
            name,
            superuser,
            password_stdin,
        } => {
            let new = NewStaffUser {
                username: Username::parse(&username)
                    .map_err(|e| anyhow!("--username {username:?}: {e}"))?,
                email: Email::parse(&email).map_err(|e| anyhow!("--email: {e}"))?,
                name: parse_name(&name)?,
                superuser,
            };
            let (pw, show) = if password_stdin {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("reading the password from standard input")?;
                let pw = s.trim_end_matches(['\n', '\r']).to_string();
                crate::auth::password::NewPassword::parse(&pw, &pw)
                    .map_err(|e| anyhow!("the password from standard input: {e}"))?;
                (pw, false)
            } else {
                (crate::auth::token::generated_password(), true)
            };
            let hash = admin::hash_password(&pw)?;
            let id = admin::create_user(&mut conn, ACTOR_CLI, &new, &hash)?;
            println!(
                "created user {} (id {id}){}",
                new.username,
                if superuser { " as superuser" } else { "" }
            );
            if show {
                println!("password: {pw}");
                println!("(shown once; the user can change it through \"Forgot your password?\")");
            }
        }
        UserCmd::Link {
            username,
            asn,
            privilege,
        } => {
            let asn: Asn = asn.parse().map_err(|e| anyhow!("--asn: {e}"))?;
            for (shortname, made) in admin::link_by_asn(
                &mut conn,
                ACTOR_CLI,
                &username,
                asn,
                privilege,
                CreatedBy::Cli,
            )? {
                if made {
                    println!("linked {username} to {shortname} as {privilege}");
                } else {
                    println!("{username} was already linked to {shortname}");
                }
            }
        }
        UserCmd::Unlink { username, customer } => {
            let (_, c, blocked) = admin::unlink_named(&mut conn, ACTOR_CLI, &username, &customer)?;
            println!("removed {username}'s link to {}", c.shortname);
            if blocked {
                println!(
                    "blocked: PeeringDB logins will not link {username} to {} again until `ixp-portal user unblock {username} --customer {}`",
                    c.shortname, c.shortname
                );
            }
        }
        UserCmd::Unblock { username, customer } => {
            admin::unblock_named(&mut conn, ACTOR_CLI, &username, &customer)?;
            println!("lifted the block: PeeringDB logins may link {username} to {customer} again");
        }
        UserCmd::SignOut { username } => {
            let u = users::by_username(&mut conn, &username)?
                .ok_or_else(|| anyhow!("no user named {username:?}"))?;
            let n = admin::security::end_sessions(&mut conn, ACTOR_CLI, u.id, None)?;
            if n == 0 {
                bail!("{username} has no session: nothing to end");
            }
            println!("ended {n} session(s) of {username}");
        }
        UserCmd::TwoFactorReset { username } => {
            let u = users::by_username(&mut conn, &username)?
                .ok_or_else(|| anyhow!("no user named {username:?}"))?;
            if !admin::security::reset_two_factor(&mut conn, ACTOR_CLI, u.id)? {
                bail!("{username} has no second factor: nothing to reset");
            }
            println!("removed the second factor of {username} and ended their sessions");
        }
        UserCmd::List { json } => {
            let all = users::all(&mut conn)?;
            let mut links = links_by_user(affiliations::all_with_customers(&mut conn)?);
            if json {
                let mut extras = UserExtras::load_all(&mut conn, session_max)?;
                let v: Vec<_> = all
                    .iter()
                    .map(|u| {
                        let mine = links.remove(&u.id).unwrap_or_default();
                        user_json(u, &mine, &extras.of(u))
                    })
                    .collect();
                let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                serde_json::to_writer_pretty(&mut out, &v)?;
                writeln!(out)?;
                out.flush()?;
            } else {
                println!(
                    "{:<24} {:<5} {:<5} {:<6} EMAIL",
                    "USERNAME", "OAUTH", "SUPER", "LINKS"
                );
                for u in all {
                    let n = links.get(&u.id).map_or(0, Vec::len);
                    println!(
                        "{:<24} {:<5} {:<5} {:<6} {}",
                        u.username,
                        if u.oauth() { "Y" } else { "N" },
                        if u.superuser { "yes" } else { "no" },
                        n,
                        u.email
                    );
                }
            }
        }
        UserCmd::Show { username, json } => {
            let u = users::by_username(&mut conn, &username)?
                .ok_or_else(|| anyhow!("no user named {username:?}"))?;
            let links = affiliations::of_user(&mut conn, u.id)?;
            let extras = UserExtras::load(&mut conn, &u, session_max)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&user_json(&u, &links, &extras))?
                );
            } else {
                println!("username:     {}", u.username);
                println!("name:         {}", u.name);
                println!("email:        {}", u.email);
                println!(
                    "peeringdb id: {}",
                    u.peeringdb_id
                        .map(|i| i.to_string())
                        .unwrap_or_else(|| "-".into())
                );
                println!("created by:   {}", u.creator);
                println!("superuser:    {}", u.superuser);
                println!("disabled:     {}", u.disabled);
                for (a, c) in links {
                    println!(
                        "  {} (AS{}) {} by {}{}",
                        c.shortname,
                        c.autsys,
                        a.privilege,
                        a.created_by.label(),
                        a.confirmed_at
                            .map(|t| format!(
                                ", confirmed by PeeringDB {}",
                                t.format("%Y-%m-%d %H:%M UTC")
                            ))
                            .unwrap_or_default()
                    );
                }
                println!(
                    "two-factor:   {}",
                    if extras.two_factor { "on" } else { "off" }
                );
                println!("sessions:     {}", extras.sessions);
                for b in &extras.blocks {
                    println!(
                        "  blocked from {} (AS{}): {}",
                        b.customer_shortname,
                        b.asn,
                        b.by.removed_by()
                    );
                }
            }
        }
    }
    Ok(())
}
