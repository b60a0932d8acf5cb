//! Issue 11 findings fixed so far (SPEC §8): the CSRF Origin check trusts
//! `APP_URL` only; no reset token and no raw control characters in the
//! log; `Cache-Control: no-store` on signed-in pages.
use crate::both_backends;
use crate::common::{Backend, spawn};
use crate::staff::{Browser, PW};
use reqwest::StatusCode;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

both_backends!(
    origin_check_ignores_forwarded_host,
    no_secrets_or_control_characters_in_the_log,
    signed_in_pages_are_never_cached,
);

async fn origin_check_ignores_forwarded_host(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    app.create_user("noc", PW, true);
    let noc = Browser::signed_in(&app, "noc").await;
    let token = noc.csrf().await;
    let send = |origin: &'static str, forwarded: Option<&'static str>| {
        let mut r = noc
            .client
            .post(noc.url("/staff/customers/new"))
            .header("Origin", origin)
            .form(&[
                ("csrf", token.as_str()),
                ("name", "Evil"),
                ("shortname", "evil"),
            ]);
        if let Some(f) = forwarded {
            r = r.header("X-Forwarded-Host", f);
        }
        r.send()
    };
    let r = send("http://evil.example", Some("evil.example"))
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "a forged X-Forwarded-Host is not trusted"
    );
    let r = send("http://evil.example", None).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let own: &'static str = Box::leak(app.base.clone().into_boxed_str());
    let r = send(own, None).await.unwrap();
    assert_ne!(
        r.status(),
        StatusCode::FORBIDDEN,
        "APP_URL's own origin passes"
    );
}

/// Everything the application logs, in this test binary.
fn log_buffer() -> Arc<Mutex<Vec<u8>>> {
    static BUF: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUF.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = buf.clone();
        let make = move || Capture(writer.clone());
        let _ = tracing::subscriber::set_global_default(
            tracing_subscriber::fmt()
                .with_writer(make)
                .with_ansi(false)
                .with_max_level(tracing::Level::DEBUG)
                .finish(),
        );
        buf
    })
    .clone()
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logged(buf: &Arc<Mutex<Vec<u8>>>) -> String {
    String::from_utf8_lossy(&buf.lock().unwrap_or_else(|p| p.into_inner())).to_string()
}

async fn no_secrets_or_control_characters_in_the_log(b: Backend) {
    let buf = log_buffer();
    let Some(app) = spawn(b).await else { return };
    // A reset form whose CSRF check fails: the token stays out of the log.
    let token = "LiveResetTokenThatMustNeverBeLogged0123456789";
    let r = app
        .client
        .post(app.url(&format!("/password/reset/{token}")))
        .form(&[("csrf", "wrong"), ("password", "x"), ("confirm", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The unauthenticated OAuth `error` parameter with a newline and a
    // terminal escape.
    let r = app
        .get("/auth/login/peeringdb/callback?error=bad%0Aforged%20line%1B%5B31m")
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let log = logged(&buf);
    assert!(
        log.contains("form refused by the CSRF check"),
        "the refusal is logged"
    );
    assert!(!log.contains(token), "the reset token is not in the log");
    assert!(!log.contains("\nforged line"), "no forged log line");
    assert!(!log.contains('\u{1b}'), "no terminal escape");
    assert!(log.contains("bad\\nforged"), "escaped instead: {log}");
}

async fn signed_in_pages_are_never_cached(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    app.create_user("noc", PW, true);
    let noc = Browser::signed_in(&app, "noc").await;
    for path in ["/", "/profile", "/staff/users", "/staff/api-keys"] {
        let r = noc.get_resp(path).await;
        assert_eq!(
            r.headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("no-store"),
            "{path}"
        );
    }
    let r = noc.get_resp("/static/style.css").await;
    assert_eq!(
        r.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("public, max-age=3600"),
        "the stylesheet may be cached"
    );
}
