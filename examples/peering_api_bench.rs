//! Peering API benchmark: session requests per second (new sessions, and
//! repeated requests that return the existing ones) and `GET /sessions`
//! latency with 10,000 sessions stored. The real application on port 0,
//! on SQLite (a temp file) or on PostgreSQL (`BENCH_DATABASE_URL`).
//!
//!     cargo run --release --example peering_api_bench
//!     BENCH_DATABASE_URL=postgres://… cargo run --release --example peering_api_bench
use ixp_portal::admin::{self, api_keys, peering};
use ixp_portal::config::Config;
use ixp_portal::db::models::{CustomerFields, now};
use ixp_portal::db::peering_sessions::{self, NewSession};
use ixp_portal::db::{Db, DbConnection, connections, lans, write_tx};
use ixp_portal::domain::{Asn, CustomerStatus, CustomerType};
use serde_json::json;
use std::collections::HashMap;
use std::net::TcpListener;
use std::time::{Duration, Instant};

const CUSTOMERS: usize = 3500;
const STORED: usize = 10_000;
const REQUESTS: usize = 1000;
const CONCURRENCY: usize = 16;

fn customer(i: usize) -> CustomerFields {
    CustomerFields {
        name: format!("Member {i}"),
        shortname: format!("m{i}"),
        autsys: Asn::new(100_000 + i as i64).expect("valid"),
        cust_type: CustomerType::Full,
        status: CustomerStatus::Normal,
        date_joined: None,
        date_left: None,
        peeringdb_oauth: true,
    }
}

/// Member i's addresses on the /20 and /64.
fn v4(i: usize) -> String {
    let h = 10 + i;
    format!("10.0.{}.{}", h / 256, h % 256)
}
fn v6(i: usize) -> String {
    format!("2001:db8::{:x}", 0x10 + i)
}

fn seed(c: &mut DbConnection) -> anyhow::Result<Vec<(Asn, String)>> {
    let e = |e: admin::AdminError| anyhow::anyhow!("{e}");
    peering::set_ixp(
        c,
        "bench",
        &peering::IxpInput {
            name: "Bench IX".into(),
            shortname: "BIX".into(),
            ixf_id: "1".into(),
            peeringdb_ix_id: "1".into(),
            country: "NL".into(),
            support_email: "noc@bench.example".into(),
        },
    )
    .map_err(e)?;
    let lan = peering::save_lan(
        c,
        "bench",
        None,
        &peering::LanInput {
            name: "lan".into(),
            vlan_id: "1".into(),
            ipv4_prefix: "10.0.0.0/20".into(),
            ipv6_prefix: "2001:db8::/64".into(),
        },
    )
    .map_err(e)?;
    for (name, n) in [("rs1", 1), ("rs2", 2)] {
        peering::save_route_server(
            c,
            "bench",
            None,
            &peering::RouteServerInput {
                lan_id: lan.to_string(),
                name: name.into(),
                asn: "64999".into(),
                ipv4_address: format!("10.0.0.{n}"),
                ipv6_address: format!("2001:db8::{n}"),
            },
        )
        .map_err(e)?;
    }
    let mut keys = Vec::new();
    write_tx(c, |c| -> anyhow::Result<()> {
        for i in 0..CUSTOMERS {
            let f = customer(i);
            let id = ixp_portal::db::customers::create(c, &f)?;
            connections::create(
                c,
                &connections::ConnectionFields {
                    customer_id: id,
                    lan_id: lan,
                    ipv4_address: Some(v4(i)),
                    ipv6_address: Some(v6(i)),
                    mac_addresses: String::new(),
                    speed_mbps: 10000,
                    max_prefixes_v4: None,
                    max_prefixes_v6: None,
                    as_set: None,
                    rs_client: true,
                },
            )?;
        }
        Ok(())
    })?;
    // 10,000 stored sessions: both route servers, both families, for the
    // first 2,500 members.
    let rs = lans::route_servers(c)?;
    let conns: HashMap<i64, i64> = connections::all(c)?
        .into_iter()
        .map(|cn| (cn.customer_id, cn.id))
        .collect();
    let custs = ixp_portal::db::customers::all(c)?;
    let by_short: HashMap<String, (i64, Asn)> = custs
        .iter()
        .map(|cu| (cu.shortname.clone(), (cu.id, cu.autsys)))
        .collect();
    write_tx(c, |c| -> anyhow::Result<()> {
        let t = now();
        let mut n = 0;
        'outer: for i in 0..CUSTOMERS {
            let (cid, asn) = by_short[&format!("m{i}")];
            for r in &rs {
                for (fam, mip, rip) in [
                    (4, v4(i), r.ipv4_address.clone().unwrap_or_default()),
                    (6, v6(i), r.ipv6_address.clone().unwrap_or_default()),
                ] {
                    if n == STORED {
                        break 'outer;
                    }
                    peering_sessions::insert(
                        c,
                        &NewSession {
                            session_id: format!("ps-bench-{n}"),
                            customer_id: cid,
                            connection_id: conns[&cid],
                            route_server_id: r.id,
                            family: fam,
                            member_asn: asn,
                            member_ip: mip,
                            rs_asn: r.asn,
                            rs_ip: rip,
                            rs_is_local: false,
                            location_id: "pdb:ix:1".into(),
                            status: "approved".into(),
                            requested_by: "bench".into(),
                            created_at: t,
                            updated_at: t,
                        },
                    )?;
                    n += 1;
                }
            }
        }
        Ok(())
    })?;
    // API keys for the members without sessions (new requests) and for
    // member 0 (listing).
    for i in std::iter::once(0).chain(CUSTOMERS - REQUESTS..CUSTOMERS) {
        let cu = ixp_portal::db::customers::by_shortname(c, &format!("m{i}"))?
            .ok_or_else(|| anyhow::anyhow!("seeded"))?;
        let (_, key) = api_keys::create(c, "bench", Some(&cu), "bench").map_err(e)?;
        keys.push((cu.autsys, key));
    }
    Ok(keys)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// Clients from as many loopback addresses (127.0.1.1, …): members call
/// from their own addresses, and the API's rate limit counts per address
/// (120 `POST /sessions` a minute), which one address would exceed here.
const ADDRESSES: usize = 128;

fn clients() -> anyhow::Result<Vec<reqwest::Client>> {
    (0..ADDRESSES)
        .map(|i| {
            let addr = std::net::Ipv4Addr::new(127, 0, 1 + (i / 250) as u8, 1 + (i % 250) as u8);
            Ok(reqwest::Client::builder()
                .local_address(Some(addr.into()))
                .build()?)
        })
        .collect()
}

async fn run_requests(
    base: &str,
    clients: &[reqwest::Client],
    jobs: Vec<(String, serde_json::Value)>,
) -> anyhow::Result<(f64, Vec<Duration>)> {
    let jobs: Vec<_> = jobs
        .into_iter()
        .enumerate()
        .map(|(i, (key, body))| (clients[i % clients.len()].clone(), key, body))
        .collect();
    let jobs = std::sync::Arc::new(tokio::sync::Mutex::new(jobs));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (jobs, url) = (jobs.clone(), format!("{base}/api/peering/v1/sessions"));
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let Some((client, key, body)) = jobs.lock().await.pop() else {
                    break;
                };
                let t = Instant::now();
                let r = client
                    .post(&url)
                    .bearer_auth(&key)
                    .json(&body)
                    .send()
                    .await?;
                let ok = r.status().is_success();
                let _ = r.bytes().await?;
                anyhow::ensure!(ok, "a session request failed");
                lat.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await??);
    }
    let n = lat.len() as f64;
    lat.sort();
    Ok((n / start.elapsed().as_secs_f64(), lat))
}

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite:{}", dir.path().join("bench.sqlite").display()));
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let base = format!("http://{}", listener.local_addr()?);
    let vars: HashMap<&str, String> = HashMap::from([
        ("APP_URL", base.clone()),
        ("DATABASE_URL", url.clone()),
        ("PORTAL_DATA_DIR", dir.path().display().to_string()),
    ]);
    let config = Config::from_lookup(|k| vars.get(k).cloned())?;
    let db = Db::open(&config.database)?;
    db.migrate()?;
    let t = Instant::now();
    let keys = seed(&mut *db.conn()?)?;
    eprintln!(
        "seeded {CUSTOMERS} members and {STORED} sessions in {:.1?}",
        t.elapsed()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let app = ixp_portal::startup::build_app_with(config, db)?;
        let running = ixp_portal::web::start_on(app, listener)?;
        tokio::spawn(running.server);
        let backend = if url.starts_with("postgres") { "postgresql" } else { "sqlite" };
        // New sessions: one request per member, one item each.
        let jobs: Vec<_> = keys[1..]
            .iter()
            .map(|(asn, key)| {
                let i = (asn.get() - 100_000) as usize;
                (key.clone(), json!([{"local_asn": asn, "local_ip": v4(i), "peer_asn": 64999, "peer_ip": "10.0.0.1", "location": {"id": "pdb:ix:1", "type": "public"}}]))
            })
            .collect();
        let again = jobs.clone();
        let clients = clients()?;
        let (rps, lat) = run_requests(&base, &clients, jobs).await?;
        println!("| {backend} | POST /sessions, new session (1 item), {CONCURRENCY} clients | {rps:.0} req/s | p50 {:.1} ms | p99 {:.1} ms |", pct(&lat, 0.5), pct(&lat, 0.99));
        let (rps, lat) = run_requests(&base, &clients, again).await?;
        println!("| {backend} | POST /sessions, existing session (1 item), {CONCURRENCY} clients | {rps:.0} req/s | p50 {:.1} ms | p99 {:.1} ms |", pct(&lat, 0.5), pct(&lat, 0.99));
        // GET /sessions with 10,000+ sessions stored, one client.
        let (asn, key) = keys[0].clone();
        let client = reqwest::Client::new();
        let mut lat = Vec::new();
        for _ in 0..500 {
            let t = Instant::now();
            let r = client
                .get(format!("{base}/api/peering/v1/sessions?asn={asn}"))
                .bearer_auth(&key)
                .send()
                .await?;
            anyhow::ensure!(r.status().is_success(), "GET /sessions failed");
            let _ = r.bytes().await?;
            lat.push(t.elapsed());
        }
        lat.sort();
        println!("| {backend} | GET /sessions?asn=… with {STORED}+ sessions stored, 1 client | {:.0} req/s | p50 {:.2} ms | p99 {:.2} ms |", 500.0 / lat.iter().map(Duration::as_secs_f64).sum::<f64>(), pct(&lat, 0.5), pct(&lat, 0.99));
        Ok::<_, anyhow::Error>(())
    })
}
