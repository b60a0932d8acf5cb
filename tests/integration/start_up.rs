//! Issue 11, finding 12 and loose ends: `.env` from the working directory
//! only, a malformed one stops start-up; links under an `APP_URL` with a
//! path; `--no-peeringdb-oauth` against `--peeringdb-oauth`; PostgreSQL
//! needs a shared `SESSION_KEY`.
use crate::common::fresh_postgres;
use ixp_portal::config::Config;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The binary in `dir` with only `vars` set; a server that does not exit
/// by itself is ended after a minute (a safety bound, not an assertion).
fn run_in(dir: &Path, vars: &[(&str, String)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ixp-portal"));
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("the binary runs");
    let bound = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().expect("wait").is_none() && std::time::Instant::now() < bound {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    child.wait_with_output().expect("output")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_parent_directorys_env_file_is_not_read() {
    let parent = tempfile::tempdir().unwrap();
    std::fs::write(parent.path().join(".env"), "DATABASE_URL=mysql://nowhere\n").unwrap();
    let child = parent.path().join("portal");
    std::fs::create_dir(&child).unwrap();
    let out = run_in(&child, &[], &["migrate"]);
    assert!(
        out.status.success(),
        "the parent's .env was read: {}",
        stderr(&out)
    );
    assert!(child.join("data/portal.sqlite").exists());
}

#[test]
fn the_working_directorys_env_file_is_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "PORTAL_DATA_DIR=from-env-file\n").unwrap();
    let out = run_in(dir.path(), &[], &["migrate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dir.path().join("from-env-file/portal.sqlite").exists());
}

#[test]
fn a_malformed_env_file_stops_start_up_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "# the portal\nPORTAL_DATA_DIR=somewhere\nSESSION_KEY a-secret-value\n",
    )
    .unwrap();
    for args in [&["migrate"][..], &["serve"][..]] {
        let out = run_in(dir.path(), &[("PORTAL_BIND", "127.0.0.1:0".into())], args);
        let err = stderr(&out);
        assert!(!out.status.success(), "{args:?} started: {err}");
        assert!(err.contains(".env") && err.contains("line 3"), "{err}");
        assert!(
            !err.contains("a-secret-value"),
            "no value in the message: {err}"
        );
        assert!(!dir.path().join("somewhere").exists(), "nothing was loaded");
    }
}

#[test]
fn peeringdb_oauth_flags_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        &[],
        &[
            "customer",
            "update",
            "acme",
            "--peeringdb-oauth",
            "true",
            "--no-peeringdb-oauth",
        ],
    );
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(err.contains("cannot be used with"), "{err}");
}

#[test]
fn serve_on_postgresql_needs_a_shared_session_key() {
    let Some(pg) = fresh_postgres() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        &[
            ("DATABASE_URL", pg.url.clone()),
            ("PORTAL_BIND", "127.0.0.1:0".into()),
        ],
        &["serve"],
    );
    let err = stderr(&out);
    assert!(
        !out.status.success(),
        "serve started without SESSION_KEY: {err}"
    );
    assert!(err.contains("SESSION_KEY"), "{err}");
    assert!(
        !dir.path().join("data/session.key").exists(),
        "no instance key was generated"
    );
}

fn config_at(app_url: &str) -> Config {
    Config::from_lookup(|k| match k {
        "APP_URL" => Some(app_url.into()),
        "AUTH_PEERINGDB_ENABLED" => Some("true".into()),
        "PEERINGDB_OAUTH_CLIENT_ID" => Some("id".into()),
        "PEERINGDB_OAUTH_CLIENT_SECRET" => Some("secret".into()),
        _ => None,
    })
    .expect("valid configuration")
}

#[test]
fn links_keep_the_path_of_app_url() {
    for app_url in ["https://ix.example/portal", "https://ix.example/portal/"] {
        let c = config_at(app_url);
        let redirect = c.peeringdb.as_ref().map(|p| p.redirect.to_string());
        assert_eq!(
            redirect.as_deref(),
            Some("https://ix.example/portal/auth/login/peeringdb/callback"),
            "{app_url}"
        );
        assert_eq!(
            c.url_for("/password/reset/x"),
            "https://ix.example/portal/password/reset/x"
        );
    }
    let c = config_at("https://ix.example");
    assert_eq!(
        c.peeringdb.map(|p| p.redirect.to_string()).as_deref(),
        Some("https://ix.example/auth/login/peeringdb/callback")
    );
}
