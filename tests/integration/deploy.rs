//! Issue 14: the files under `deploy/` and the `Containerfile`, each checked
//! by its own tool where the tool is installed (`systemd-analyze verify`,
//! `nginx -t`, `caddy validate`, `hadolint`), and by structure always.
//! Without a tool a test prints a skip notice, unless
//! `PORTAL_REQUIRE_DEPLOY_TOOLS=1` (set by `.ci/run`, which installs them)
//! makes that a failure.
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository's root.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The tool on the `PATH`, or `None` after a skip notice (a failure when
/// `PORTAL_REQUIRE_DEPLOY_TOOLS=1`).
pub fn tool(name: &str, what: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("PORTAL_REQUIRE_DEPLOY_TOOLS").as_deref() != Ok("1"),
            "PORTAL_REQUIRE_DEPLOY_TOOLS=1 but `{name}` is not installed ({what})"
        );
        eprintln!("skipped: `{name}` is not installed, so {what} did not run");
    }
    found
}

/// `KEY=value` settings of a systemd unit (all values of a key).
fn directives(unit: &str) -> Vec<(String, String)> {
    unit.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.starts_with('['))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn value<'a>(d: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    d.iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn systemd_unit_is_hardened_and_verifies() {
    for name in ["ixp-portal.service", "ixp-portal@.service"] {
        let unit = read(&format!("deploy/{name}"));
        let d = directives(&unit);
        let one = |k: &str| -> &str {
            let v = value(&d, k);
            assert_eq!(v.len(), 1, "{name}: one {k}= expected, found {v:?}");
            v[0]
        };
        assert_eq!(one("User"), "ixp-portal", "{name}: a dedicated user");
        assert_eq!(one("StateDirectory"), "ixp-portal");
        assert_eq!(one("StateDirectoryMode"), "0700");
        assert!(value(&d, "Environment").contains(&"PORTAL_DATA_DIR=/var/lib/ixp-portal"));
        assert!(value(&d, "EnvironmentFile").contains(&"/etc/ixp-portal/ixp-portal.env"));
        assert_eq!(one("ExecStart"), "/usr/local/bin/ixp-portal serve");
        for (k, v) in [
            ("NoNewPrivileges", "yes"),
            ("ProtectSystem", "strict"),
            ("ProtectHome", "yes"),
            ("PrivateTmp", "yes"),
            ("PrivateDevices", "yes"),
            ("CapabilityBoundingSet", ""),
            ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
            ("RestrictNamespaces", "yes"),
            ("MemoryDenyWriteExecute", "yes"),
            ("SystemCallArchitectures", "native"),
            ("UMask", "0077"),
            ("KillSignal", "SIGTERM"),
        ] {
            assert_eq!(one(k), v, "{name}: {k}");
        }
        // The drain (PORTAL_DRAIN_DELAY up to a few seconds) plus the 30 s
        // for requests in flight fit in the stop timeout.
        let stop: u64 = one("TimeoutStopSec").parse().unwrap();
        assert!(stop > 30, "{name}: TimeoutStopSec={stop}");
    }
    let backup = read("deploy/ixp-portal-backup.service");
    assert!(backup.contains("ixp-portal backup --to"));
    assert!(read("deploy/ixp-portal-backup.timer").contains("OnCalendar="));

    let Some(analyze) = tool(
        "systemd-analyze",
        "`systemd-analyze verify` of deploy/*.service",
    ) else {
        return;
    };
    // `verify` insists that ExecStart's binary exists: copies point at the
    // binary under test.
    let dir = tempfile::tempdir().unwrap();
    let mut units = Vec::new();
    for name in [
        "ixp-portal.service",
        "ixp-portal@.service",
        "ixp-portal-backup.service",
        "ixp-portal-backup.timer",
    ] {
        let text = read(&format!("deploy/{name}")).replace(
            "/usr/local/bin/ixp-portal",
            env!("CARGO_BIN_EXE_ixp-portal"),
        );
        std::fs::write(dir.path().join(name), text).unwrap();
        units.push(dir.path().join(name));
    }
    // An instance of the template, as `systemctl start ixp-portal@1` makes.
    units.push(dir.path().join("ixp-portal@1.service"));
    let out = Command::new(&analyze)
        .arg("verify")
        .args(&units)
        .env("SYSTEMD_LOG_COLOR", "0")
        .output()
        .expect("systemd-analyze runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "systemd-analyze verify failed: {err}");
    // It only warns about unknown or malformed settings: any word about
    // our files is a failure.
    let ours: Vec<&str> = err.lines().filter(|l| l.contains("ixp-portal")).collect();
    assert!(
        ours.is_empty(),
        "systemd-analyze verify complained: {ours:#?}"
    );
    // systemd's own rating of the sandbox: exposure at most 2.0 of 10 ("OK").
    for unit in ["ixp-portal.service", "ixp-portal@1.service"] {
        let out = Command::new(&analyze)
            .args(["security", "--offline=true", "--threshold=20", "--no-pager"])
            .arg(dir.path().join(unit))
            .output()
            .expect("systemd-analyze security runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{unit}: exposure above 2.0: {}{}",
            text.lines().last().unwrap_or_default(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The instructions of a Containerfile, continuation lines joined.
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('#') || (t.is_empty() && current.is_empty()) {
            continue;
        }
        current.push_str(t.trim_end_matches('\\'));
        current.push(' ');
        if !t.ends_with('\\') {
            let (op, rest) = current
                .trim()
                .split_once(' ')
                .unwrap_or((current.trim(), ""));
            out.push((op.to_ascii_uppercase(), rest.trim().to_string()));
            current.clear();
        }
    }
    out
}

/// Is `path` (relative) in the build context that `.dockerignore` leaves?
fn in_context(ignore: &str, path: &str) -> bool {
    // Later lines win; `!` re-includes. Patterns here are `*` and names.
    let mut included = true;
    for rule in ignore.lines().map(str::trim) {
        if rule.is_empty() || rule.starts_with('#') {
            continue;
        }
        let (negate, pat) = match rule.strip_prefix('!') {
            Some(p) => (true, p.trim_end_matches('/')),
            None => (false, rule.trim_end_matches('/')),
        };
        let hit = pat == "*" || path == pat || path.starts_with(&format!("{pat}/"));
        if hit {
            included = negate;
        }
    }
    included
}

#[test]
fn containerfile_builds_from_the_repository_and_lints() {
    let text = read("Containerfile");
    let ins = instructions(&text);
    let froms: Vec<&str> = ins
        .iter()
        .filter(|(op, _)| op == "FROM")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(froms.len(), 2, "multi-stage: {froms:?}");
    assert!(froms[0].contains("library/rust:") && froms[0].ends_with(" AS build"));
    assert!(
        froms[1].contains("debian:") && froms[1].contains("slim"),
        "a small base"
    );
    let runtime_start = ins.iter().rposition(|(op, _)| op == "FROM").unwrap();
    let runtime = &ins[runtime_start..];
    let get = |op: &str| -> Vec<&str> {
        runtime
            .iter()
            .filter(|(o, _)| o == op)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let user = get("USER");
    assert_eq!(user.len(), 1);
    let uid = user[0].split(':').next().unwrap();
    assert!(
        uid.parse::<u32>().is_ok_and(|u| u >= 1000),
        "a numeric non-root user: {uid}"
    );
    assert_eq!(get("VOLUME"), ["[\"/var/lib/ixp-portal\"]"]);
    let health = get("HEALTHCHECK");
    assert_eq!(health.len(), 1);
    assert!(
        health[0].contains("http://127.0.0.1:8080/healthz"),
        "{health:?}"
    );
    let env = get("ENV").join(" ");
    assert!(env.contains("PORTAL_DATA_DIR=/var/lib/ixp-portal"));
    assert!(env.contains("PORTAL_BIND=0.0.0.0:8080"));
    assert_eq!(get("STOPSIGNAL"), ["SIGTERM"]);
    // Everything the build stage copies is in the repository and in the
    // build context, and covers what the binary embeds.
    let ignore = read(".dockerignore");
    let mut copied = Vec::new();
    for (op, v) in &ins[..runtime_start] {
        if op != "COPY" {
            continue;
        }
        let parts: Vec<&str> = v.split_whitespace().collect();
        for src in &parts[..parts.len() - 1] {
            let src = src.trim_start_matches("./");
            assert!(repo(src).exists(), "COPY {src}: not in the repository");
            assert!(
                in_context(&ignore, src),
                "COPY {src}: excluded by .dockerignore"
            );
            copied.push(src.to_string());
        }
    }
    for needed in [
        "Cargo.toml",
        "Cargo.lock",
        "src",
        "migrations",
        "templates",
        "static",
    ] {
        assert!(
            copied.iter().any(|c| c == needed),
            "the build needs {needed}"
        );
    }
    for secret in [".env", "data", "target", ".git"] {
        assert!(
            !in_context(&ignore, secret),
            "{secret} must stay out of the image"
        );
    }
    assert!(
        text.contains("--locked"),
        "builds with the committed Cargo.lock"
    );

    let Some(hadolint) = tool("hadolint", "the Containerfile lint (hadolint)") else {
        return;
    };
    let out = Command::new(hadolint)
        .arg("--no-color")
        .arg(repo("Containerfile"))
        .output()
        .expect("hadolint runs");
    assert!(
        out.status.success(),
        "hadolint: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The `PORTAL_TRUSTED_PROXIES` line a proxy sample tells operators to set.
fn trusted_proxies_of(sample: &str) -> String {
    sample
        .lines()
        .find_map(|l| {
            l.trim_start_matches(['#', ' '])
                .strip_prefix("PORTAL_TRUSTED_PROXIES=")
        })
        .map(str::to_string)
        .unwrap_or_else(|| panic!("the sample names PORTAL_TRUSTED_PROXIES"))
}

#[test]
fn nginx_sample_passes_nginx_t() {
    let sample = read("deploy/nginx/ixp-portal.conf");
    assert!(sample.contains("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;"));
    assert!(sample.contains("listen 443 ssl"));
    assert!(sample.contains("location = /metrics"));
    // The portal's parser accepts the setting the sample gives, and it
    // trusts the address nginx connects from (the upstreams are loopback).
    let trusted = trusted_proxies_of(&sample);
    let nets = ixp_portal::web::proxy::Networks::parse(&trusted).unwrap();
    assert!(nets.contains("127.0.0.1".parse().unwrap()) && nets.contains("::1".parse().unwrap()));
    assert!(read("README.md").contains(&format!("PORTAL_TRUSTED_PROXIES={trusted}")));

    let Some(nginx) = tool("nginx", "`nginx -t` on deploy/nginx/ixp-portal.conf") else {
        return;
    };
    let Some(openssl) = tool("openssl", "the test certificate for `nginx -t`") else {
        return;
    };
    // The sample inside a minimal nginx.conf, its certificate paths
    // pointing at a throwaway self-signed pair.
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new(openssl)
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=portal.example.net", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let site = sample
        .replace(
            "/etc/letsencrypt/live/portal.example.net/fullchain.pem",
            &cert.display().to_string(),
        )
        .replace(
            "/etc/letsencrypt/live/portal.example.net/privkey.pem",
            &key.display().to_string(),
        );
    std::fs::write(dir.path().join("site.conf"), site).unwrap();
    let d = dir.path().display();
    std::fs::write(
        dir.path().join("nginx.conf"),
        format!(
            "pid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{}}\nhttp {{\n  access_log off;\n  include {d}/site.conf;\n}}\n"
        ),
    )
    .unwrap();
    let out = Command::new(nginx)
        .arg("-t")
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(dir.path().join("nginx.conf"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "nginx -t failed: {err}");
    assert!(err.contains("test is successful"), "{err}");
    assert!(!err.contains("[warn]"), "nginx -t warned: {err}");
}

#[test]
fn caddy_sample_validates() {
    let sample = read("deploy/caddy/Caddyfile");
    assert!(sample.contains("reverse_proxy 127.0.0.1:8080 127.0.0.1:8081"));
    assert!(sample.contains("health_uri /readyz"));
    assert!(sample.contains("respond /metrics 404"));
    let trusted = trusted_proxies_of(&sample);
    assert!(
        ixp_portal::web::proxy::Networks::parse(&trusted)
            .unwrap()
            .contains("127.0.0.1".parse().unwrap())
    );

    let Some(caddy) = tool("caddy", "`caddy validate` on deploy/caddy/Caddyfile") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(caddy)
        .args(["validate", "--adapter", "caddyfile", "--config"])
        .arg(repo("deploy/caddy/Caddyfile"))
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "caddy validate failed: {all}");
    assert!(all.contains("Valid configuration"), "{all}");
    assert!(!all.contains("\"level\":\"warn\""), "caddy warned: {all}");
}

#[test]
fn environment_sample_is_a_valid_configuration() {
    // The example settings parse (after the placeholders are filled in).
    let text = read("deploy/ixp-portal.env.example");
    let vars: std::collections::HashMap<String, String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
        .collect();
    let c = ixp_portal::config::Config::from_lookup(|k| vars.get(k).cloned())
        .expect("the sample settings are valid");
    assert_eq!(c.ops.metrics_bind, Some("127.0.0.1:9464".parse().unwrap()));
    assert_eq!(
        c.ops.log_format,
        ixp_portal::observability::logs::LogFormat::Json
    );
    assert!(c.ops.trusted_proxies.contains("127.0.0.1".parse().unwrap()));
    assert!(c.peeringdb.is_some());
}
