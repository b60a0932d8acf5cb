//! `ixp-portal demo`: the portal on a fresh SQLite file with sample members
//! covering every eligibility rule, a superuser, and the PeeringDB simulator
//! with sample identities (`demo_identities`), so Login with PeeringDB can
//! be tried without an account on PeeringDB. The re-check of SPEC §6.3 runs
//! every minute, so that what staff change shows within minutes.
use crate::admin::{self, NewStaffUser};
use crate::config::Config;
use crate::db::audit::ACTOR_CLI;
use crate::db::models::CustomerFields;
use crate::db::{Db, DbConnection};
use crate::domain::{Asn, CustomerStatus as S, CustomerType as T, Email, Username};
use crate::peeringdb::simulator::{SimConfig, Simulator};
use chrono::NaiveDate;
use clap::Args;
use std::collections::HashMap;
use std::path::PathBuf;

#[derive(Args)]
pub struct DemoArgs {
    /// Where the portal listens.
    #[arg(long, env = "PORTAL_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Where the PeeringDB simulator listens.
    #[arg(long, default_value = "127.0.0.1:8081")]
    pub peeringdb_bind: String,
    /// The demo's data directory; its database is made anew at each start.
    #[arg(long, default_value = "./data/demo")]
    pub data_dir: PathBuf,
}

const CLIENT_ID: &str = "ixp-portal-demo";
const CLIENT_SECRET: &str = "ixp-portal-demo-secret";
/// The demo's re-check: every minute, for links confirmed over a minute ago.
const RECHECK_SECONDS: &str = "60";

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

/// Sample customers: one per eligibility rule, and two sharing an ASN.
pub fn sample_customers() -> Vec<CustomerFields> {
    let c = |name: &str, short: &str, asn: i64, t, s, left: Option<NaiveDate>, oauth: bool| {
        CustomerFields {
            name: name.into(),
            shortname: short.into(),
            autsys: Asn::new(asn).unwrap_or_else(|| unreachable!("sample ASNs are valid")),
            cust_type: t,
            status: s,
            date_joined: date(2019, 3, 1),
            date_left: left,
            peeringdb_oauth: oauth,
        }
    };
    vec![
        c(
            "Example Networks",
            "examplenet",
            64500,
            T::Full,
            S::Normal,
            None,
            true,
        ),
        c(
            "Community Wireless (pro-bono)",
            "commwifi",
            64501,
            T::ProBono,
            S::Normal,
            None,
            true,
        ),
        c(
            "Private Telecom (opted out)",
            "privtel",
            64502,
            T::Full,
            S::Normal,
            None,
            false,
        ),
        c(
            "Suspended Transit",
            "susptransit",
            64503,
            T::Full,
            S::Suspended,
            None,
            true,
        ),
        c(
            "Departed Carrier (left)",
            "departed",
            64504,
            T::Full,
            S::Normal,
            date(2024, 6, 30),
            true,
        ),
        c(
            "Associate Consulting",
            "assocconsult",
            64505,
            T::Associate,
            S::Normal,
            None,
            true,
        ),
        c(
            "Not Yet Connected ISP",
            "notyet",
            64506,
            T::Full,
            S::NotConnected,
            None,
            true,
        ),
        c(
            "Shared Hosting North",
            "sharednorth",
            64507,
            T::Full,
            S::Normal,
            None,
            true,
        ),
        c(
            "Shared Hosting South",
            "sharedsouth",
            64507,
            T::Full,
            S::Normal,
            None,
            true,
        ),
        c(
            "IXP Route Servers (internal)",
            "ixprs",
            64508,
            T::Internal,
            S::Normal,
            None,
            true,
        ),
    ]
}

pub use crate::demo_identities::sample_profiles;

/// Loads the sample customers into an empty database.
pub fn seed(conn: &mut DbConnection) -> anyhow::Result<()> {
    for c in sample_customers() {
        admin::create_customer(conn, ACTOR_CLI, &c)?;
    }
    Ok(())
}

/// Printed at start-up: how to see access follow PeeringDB (SPEC §6).
const RECHECK_HINT: &[&str] = &[
    "  re-check:            PeeringDB-made links are re-checked every minute here (by default hourly,",
    "                       for links confirmed over a day ago); changes show in this log and in the",
    "                       audit log (actor peeringdb-recheck). The simulator's profiles cannot be",
    "                       edited, so change the portal side instead, as staff at /staff/customers:",
    "                       untick \"Allow login via PeeringDB OAuth\" on Example Networks and its",
    "                       PeeringDB-made links go at once; tick it on Private Telecom, or lift Bob's",
    "                       block, and within about two minutes the re-check links Oscar or Bob (once",
    "                       they have signed in with PeeringDB), without a login.",
];

pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    let db_path = args.data_dir.join("demo.sqlite");
    std::fs::create_dir_all(&args.data_dir)?;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db_path.display()));
    }
    let sim_bind: std::net::SocketAddr = args.peeringdb_bind.parse().map_err(|_| {
        anyhow::anyhow!(
            "--peeringdb-bind {:?} is not an address",
            args.peeringdb_bind
        )
    })?;
    let vars: HashMap<&str, String> = HashMap::from([
        ("PORTAL_BIND", args.bind.clone()),
        ("APP_URL", format!("http://{}", args.bind)),
        ("DATABASE_URL", format!("sqlite:{}", db_path.display())),
        ("PORTAL_DATA_DIR", args.data_dir.display().to_string()),
        ("AUTH_PEERINGDB_ENABLED", "true".into()),
        ("PEERINGDB_OAUTH_CLIENT_ID", CLIENT_ID.into()),
        ("PEERINGDB_OAUTH_CLIENT_SECRET", CLIENT_SECRET.into()),
        ("PEERINGDB_OAUTH_BASE_URL", format!("http://{sim_bind}")),
        ("AUTH_PEERINGDB_RECHECK_INTERVAL", RECHECK_SECONDS.into()),
        ("AUTH_PEERINGDB_RECHECK_AFTER", RECHECK_SECONDS.into()),
    ]);
    let config = Config::from_lookup(|k| vars.get(k).cloned())?;
    let db = Db::open(&config.database)?;
    db.migrate()?;
    let password = crate::auth::token::generated_password();
    {
        let mut conn = db.conn()?;
        seed(&mut conn)?;
        crate::demo_peering::seed(&mut conn)?;
        crate::demo_identities::seed(&mut conn)?;
        let hash = admin::hash_password(&password)?;
        admin::create_user(
            &mut conn,
            ACTOR_CLI,
            &NewStaffUser {
                username: Username::parse("admin")?,
                email: Email::parse("noc@ixp.example")?,
                name: "IXP Staff".into(),
                superuser: true,
            },
            &hash,
        )?;
    }
    let sim = Simulator::new(
        SimConfig {
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            redirect_uris: vec![config.url_for(crate::config::CALLBACK_PATH)],
        },
        sample_profiles(),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let sim_running = sim.start(sim_bind)?;
        let app = crate::startup::build_app_with(config.clone(), db)?;
        crate::startup::start_background(&app);
        let running = crate::web::start(app)?;
        println!();
        println!("  ixp-portal demo");
        println!("  portal:              {}", config.app_url);
        println!("  PeeringDB simulator: http://{}", sim_running.addr);
        println!("  staff sign-in:       admin / {password}");
        println!(
            "  members:             click \"Login with PeeringDB\" and pick a sample identity"
        );
        println!(
            "                       (start with Jane, then Carla, the admin of Example Networks)"
        );
        for line in RECHECK_HINT {
            println!("{line}");
        }
        println!(
            "  peering:             /staff/peering, /participants.json, /api/peering/v1/openapi.json"
        );
        println!(
            "  data:                {} (made anew at each start)",
            args.data_dir.display()
        );
        println!();
        let (a, b) = tokio::join!(sim_running.server, running.server);
        a?;
        b?;
        Ok(())
    })
}
