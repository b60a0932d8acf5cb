//! Issue 14 with the real binary: `serve` logging JSON lines that carry the
//! request id of each answer, the metrics listener, SIGTERM during a slow
//! request (it finishes, `/readyz` turns 503, the process exits 0), and
//! `backup` while a load of logins runs, the copy then served.
use crate::common::{CLIENT_ID, CLIENT_SECRET, client, fresh_postgres, location, profile};
use crate::deploy_ops::{parse_with_prometheus_client, samples};
use ixp_portal::peeringdb::simulator::{Faults, SimConfig, Simulator};
use reqwest::StatusCode;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ixp-portal");

/// A port that was free a moment ago.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A CLI command with only these settings in its environment.
fn cli(vars: &[(&str, String)], args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("the binary runs");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn ok(out: &std::process::Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({:?}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `ixp-portal serve` as a child process; its standard error is collected
/// line by line. Killed if still running when dropped.
struct Serve {
    child: Child,
    base: String,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Serve {
    fn start(vars: &[(&str, String)]) -> Serve {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let mut cmd = Command::new(BIN);
        cmd.arg("serve")
            .env_clear()
            .env("PORTAL_BIND", format!("127.0.0.1:{port}"))
            .env("APP_URL", &base)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("serve starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Serve { child, base, lines }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn log(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits until `/healthz` answers 200.
    async fn ready(&mut self) {
        let c = client();
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = c.get(self.url("/healthz")).send().await
                && r.status() == StatusCode::OK
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("serve exited ({status}): {:#?}", self.log());
            }
            assert!(
                Instant::now() < until,
                "serve did not start: {:#?}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends SIGTERM.
    fn terminate(&self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success());
    }

    /// Waits for the process to exit.
    async fn exited(&mut self, within: Duration) -> ExitStatus {
        let until = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader thread take the last lines.
                tokio::time::sleep(Duration::from_millis(100)).await;
                return status;
            }
            assert!(
                Instant::now() < until,
                "serve did not stop within {within:?}: {:#?}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn request_id(r: &reqwest::Response) -> String {
    r.headers()["x-request-id"].to_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_request_ids_and_metrics_have_their_own_listener() {
    let dir = tempfile::tempdir().unwrap();
    let metrics_port = free_port();
    let mut serve = Serve::start(&[
        ("PORTAL_DATA_DIR", dir.path().display().to_string()),
        ("PORTAL_LOG_FORMAT", "json".into()),
        ("PORTAL_METRICS_BIND", format!("127.0.0.1:{metrics_port}")),
    ]);
    serve.ready().await;
    let c = client();
    let given = c
        .get(serve.url("/healthz"))
        .header("X-Request-Id", "deploy-test-0001")
        .send()
        .await
        .unwrap();
    assert_eq!(request_id(&given), "deploy-test-0001");
    let page = c.get(serve.url("/login")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let made = request_id(&page);
    let missing = c.get(serve.url("/nowhere")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let missing_id = request_id(&missing);
    // Metrics: on their own listener, not on the public one.
    assert_eq!(
        c.get(serve.url("/metrics")).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let scrape = c
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(scrape.status(), StatusCode::OK);
    let text = scrape.text().await.unwrap();
    if let Some(families) = parse_with_prometheus_client(&text) {
        let http = samples(&families, "ixp_portal_http_requests_total");
        assert!(
            http.iter()
                .any(|(l, _)| l["route"] == "/login" && l["status"] == "200"),
            "{http:?}"
        );
    }
    assert_eq!(
        c.get(format!("http://127.0.0.1:{metrics_port}/login"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND,
        "the metrics listener serves nothing else"
    );

    serve.terminate();
    let status = serve.exited(Duration::from_secs(40)).await;
    assert!(status.success(), "exit status {status}");
    let log = serve.log();
    assert!(log.len() > 5, "{log:#?}");
    let mut objects = Vec::new();
    for line in &log {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        assert!(v.is_object(), "{line}");
        assert!(
            v["timestamp"].is_string() && v["level"].is_string(),
            "{line}"
        );
        objects.push(v);
    }
    let of_request = |id: &str| {
        objects
            .iter()
            .filter(|v| v["span"]["request_id"] == id)
            .cloned()
            .collect::<Vec<_>>()
    };
    for id in ["deploy-test-0001", made.as_str(), missing_id.as_str()] {
        let lines = of_request(id);
        assert!(
            lines.iter().any(|v| v["fields"]["message"] == "request"),
            "the request line of {id} carries its id: {log:#?}"
        );
    }
    let page_line = of_request(&made)
        .into_iter()
        .find(|v| v["fields"]["message"] == "request")
        .unwrap();
    assert_eq!(page_line["fields"]["path"], "/login");
    assert_eq!(page_line["fields"]["status"], 200);
    let messages: Vec<&str> = objects
        .iter()
        .filter_map(|v| v["fields"]["message"].as_str())
        .collect();
    assert!(messages.contains(&"metrics listening (GET /metrics)"));
    assert!(messages.contains(&"stopped cleanly"), "{messages:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_slow_request_finish_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("portal.sqlite").display());
    let base_vars = vec![
        ("DATABASE_URL", db.clone()),
        ("PORTAL_DATA_DIR", dir.path().display().to_string()),
    ];
    ok(
        &cli(
            &base_vars,
            &[
                "customer",
                "create",
                "--name",
                "Slow Networks",
                "--shortname",
                "slownet",
                "--asn",
                "64520",
                "--type",
                "full",
                "--status",
                "normal",
            ],
            None,
        ),
        "customer create",
    );
    // PeeringDB that takes 3 seconds to issue a token: a request slow by nature.
    let sim = Simulator::new(
        SimConfig {
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            redirect_uris: vec![],
        },
        vec![profile(9201, "Sam Slow", &[64520])],
    );
    let sim_running = sim.start("127.0.0.1:0".parse().unwrap()).unwrap();
    let sim_base = format!("http://{}", sim_running.addr);
    tokio::spawn(sim_running.server);
    sim.set_faults(Faults {
        token_delay: Some(Duration::from_secs(3)),
        ..Faults::default()
    });
    let mut vars = base_vars.clone();
    vars.extend([
        ("AUTH_PEERINGDB_ENABLED", "true".to_string()),
        ("PEERINGDB_OAUTH_CLIENT_ID", CLIENT_ID.into()),
        ("PEERINGDB_OAUTH_CLIENT_SECRET", CLIENT_SECRET.into()),
        ("PEERINGDB_OAUTH_BASE_URL", sim_base),
        ("PORTAL_DRAIN_DELAY", "1".into()),
    ]);
    let mut serve = Serve::start(&vars);
    serve.ready().await;

    let browser = client();
    let start = browser
        .get(serve.url("/auth/login/peeringdb"))
        .send()
        .await
        .unwrap();
    let authorize = location(&start);
    let answer = client()
        .get(format!("{authorize}&user=0"))
        .send()
        .await
        .unwrap();
    let callback = location(&answer);
    assert!(
        callback.contains("/auth/login/peeringdb/callback?"),
        "{callback}"
    );
    let slow = tokio::spawn({
        let browser = browser.clone();
        async move {
            let started = Instant::now();
            let r = browser.get(callback).send().await;
            (r, started.elapsed())
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let signalled = Instant::now();
    serve.terminate();

    // While draining (PORTAL_DRAIN_DELAY=1): /readyz 503, /healthz 200.
    let mut saw_draining = false;
    while signalled.elapsed() < Duration::from_millis(900) {
        if let Ok(r) = client().get(serve.url("/readyz")).send().await
            && r.status() == StatusCode::SERVICE_UNAVAILABLE
        {
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["status"], "draining");
            saw_draining = true;
            let alive = client().get(serve.url("/healthz")).send().await.unwrap();
            assert_eq!(alive.status(), StatusCode::OK);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(saw_draining, "/readyz answered 503 during the drain");

    // The slow request ends with its normal answer: signed in.
    let (r, took) = slow.await.unwrap();
    let r = r.expect("the request in flight is answered");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/");
    assert!(took >= Duration::from_secs(2), "it was slow: {took:?}");
    // After the drain the listener is closed.
    let refused = client()
        .get(serve.url("/healthz"))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(refused.is_err(), "no new connections after the drain");

    let status = serve.exited(Duration::from_secs(40)).await;
    assert_eq!(status.code(), Some(0), "exit status {status}");
    let log = serve.log().join("\n");
    assert!(log.contains("stopping"), "{log}");
    assert!(log.contains("stopped cleanly"), "{log}");
    // Signed in for real: the login was recorded before the exit.
    let users = ok(
        &cli(&base_vars, &["user", "list", "--json"], None),
        "user list",
    );
    assert!(users.contains("\"peeringdb_id\": 9201"), "{users}");
}

/// Signs in with a password through the login form; the answer.
async fn password_login(base: &str, username: &str, password: &str) -> reqwest::Response {
    let c = client();
    let page = c
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = crate::common::csrf_of(&page);
    c.post(format!("{base}/login"))
        .form(&[
            ("username", username),
            ("password", password),
            ("csrf", token.as_str()),
        ])
        .send()
        .await
        .unwrap()
}

fn usernames(json: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(json).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_under_load_opens_and_serves_the_same_users() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("portal.sqlite").display());
    let vars = vec![
        ("DATABASE_URL", db.clone()),
        ("PORTAL_DATA_DIR", dir.path().display().to_string()),
    ];
    let password = "correct horse battery staple";
    let initial: Vec<String> = (0..4).map(|i| format!("load{i}")).collect();
    for name in &initial {
        let email = format!("{name}@example.net");
        ok(
            &cli(
                &vars,
                &[
                    "user",
                    "create",
                    "--username",
                    name,
                    "--email",
                    &email,
                    "--name",
                    name,
                    "--password-stdin",
                ],
                Some(password),
            ),
            "user create",
        );
    }
    let mut serve = Serve::start(&vars);
    serve.ready().await;

    // The load: logins (each writes a session and a login record) and
    // pages, from four clients, until told to stop (bounded anyway).
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for name in initial.clone() {
        let (base, stop) = (serve.base.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            let mut logins = 0;
            let until = Instant::now() + Duration::from_secs(60);
            while !stop.load(std::sync::atomic::Ordering::SeqCst) && Instant::now() < until {
                let r = password_login(&base, &name, "correct horse battery staple").await;
                assert_eq!(r.status(), StatusCode::SEE_OTHER, "login under load");
                logins += 1;
                let _ = client().get(format!("{base}/healthz")).send().await;
            }
            logins
        }));
    }
    // More users made by another process meanwhile.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let backup = dir.path().join("backups").join("portal-copy.sqlite");
    std::fs::create_dir(dir.path().join("backups")).unwrap();
    let (extra_vars, extra_pw) = (vars.clone(), password.to_string());
    let extra = tokio::task::spawn_blocking(move || {
        for i in 0..3 {
            let name = format!("extra{i}");
            let email = format!("{name}@example.net");
            ok(
                &cli(
                    &extra_vars,
                    &[
                        "user",
                        "create",
                        "--username",
                        &name,
                        "--email",
                        &email,
                        "--name",
                        &name,
                        "--password-stdin",
                    ],
                    Some(&extra_pw),
                ),
                "user create during the load",
            );
        }
    });
    let backup_arg = backup.display().to_string();
    let out = tokio::task::spawn_blocking({
        let vars = vars.clone();
        move || cli(&vars, &["backup", "--to", &backup_arg], None)
    })
    .await
    .unwrap();
    let said = ok(&out, "backup during the load");
    assert!(said.contains("user(s)"), "{said}");
    extra.await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut logins = 0;
    for t in load {
        logins += t.await.unwrap();
    }
    assert!(logins >= 4, "the load ran ({logins} logins)");

    let mode = std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the backup is private");
    // Never over an existing file.
    let again = cli(
        &vars,
        &["backup", "--to", &backup.display().to_string()],
        None,
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));

    serve.terminate();
    assert!(serve.exited(Duration::from_secs(40)).await.success());
    let live = usernames(&ok(
        &cli(&vars, &["user", "list", "--json"], None),
        "user list",
    ));

    // The copy opens as a database of its own with the same users (those
    // made before the backup started, and none that never existed).
    let restored_dir = tempfile::tempdir().unwrap();
    let copy_vars = vec![
        ("DATABASE_URL", backup.display().to_string()),
        ("PORTAL_DATA_DIR", restored_dir.path().display().to_string()),
    ];
    let copied = usernames(&ok(
        &cli(&copy_vars, &["user", "list", "--json"], None),
        "user list on the copy",
    ));
    for name in &initial {
        assert!(copied.contains(name), "{name} is in the copy: {copied:?}");
    }
    for name in &copied {
        assert!(live.contains(name), "{name} in the copy but not live");
    }
    // Served: every initial user signs in on the copy.
    let mut copy = Serve::start(&copy_vars);
    copy.ready().await;
    for name in &initial {
        let r = password_login(&copy.base, name, password).await;
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "{name} signs in on the copy"
        );
        assert_eq!(location(&r), "/");
    }
    copy.terminate();
    assert!(copy.exited(Duration::from_secs(40)).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(portal_test_postgres),
    ignore = "PORTAL_TEST_POSTGRES_URL was unset when the tests were built"
)]
async fn backup_on_postgresql_points_to_pg_dump() {
    let Some(pg) = fresh_postgres() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("copy.sqlite");
    let out = cli(
        &[
            ("DATABASE_URL", pg.url.clone()),
            ("PORTAL_DATA_DIR", dir.path().display().to_string()),
        ],
        &["backup", "--to", &to.display().to_string()],
        None,
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("pg_dump") && err.contains("pg_restore"),
        "{err}"
    );
    assert!(
        !err.contains("postgres://"),
        "no database URL (it may hold a password) in the message"
    );
    assert!(!to.exists());
}
