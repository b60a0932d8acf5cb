//! Issue 14, in process on SQLite and PostgreSQL: `/metrics` (parsed by
//! Python's `prometheus_client`), off the public listener by default;
//! `/readyz` while draining and with the database gone; request ids; the
//! client address behind trusted proxies (SPEC §5).
use crate::both_backends;
use crate::common::{Backend, Opts, TestApp, fresh_postgres, profile, spawn_with};
use crate::peeringdb::fields;
use ixp_portal::domain::{CustomerStatus as S, CustomerType as T};
use ixp_portal::peeringdb::simulator::Faults;
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::HashMap;

both_backends!(
    metrics_parse_and_count_what_matters,
    readyz_drains_and_follows_the_database,
    request_ids_and_trusted_proxies,
);

/// The families of a Prometheus text exposition as Python's
/// `prometheus_client` parser reads them: `[{name, type, samples: [[name,
/// labels, value]]}]`, or `None` (skip notice) without Python or the module.
pub fn parse_with_prometheus_client(text: &str) -> Option<Vec<Value>> {
    use std::io::Write;
    const SCRIPT: &str = r#"
import json, math, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": f.name, "type": f.type, "samples": [
        [s.name, s.labels, s.value if math.isfinite(s.value) else str(s.value)]
        for s in f.samples]})
print(json.dumps(out))
"#;
    let required = std::env::var("PORTAL_REQUIRE_DEPLOY_TOOLS").as_deref() == Ok("1");
    let have = std::process::Command::new("python3")
        .args(["-c", "import prometheus_client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        assert!(
            !required,
            "PORTAL_REQUIRE_DEPLOY_TOOLS=1 but python3 with prometheus_client is missing (pip install prometheus_client)"
        );
        eprintln!(
            "skipped: python3 with prometheus_client is not installed, so the metrics were not parsed"
        );
        return None;
    }
    let mut child = std::process::Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "prometheus_client refused the exposition: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap())
}

/// The samples named `name` (the whole sample name, such as
/// `..._total` or `..._bucket`), as (labels, value).
pub fn samples(families: &[Value], name: &str) -> Vec<(HashMap<String, String>, f64)> {
    families
        .iter()
        .flat_map(|f| f["samples"].as_array().cloned().unwrap_or_default())
        .filter(|s| s[0] == name)
        .map(|s| {
            let labels = s[1]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            (labels, s[2].as_f64().unwrap_or(f64::NAN))
        })
        .collect()
}

fn family_type(families: &[Value], name: &str) -> String {
    families
        .iter()
        .find(|f| f["name"] == name)
        .map(|f| f["type"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no family {name}"))
}

fn has(s: &[(HashMap<String, String>, f64)], labels: &[(&str, &str)]) -> bool {
    s.iter().any(|(l, v)| {
        *v >= 1.0
            && labels
                .iter()
                .all(|(k, want)| l.get(*k).map(String::as_str) == Some(*want))
    })
}

/// A PeeringDB login as the simulator's profile `index`, in a new browser.
async fn pdb_login(app: &TestApp, index: usize) -> reqwest::Response {
    let browser = crate::common::client();
    let start = browser
        .get(app.url("/auth/login/peeringdb"))
        .send()
        .await
        .unwrap();
    let authorize = crate::common::location(&start);
    let callback = app
        .provider_answer(&format!("{authorize}&user={index}"))
        .await;
    browser.get(callback).send().await.unwrap()
}

async fn metrics_parse_and_count_what_matters(b: Backend) {
    let Some(app) = spawn_with(
        b,
        Opts {
            vars: vec![("PORTAL_METRICS_ALLOW", "127.0.0.1/32, ::1".into())],
            profiles: vec![
                profile(9101, "Mia Member", &[64510]),
                profile(9102, "Nils Nobody", &[64999]),
            ],
            ..Opts::default()
        },
    )
    .await
    else {
        return;
    };
    app.with_conn(|c| {
        ixp_portal::admin::create_customer(
            c,
            "test",
            &fields("metricnet", 64510, T::Full, S::Normal),
        )
        .unwrap()
    });
    // Pages: one with an id in its path, one no route knows.
    assert_eq!(
        app.get("/staff/users/4711").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.get("/no/such/page/secret-token").await.status(),
        StatusCode::NOT_FOUND
    );
    // PeeringDB logins: a success, a refusal, a provider error.
    let ok = pdb_login(&app, 0).await;
    assert_eq!(crate::common::location(&ok), "/");
    let refused = pdb_login(&app, 1).await;
    assert_eq!(crate::common::location(&refused), "/login");
    app.sim.set_faults(Faults {
        profile_status: Some(503),
        ..Faults::default()
    });
    let failed = pdb_login(&app, 0).await;
    assert_eq!(crate::common::location(&failed), "/login");
    app.sim.set_faults(Faults::default());
    // A re-check batch.
    let report = app
        .rechecker
        .batch_under_lease(
            "metrics-test",
            0,
            ixp_portal::peeringdb::recheck::Select::All,
        )
        .await
        .unwrap()
        .expect("the lease is free");
    assert_eq!(report.checked, 1);

    // Off the public side: a request through a proxy gets 404 even from
    // an allowed address; an instance without PORTAL_METRICS_ALLOW, 404.
    let proxied = app
        .client
        .get(app.url("/metrics"))
        .header("X-Forwarded-For", "127.0.0.1")
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status(), StatusCode::NOT_FOUND);
    let r = app.get("/metrics").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = r.text().await.unwrap();
    assert!(
        !text.contains("/4711") && !text.contains("secret-token"),
        "no raw paths"
    );

    let Some(families) = parse_with_prometheus_client(&text) else {
        assert!(text.contains("ixp_portal_http_requests_total{"));
        return;
    };
    let http = samples(&families, "ixp_portal_http_requests_total");
    assert!(
        has(
            &http,
            &[
                ("route", "/staff/users/{id}"),
                ("method", "GET"),
                ("status", "303")
            ]
        ),
        "{http:?}"
    );
    assert!(has(&http, &[("route", "unmatched"), ("status", "404")]));
    assert!(has(&http, &[("route", "/auth/login/peeringdb/callback")]));
    assert_eq!(
        family_type(&families, "ixp_portal_http_request_duration_seconds"),
        "histogram"
    );
    let buckets = samples(&families, "ixp_portal_http_request_duration_seconds_bucket");
    assert!(has(
        &buckets,
        &[("route", "/staff/users/{id}"), ("le", "+Inf")]
    ));
    let logins = samples(&families, "ixp_portal_peeringdb_logins_total");
    assert!(
        has(&logins, &[("outcome", "success"), ("reason", "none")]),
        "{logins:?}"
    );
    assert!(
        has(&logins, &[("outcome", "refused"), ("reason", "no_match")]),
        "{logins:?}"
    );
    assert!(
        has(
            &logins,
            &[("outcome", "provider_error"), ("reason", "profile")]
        ),
        "{logins:?}"
    );
    let provider = samples(&families, "ixp_portal_peeringdb_requests_total");
    assert!(
        has(&provider, &[("endpoint", "token"), ("result", "ok")]),
        "{provider:?}"
    );
    assert!(has(&provider, &[("endpoint", "profile"), ("result", "ok")]));
    assert!(has(
        &provider,
        &[("endpoint", "profile"), ("result", "http_5xx")]
    ));
    let errors = samples(&families, "ixp_portal_peeringdb_errors_total");
    assert!(has(
        &errors,
        &[("endpoint", "profile"), ("kind", "http_5xx")]
    ));
    assert_eq!(
        family_type(&families, "ixp_portal_peeringdb_request_duration_seconds"),
        "histogram"
    );
    assert!(has(
        &samples(&families, "ixp_portal_recheck_batches_total"),
        &[]
    ));
    assert!(has(
        &samples(&families, "ixp_portal_recheck_users_total"),
        &[]
    ));
    let pool = samples(&families, "ixp_portal_db_pool_connections");
    assert!(pool.iter().any(|(l, _)| l["state"] == "idle"));
    assert!(pool.iter().any(|(l, _)| l["state"] == "in_use"));
    assert!(has(
        &samples(&families, "ixp_portal_db_pool_max_connections"),
        &[]
    ));
    assert!(has(
        &samples(&families, "ixp_portal_build_info"),
        &[("version", env!("CARGO_PKG_VERSION"))]
    ));

    // The default: no /metrics on the main listener.
    let plain = spawn_with(b, Opts::default()).await.expect("second app");
    assert_eq!(plain.get("/metrics").await.status(), StatusCode::NOT_FOUND);
}

/// An application whose lifecycle the test holds (to start the drain).
async fn app_with_lifecycle(
    database_url: &str,
    dir: &std::path::Path,
) -> (String, ixp_portal::observability::Lifecycle) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let vars: HashMap<&str, String> = HashMap::from([
        ("APP_URL", base.clone()),
        ("DATABASE_URL", database_url.to_string()),
        ("PORTAL_DATA_DIR", dir.display().to_string()),
    ]);
    let config = ixp_portal::config::Config::from_lookup(|k| vars.get(k).cloned()).unwrap();
    let db = ixp_portal::db::Db::open(&config.database).unwrap();
    // Migrations run where the database is usable (not the broken one).
    let _ = db.migrate();
    let app = ixp_portal::startup::build_app_with(config, db).unwrap();
    let lifecycle = app.lifecycle.clone();
    let running = ixp_portal::web::start_on(app, listener).unwrap();
    tokio::spawn(running.server);
    (base, lifecycle)
}

async fn status_of(url: &str) -> (StatusCode, Value) {
    let r = reqwest::get(url).await.unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn readyz_drains_and_follows_the_database(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let pg = match b {
        Backend::Postgres => match fresh_postgres() {
            Some(p) => Some(p),
            None => return,
        },
        Backend::Sqlite => None,
    };
    let url = match &pg {
        Some(p) => p.url.clone(),
        None => format!("sqlite:{}", dir.path().join("portal.sqlite").display()),
    };
    let (base, lifecycle) = app_with_lifecycle(&url, dir.path()).await;
    let (s, body) = status_of(&format!("{base}/readyz")).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ready");
    // Draining: not ready, but alive.
    lifecycle.begin_drain();
    let (s, body) = status_of(&format!("{base}/readyz")).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "draining");
    assert_eq!(
        status_of(&format!("{base}/healthz")).await.0,
        StatusCode::OK
    );

    // The database gone: not ready (within the short timeout).
    let (base, _l) = match &pg {
        Some(p) => {
            let (base, l) = app_with_lifecycle(&p.url, dir.path()).await;
            assert_eq!(status_of(&format!("{base}/readyz")).await.0, StatusCode::OK);
            let admin = std::env::var("PORTAL_TEST_POSTGRES_URL").unwrap();
            let name = url::Url::parse(&p.url)
                .unwrap()
                .path()
                .trim_start_matches('/')
                .to_string();
            let mut c = <diesel::PgConnection as diesel::Connection>::establish(&admin).unwrap();
            diesel::connection::SimpleConnection::batch_execute(
                &mut c,
                &format!("DROP DATABASE {name} WITH (FORCE)"),
            )
            .unwrap();
            (base, l)
        }
        None => {
            // An SQLite "database" that cannot be opened: a directory.
            let not_a_file = dir.path().join("a-directory");
            std::fs::create_dir(&not_a_file).unwrap();
            app_with_lifecycle(&format!("sqlite:{}", not_a_file.display()), dir.path()).await
        }
    };
    let started = std::time::Instant::now();
    let (s, body) = status_of(&format!("{base}/readyz")).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], "database unavailable");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "answered within the timeout"
    );
}

async fn request_ids_and_trusted_proxies(b: Backend) {
    let Some(app) = spawn_with(
        b,
        Opts {
            vars: vec![("PORTAL_TRUSTED_PROXIES", "127.0.0.1/32,::1/128".into())],
            ..Opts::default()
        },
    )
    .await
    else {
        return;
    };
    let get = |id: Option<&str>, path: &str| {
        let mut r = app.client.get(app.url(path));
        if let Some(id) = id {
            r = r.header("X-Request-Id", id);
        }
        r.send()
    };
    let id_of = |r: &reqwest::Response| {
        r.headers()
            .get("x-request-id")
            .expect("every answer has an X-Request-Id")
            .to_str()
            .unwrap()
            .to_string()
    };
    // A well-formed incoming id is kept; others are replaced.
    let r = get(Some("lb-0123_abc"), "/healthz").await.unwrap();
    assert_eq!(id_of(&r), "lb-0123_abc");
    for bad in ["has space", "semi;colon", &"x".repeat(65)] {
        let r = get(Some(bad), "/login").await.unwrap();
        let id = id_of(&r);
        assert_ne!(id, bad);
        assert_eq!(id.len(), 32);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    }
    let a = id_of(&get(None, "/login").await.unwrap());
    let c = id_of(&get(None, "/no-such-page").await.unwrap());
    assert_ne!(a, c, "a new id per request, also on 404s");

    // SPEC §5: behind a trusted proxy (this test's loopback peer), the
    // login is recorded from the right-most untrusted X-Forwarded-For hop;
    // a forged entry on its left is ignored.
    let uid = app.create_user("proxied", "correct horse battery", false);
    let token = app.csrf().await;
    let r = app
        .client
        .post(app.url("/login"))
        .header("X-Forwarded-For", "6.6.6.6, 198.51.100.7")
        .form(&[
            ("username", "proxied"),
            ("password", "correct horse battery"),
            ("csrf", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let records = app.with_conn(|c| ixp_portal::db::logins::of_user(c, uid, 10).unwrap());
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].address, "198.51.100.7");

    // Without PORTAL_TRUSTED_PROXIES the header counts for nothing.
    let plain = spawn_with(b, Opts::default()).await.expect("second app");
    let uid = plain.create_user("direct", "correct horse battery", false);
    let token = plain.csrf().await;
    let r = plain
        .client
        .post(plain.url("/login"))
        .header("X-Forwarded-For", "198.51.100.7")
        .form(&[
            ("username", "direct"),
            ("password", "correct horse battery"),
            ("csrf", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let records = plain.with_conn(|c| ixp_portal::db::logins::of_user(c, uid, 10).unwrap());
    assert_eq!(records[0].address, "127.0.0.1");
}
