//! Issue 2: password login, sessions, CSRF, throttling, reset, healthz, errors.
use crate::both_backends;
use crate::common::{Backend, TestApp, csrf_of, location, spawn};
use reqwest::StatusCode;

both_backends!(
    login_and_logout,
    wrong_password_is_generic,
    throttling_after_five_failures,
    disabled_user_cannot_sign_in,
    csrf_missing_or_wrong_is_rejected,
    password_reset_end_to_end,
    reset_does_not_tell_who_exists,
    healthz_answers,
    error_pages_and_headers,
    open_redirect_is_refused,
    oversized_input_is_refused,
    https_portal_sends_hsts_and_secure_cookies,
);

async fn login_and_logout(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    // Another user first, so that the staff user's id is not 1.
    app.create_user("someone", "another password 1", false);
    let staff = app.create_user("staff", "correct horse battery", true);
    let (status, page) = app.get_text("/").await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "anonymous is sent to the login page: {page}"
    );
    let r = app.login("staff", "correct horse battery").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/");
    let (status, page) = app.get_text("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("staff"), "the header shows the user");
    assert!(page.contains("Sign out"));
    // A login record was written.
    let records = app.with_conn(|c| ixp_portal::db::logins::of_user(c, staff, 10).unwrap());
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].method, "password");
    let r = app.post("/logout", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get_text("/login").await;
    assert!(page.contains("You have signed out."));
    assert_eq!(app.get("/").await.status(), StatusCode::SEE_OTHER);
}

async fn wrong_password_is_generic(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    app.create_user("alice", "correct horse battery", false);
    let r = app.login("alice", "wrong password!").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let wrong_pw = r.text().await.unwrap();
    let r = app.login("nobody", "wrong password!").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let no_user = r.text().await.unwrap();
    assert!(wrong_pw.contains("Wrong username or password."));
    assert!(no_user.contains("Wrong username or password."));
    assert_eq!(
        app.get("/").await.status(),
        StatusCode::SEE_OTHER,
        "still signed out"
    );
    // A NUL byte (which PostgreSQL refuses in text) is just a wrong username.
    let r = app.login("ali\u{0}ce", "wrong password!").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

async fn throttling_after_five_failures(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    app.create_user("bob", "correct horse battery", false);
    for _ in 0..5 {
        assert_eq!(
            app.login("bob", "nope nope nope").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let r = app.login("bob", "correct horse battery").await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "refused even with the right password"
    );
    assert!(r.text().await.unwrap().contains("Try again in 15 minutes"));
    assert_eq!(app.get("/").await.status(), StatusCode::SEE_OTHER);
    // Another username from the same address is not affected.
    app.create_user("carol", "correct horse battery", false);
    assert_eq!(
        app.login("carol", "correct horse battery").await.status(),
        StatusCode::SEE_OTHER
    );
}

async fn disabled_user_cannot_sign_in(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let id = app.create_user("dave", "correct horse battery", false);
    app.with_conn(|c| ixp_portal::db::users::update_flags(c, id, true, false).unwrap());
    let r = app.login("dave", "correct horse battery").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("disabled"));
    assert_eq!(app.get("/").await.status(), StatusCode::SEE_OTHER);

    // Disabling a signed-in user ends their session at the next request.
    let id = app.create_user("erin", "correct horse battery", false);
    assert_eq!(
        app.login("erin", "correct horse battery").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
    app.with_conn(|c| ixp_portal::db::users::update_flags(c, id, true, false).unwrap());
    assert_eq!(app.get("/").await.status(), StatusCode::SEE_OTHER);
}

async fn csrf_missing_or_wrong_is_rejected(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    app.create_user("frank", "correct horse battery", false);
    let _ = app.csrf().await; // a session exists
    let form = [("username", "frank"), ("password", "correct horse battery")];
    let r = app
        .client
        .post(app.url("/login"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "no token");
    let mut wrong = form.to_vec();
    wrong.push(("csrf", "not-the-token"));
    let r = app
        .client
        .post(app.url("/login"))
        .form(&wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "wrong token");
    // The right token from another site is refused by the Origin check.
    let token = app.csrf().await;
    let mut right = form.to_vec();
    right.push(("csrf", &token));
    let r = app
        .client
        .post(app.url("/login"))
        .header("Origin", "https://evil.example")
        .form(&right)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "foreign origin");
    assert_eq!(
        app.get("/").await.status(),
        StatusCode::SEE_OTHER,
        "nothing signed in"
    );
    // Logout without a token does not sign out.
    assert_eq!(
        app.login("frank", "correct horse battery").await.status(),
        StatusCode::SEE_OTHER
    );
    let r = app.client.post(app.url("/logout")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
}

fn read_outbox(app: &TestApp) -> Vec<String> {
    app.outbox()
}

fn reset_path(mail: &str, base: &str) -> String {
    // The body may be quoted-printable encoded: undo soft line breaks.
    let flat = mail.replace("=\r\n", "").replace("=\n", "");
    let start = flat
        .find(&format!("{base}/password/reset/"))
        .expect("mail holds the link");
    let link: String = flat[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    link.strip_prefix(base).unwrap().to_string()
}

async fn password_reset_end_to_end(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    app.create_user("grace", "old password 123", false);
    // Another browser stays signed in with the old password …
    let other = crate::common::client();
    let token = csrf_of(
        &other
            .get(app.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let r = other
        .post(app.url("/login"))
        .form(&[
            ("username", "grace"),
            ("password", "old password 123"),
            ("csrf", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        other.get(app.url("/")).send().await.unwrap().status(),
        StatusCode::OK
    );

    let r = app.post("/password/forgot", &[("who", "grace")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mails = read_outbox(&app);
    assert_eq!(mails.len(), 1, "one message in the outbox");
    assert!(mails[0].contains("To: grace@example.net"));
    let path = reset_path(&mails[0], &app.base);
    let (status, form) = app.get_text(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("Set a new password"));
    // Too short is refused, nothing changes.
    let r = app
        .post(&path, &[("password", "short"), ("confirm", "short")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = app
        .post(
            &path,
            &[
                ("password", "brand new password"),
                ("confirm", "brand new password"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/login");
    // Single use.
    let r = app.get(&path).await;
    assert_eq!(location(&r), "/password/forgot");
    let r = app
        .post(
            &path,
            &[
                ("password", "another new password"),
                ("confirm", "another new password"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/password/forgot");
    // The old password is gone, the new one works.
    assert_eq!(
        app.login("grace", "old password 123").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("grace", "brand new password").await.status(),
        StatusCode::SEE_OTHER
    );
    // The other browser's session ended with the password change.
    assert_eq!(
        other.get(app.url("/")).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
}

async fn reset_does_not_tell_who_exists(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    app.create_user("heidi", "some password 1", false);
    let known = app
        .post("/password/forgot", &[("who", "heidi@example.net")])
        .await;
    let known_page = app.page_after(known).await;
    let unknown = app
        .post("/password/forgot", &[("who", "nobody@example.net")])
        .await;
    let unknown_page = app.page_after(unknown).await;
    let msg = "If an account matches, we have sent a link";
    assert!(known_page.contains(msg) && unknown_page.contains(msg));
    assert_eq!(read_outbox(&app).len(), 1, "only the real account got mail");
    // A made-up token is refused.
    let r = app.get("/password/reset/not-a-real-token").await;
    assert_eq!(location(&r), "/password/forgot");
}

async fn healthz_answers(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let r = app.get("/healthz").await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    if b == Backend::Postgres {
        // Take the database away: healthz says so.
        let name = app.database_url.rsplit('/').next().unwrap().to_string();
        let admin = std::env::var("PORTAL_TEST_POSTGRES_URL").unwrap();
        use diesel::Connection;
        use diesel::connection::SimpleConnection;
        let mut c = diesel::PgConnection::establish(&admin).unwrap();
        c.batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .unwrap();
        let r = app.get("/healthz").await;
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}

async fn error_pages_and_headers(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let r = app.get("/no/such/page").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let h = r.headers().clone();
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "same-origin");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let body = r.text().await.unwrap();
    assert!(
        body.contains("Page not found") && body.contains("/static/style.css"),
        "rendered in the layout"
    );
    let css = app.get("/static/style.css").await;
    assert_eq!(css.status(), StatusCode::OK);
    // The session cookie is HttpOnly and SameSite=Lax (a new browser, so
    // that the first page it sees sets it).
    let r = crate::common::client()
        .get(app.url("/login"))
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http APP_URL");
}

async fn open_redirect_is_refused(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    app.create_user("ivan", "correct horse battery", false);
    let r = app
        .post(
            "/login",
            &[
                ("username", "ivan"),
                ("password", "correct horse battery"),
                ("next", "//evil.example/x"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/");
    app.post("/logout", &[]).await;
    let r = app
        .post(
            "/login",
            &[
                ("username", "ivan"),
                ("password", "correct horse battery"),
                ("next", "/profile"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/profile");
}

async fn oversized_input_is_refused(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    app.create_user("judy", "correct horse battery", false);
    let token = app.csrf().await;
    let huge = "x".repeat(100 * 1024);
    let r = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("username", huge.as_str()),
            ("password", "p"),
            ("csrf", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // A long but acceptable field is refused as data, and nothing is stored.
    let long = "y".repeat(10 * 1024);
    let r = app
        .post("/password/forgot", &[("who", long.as_str())])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        app.page_after(r)
            .await
            .contains("Give your username or email address.")
    );
    let failures: i64 = app.with_conn(|c| {
        use diesel::prelude::*;
        ixp_portal::db::schema::login_failures::table
            .count()
            .get_result(c)
            .unwrap()
    });
    assert_eq!(failures, 0, "the oversized login stored nothing");
}

async fn https_portal_sends_hsts_and_secure_cookies(b: Backend) {
    let opts = crate::common::Opts {
        vars: vec![("APP_URL", "https://portal.example.net".into())],
        ..Default::default()
    };
    let Some(app) = crate::common::spawn_with(b, opts).await else {
        return;
    };
    let r = app.get("/login").await;
    assert!(
        r.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("Secure"), "{cookie}");
    // And without https, no HSTS.
    let Some(plain) = spawn(b).await else { return };
    assert!(
        !plain
            .get("/login")
            .await
            .headers()
            .contains_key("strict-transport-security")
    );
}
