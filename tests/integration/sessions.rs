//! Issue 10 (SPEC §7): server-side sessions that can be ended, and a second
//! factor (TOTP) that PeeringDB logins respect. Over HTTP, both backends.
use crate::both_backends;
use crate::common::{Backend, Opts, TestApp, location, profile, spawn_with};
use crate::staff::{Browser, PW};
use diesel::prelude::*;
use ixp_portal::auth::totp;
use ixp_portal::db::schema::sessions as sess_t;
use ixp_portal::db::{audit, users};
use reqwest::StatusCode;
use std::sync::Arc;

both_backends!(
    a_cookie_copied_before_sign_out_is_refused_after,
    every_event_that_ends_other_sessions,
    idle_and_absolute_expiry,
    tampered_or_unknown_cookies_are_signed_out_visitors,
    totp_enrolment_login_replay_and_recovery,
    wrong_codes_end_the_attempt_and_count_as_failures,
    enforcement_sends_users_in_scope_to_enrol,
    peeringdb_amr_matrix,
    staff_and_cli_end_sessions_and_reset_the_second_factor,
    peering_api_auth_applies_the_mfa_rule,
);

/// A browser whose cookie jar the test can read (to copy a cookie).
struct Jarred {
    jar: Arc<reqwest::cookie::Jar>,
    b: Browser,
}

fn jarred(app: &TestApp) -> Jarred {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Jarred {
        jar,
        b: Browser {
            base: app.base.clone(),
            client,
        },
    }
}

/// The session cookie (`ixp_portal=…`; not the device cookie, SPEC §8).
fn cookie_of(j: &Jarred, app: &TestApp) -> String {
    use reqwest::cookie::CookieStore;
    j.jar
        .cookies(&app.base.parse().unwrap())
        .and_then(|v| {
            v.to_str()
                .unwrap()
                .split("; ")
                .find(|c| c.starts_with("ixp_portal="))
                .map(str::to_string)
        })
        .unwrap_or_default()
}

/// A plain client that sends this exact cookie.
async fn get_with_cookie(app: &TestApp, cookie: &str, path: &str) -> reqwest::Response {
    crate::common::client()
        .get(app.url(path))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap()
}

async fn sign_in(b: &Browser, user: &str, pw: &str) -> reqwest::Response {
    b.post("/login", &[("username", user), ("password", pw)])
        .await
}

fn signed_out(r: &reqwest::Response) -> bool {
    r.status() == StatusCode::SEE_OTHER && location(r).starts_with("/login")
}

fn session_rows(app: &TestApp, uid: i64) -> i64 {
    app.with_conn(|c| {
        sess_t::table
            .filter(sess_t::user_id.eq(uid))
            .count()
            .get_result(c)
            .unwrap()
    })
}

async fn a_cookie_copied_before_sign_out_is_refused_after(b: Backend) {
    let Some(app) = crate::common::spawn(b).await else {
        return;
    };
    let uid = app.create_user("noc", PW, true);
    let j = jarred(&app);
    assert_eq!(location(&sign_in(&j.b, "noc", PW).await), "/");
    let copied = cookie_of(&j, &app);
    let value = copied.split_once('=').map(|(_, v)| v).unwrap_or_default();
    assert!(
        value.len() >= 40 && !copied.contains("noc"),
        "a random key: {copied}"
    );
    let hashes: Vec<String> = app.with_conn(|c| {
        sess_t::table
            .filter(sess_t::user_id.eq(uid))
            .select(sess_t::key_hash)
            .load(c)
            .unwrap()
    });
    assert_eq!(hashes.len(), 1);
    assert!(
        !value.contains(&hashes[0]) && !hashes[0].contains(value),
        "only a hash is stored"
    );
    // The row holds the user, the address and the browser.
    let (addr, ua): (String, String) = app.with_conn(|c| {
        sess_t::table
            .filter(sess_t::user_id.eq(uid))
            .select((sess_t::address, sess_t::user_agent))
            .first(c)
            .unwrap()
    });
    assert_eq!(addr, "127.0.0.1");
    let _ = ua;
    assert_eq!(
        get_with_cookie(&app, &copied, "/profile").await.status(),
        StatusCode::OK
    );
    let r = j.b.post("/logout", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(session_rows(&app, uid), 0, "sign-out deletes the row");
    let r = get_with_cookie(&app, &copied, "/profile").await;
    assert!(signed_out(&r), "the copy is refused: {}", r.status());
    // Nor can it change anything (an API key, say).
    let r = crate::common::client()
        .post(app.url("/staff/api-keys"))
        .header("Cookie", &copied)
        .form(&[("name", "x"), ("csrf", "anything")])
        .send()
        .await
        .unwrap();
    assert!(
        matches!(r.status(), StatusCode::FORBIDDEN | StatusCode::SEE_OTHER),
        "{}",
        r.status()
    );
    let keys: i64 = app.with_conn(|c| {
        ixp_portal::db::schema::api_tokens::table
            .count()
            .get_result(c)
            .unwrap()
    });
    assert_eq!(keys, 0);
    // The pre-login cookie stops working at sign-in (a new key).
    let k = jarred(&app);
    let _ = k.b.get("/login").await;
    let before = cookie_of(&k, &app);
    assert_eq!(location(&sign_in(&k.b, "noc", PW).await), "/");
    let after = cookie_of(&k, &app);
    assert_ne!(before, after, "a new session key at sign-in");
    let r = get_with_cookie(&app, &before, "/profile").await;
    assert!(signed_out(&r));
}

async fn every_event_that_ends_other_sessions(b: Backend) {
    let Some(app) = crate::common::spawn(b).await else {
        return;
    };
    let uid = app.create_user("amy", PW, false);
    app.create_user("noc", PW, true);
    let one = Browser::signed_in(&app, "amy").await;
    let two = Browser::signed_in(&app, "amy").await;
    let three = Browser::signed_in(&app, "amy").await;
    // /profile lists them; "sign out" one by its row.
    let (_, page) = one.get("/profile").await;
    assert!(page.contains("this session"), "{page}");
    assert_eq!(
        page.matches("/profile/sessions/").count() - 1,
        2,
        "two others, and the end-others link"
    );
    // SPEC §3: each goes through a confirmation page naming what ends.
    let (s, confirm) = one.get("/profile/sessions/end-others").await;
    assert_eq!(s, StatusCode::OK);
    assert!(confirm.contains("Sign out everywhere else"), "{confirm}");
    let ids: Vec<i64> = app.with_conn(|c| {
        sess_t::table
            .filter(sess_t::user_id.eq(uid))
            .select(sess_t::id)
            .order(sess_t::id)
            .load(c)
            .unwrap()
    });
    // Ending another user's session by id is refused.
    app.create_user("eve", PW, false);
    let eve = Browser::signed_in(&app, "eve").await;
    let r = eve
        .post(&format!("/profile/sessions/{}/end", ids[2]), &[])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    one.post_follow(&format!("/profile/sessions/{}/end", ids[2]), &[])
        .await;
    assert!(
        signed_out(&three.get_resp("/profile").await),
        "ended by row"
    );
    assert_eq!(two.get("/profile").await.0, StatusCode::OK);
    // "Sign out everywhere else".
    one.post_follow("/profile/sessions/end-others", &[]).await;
    assert!(signed_out(&two.get_resp("/profile").await));
    assert_eq!(one.get("/profile").await.0, StatusCode::OK);
    // A password change ends the others, this one goes on.
    let two = Browser::signed_in(&app, "amy").await;
    let page = one
        .post_follow(
            "/profile/password",
            &[
                ("current", PW),
                ("password", "a brand new password"),
                ("confirm", "a brand new password"),
            ],
        )
        .await;
    assert!(page.contains("Your password is changed"), "{page}");
    assert!(signed_out(&two.get_resp("/profile").await));
    assert_eq!(one.get("/profile").await.0, StatusCode::OK);
    // A wrong current password changes nothing.
    let page = one
        .post_follow(
            "/profile/password",
            &[
                ("current", "not it at all"),
                ("password", "yet another password"),
                ("confirm", "yet another password"),
            ],
        )
        .await;
    assert!(page.contains("current password is not right"), "{page}");
    // (Back to the usual password for the sign-ins below.)
    let hash = ixp_portal::auth::password::hash(PW).unwrap();
    app.with_conn(|c| users::set_password(c, uid, &hash).unwrap());
    let one = Browser::signed_in(&app, "amy").await;
    // Disabling by staff ends every session.
    let noc = Browser::signed_in(&app, "noc").await;
    noc.post_follow(
        &format!("/staff/users/{uid}/edit"),
        &[
            ("name", "Amy"),
            ("email", "amy@example.net"),
            ("disabled", "on"),
        ],
    )
    .await;
    assert_eq!(session_rows(&app, uid), 0, "disabling ends the sessions");
    assert!(signed_out(&one.get_resp("/profile").await));
    // Deletion too (the rows go with the user).
    app.with_conn(|c| users::update_flags(c, uid, false, false).unwrap());
    let again = Browser::signed_in(&app, "amy").await;
    assert_eq!(again.get("/profile").await.0, StatusCode::OK);
    app.with_conn(|c| ixp_portal::admin::delete_user(c, "test", uid).unwrap());
    assert_eq!(session_rows(&app, uid), 0);
    assert!(signed_out(&again.get_resp("/profile").await));
}

/// Rewrites the times kept in a user's session state (seconds ago).
fn age_session(app: &TestApp, uid: i64, created_ago: i64, seen_ago: i64) {
    let now = chrono::Utc::now().timestamp();
    app.with_conn(|c| {
        let rows: Vec<(i64, String)> = sess_t::table
            .filter(sess_t::user_id.eq(uid))
            .select((sess_t::id, sess_t::state))
            .load(c)
            .unwrap();
        for (id, state) in rows {
            let mut m: std::collections::HashMap<String, String> =
                serde_json::from_str(&state).unwrap();
            m.insert("created".into(), (now - created_ago).to_string());
            m.insert("seen".into(), (now - seen_ago).to_string());
            diesel::update(sess_t::table.find(id))
                .set(sess_t::state.eq(serde_json::to_string(&m).unwrap()))
                .execute(c)
                .unwrap();
        }
    });
}

async fn idle_and_absolute_expiry(b: Backend) {
    let Some(app) = spawn_with(
        b,
        Opts {
            vars: vec![
                ("PORTAL_SESSION_IDLE", "600".into()),
                ("PORTAL_SESSION_MAX", "3600".into()),
            ],
            ..Opts::default()
        },
    )
    .await
    else {
        return;
    };
    let uid = app.create_user("ida", PW, false);
    let one = Browser::signed_in(&app, "ida").await;
    age_session(&app, uid, 500, 500);
    assert_eq!(
        one.get("/profile").await.0,
        StatusCode::OK,
        "within the idle limit"
    );
    age_session(&app, uid, 700, 601);
    let r = one.get_resp("/profile").await;
    assert!(signed_out(&r), "idle for longer than PORTAL_SESSION_IDLE");
    let (_, page) = one.get("/login").await;
    assert!(page.contains("without activity"), "{page}");
    let two = Browser::signed_in(&app, "ida").await;
    age_session(&app, uid, 3601, 1);
    let r = two.get_resp("/profile").await;
    assert!(
        signed_out(&r),
        "older than PORTAL_SESSION_MAX, though just used"
    );
    let (_, page) = two.get("/login").await;
    assert!(page.contains("sessions last at most 1 hour"), "{page}");
    // The database row's own expiry: a row past expires_at is not loaded.
    let three = Browser::signed_in(&app, "ida").await;
    app.with_conn(|c| {
        diesel::update(sess_t::table.filter(sess_t::user_id.eq(uid)))
            .set(
                sess_t::expires_at
                    .eq(chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1)),
            )
            .execute(c)
            .unwrap()
    });
    assert!(signed_out(&three.get_resp("/profile").await));
    // The purge removes such rows.
    let n = app.with_conn(|c| {
        ixp_portal::db::sessions::purge(c, chrono::Duration::seconds(3600)).unwrap()
    });
    assert!(n >= 1);
    assert_eq!(session_rows(&app, uid), 0);
}

async fn tampered_or_unknown_cookies_are_signed_out_visitors(b: Backend) {
    let Some(app) = crate::common::spawn(b).await else {
        return;
    };
    app.create_user("tom", PW, false);
    let j = jarred(&app);
    sign_in(&j.b, "tom", PW).await;
    let cookie = cookie_of(&j, &app);
    let (name, value) = cookie.split_once('=').unwrap();
    let mut bytes = value.as_bytes().to_vec();
    let last = bytes.len() - 3;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    for bad in [
        format!("{name}={}", String::from_utf8(bytes).unwrap()),
        format!("{name}=not-a-session"),
        format!("{name}="),
        format!("{name}={}", "x".repeat(5000)),
    ] {
        let r = get_with_cookie(&app, &bad, "/profile").await;
        assert!(signed_out(&r), "{bad:.40}: {}", r.status());
        let r = get_with_cookie(&app, &bad, "/login").await;
        assert_eq!(r.status(), StatusCode::OK, "a visitor, never a 500");
    }
}

/// The secret shown on the enrolment page.
fn secret_of(page: &str) -> String {
    let marker = "data-totp-secret=\"";
    let i = page.find(marker).expect("the page shows the secret") + marker.len();
    page[i..].split('"').next().unwrap().to_string()
}

fn now_unix() -> u64 {
    chrono::Utc::now().timestamp() as u64
}

/// A code of the step after the one last used (waiting is never needed:
/// ±1 step is accepted, so the next step's code works now).
fn code(secret: &str, steps_ahead: u64) -> String {
    totp::code_at(secret, now_unix() + steps_ahead * totp::STEP).unwrap()
}

/// Enrols the signed-in browser's user; returns the secret and the codes.
async fn enrol(b: &Browser) -> (String, Vec<String>) {
    b.post("/profile/2fa/start", &[]).await;
    let (_, page) = b.get("/profile/2fa").await;
    let secret = secret_of(&page);
    assert!(page.contains("<svg"), "a QR code, rendered on the server");
    assert!(!page.contains("<script"));
    // A code from another secret does not confirm it.
    let other = totp::new_secret();
    let r = b
        .post("/profile/2fa/confirm", &[("code", &code(&other, 0))])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = b
        .post("/profile/2fa/confirm", &[("code", &code(&secret, 0))])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    let codes: Vec<String> = page
        .split("<li><code>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 10, "ten recovery codes, shown once");
    let (_, again) = b.get("/profile/2fa").await;
    assert!(!again.contains(&codes[0]), "never shown again");
    (secret, codes)
}

async fn second_factor(b: &Browser, code: &str) -> reqwest::Response {
    b.post("/login/2fa", &[("code", code)]).await
}

async fn totp_enrolment_login_replay_and_recovery(b: Backend) {
    let Some(app) = crate::common::spawn(b).await else {
        return;
    };
    let uid = app.create_user("tia", PW, false);
    let one = Browser::signed_in(&app, "tia").await;
    let other = Browser::signed_in(&app, "tia").await;
    let (secret, codes) = enrol(&one).await;
    assert!(
        signed_out(&other.get_resp("/profile").await),
        "enrolment ends other sessions"
    );
    assert_eq!(one.get("/profile").await.0, StatusCode::OK);
    // The secret is encrypted at rest.
    let stored: String = app.with_conn(|c| {
        ixp_portal::db::two_factor::find(c, uid)
            .unwrap()
            .unwrap()
            .secret
    });
    assert!(!stored.contains(&secret));
    one.post("/logout", &[]).await;
    // Password, then the code.
    let b2 = Browser::anonymous(&app);
    let r = sign_in(&b2, "tia", PW).await;
    assert_eq!(location(&r), "/login/2fa");
    assert!(
        signed_out(&b2.get_resp("/profile").await),
        "not signed in before the code"
    );
    let c1 = code(&secret, 1);
    let r = second_factor(&b2, &c1).await;
    assert_eq!(location(&r), "/");
    assert_eq!(b2.get("/profile").await.0, StatusCode::OK);
    // The same code again (another browser): refused as used.
    let b3 = Browser::anonymous(&app);
    sign_in(&b3, "tia", PW).await;
    let r = second_factor(&b3, &c1).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("used already"));
    // A recovery code works once.
    let r = second_factor(&b3, &codes[3].to_uppercase()).await;
    assert_eq!(location(&r), "/");
    let b4 = Browser::anonymous(&app);
    sign_in(&b4, "tia", PW).await;
    let r = second_factor(&b4, &codes[3]).await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "a recovery code is single use"
    );
    // Turning it off needs the password and a code.
    let r = b2
        .post(
            "/profile/2fa/disable",
            &[("password", "wrong one"), ("code", &codes[4])],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = b2
        .post(
            "/profile/2fa/disable",
            &[("password", PW), ("code", "000000")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = b2
        .post(
            "/profile/2fa/disable",
            &[("password", PW), ("code", &codes[4])],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        signed_out(&b3.get_resp("/profile").await),
        "turning it off ends other sessions"
    );
    let b5 = Browser::anonymous(&app);
    assert_eq!(
        location(&sign_in(&b5, "tia", PW).await),
        "/",
        "no second factor now"
    );
    let entries = app.with_conn(|c| audit::page(c, None, Some("tia"), None, 100).unwrap());
    assert!(entries.iter().any(|e| e.action == "two_factor.enable"));
    assert!(entries.iter().any(|e| e.action == "two_factor.disable"));
}

async fn wrong_codes_end_the_attempt_and_count_as_failures(b: Backend) {
    let Some(app) = crate::common::spawn(b).await else {
        return;
    };
    app.create_user("wes", PW, false);
    let one = Browser::signed_in(&app, "wes").await;
    let (secret, _) = enrol(&one).await;
    let b2 = Browser::anonymous(&app);
    sign_in(&b2, "wes", PW).await;
    for i in 1..5 {
        let r = second_factor(&b2, "123456").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "wrong code {i}");
    }
    let r = second_factor(&b2, "654321").await;
    assert_eq!(
        location(&r),
        "/login",
        "the fifth wrong code ends the attempt"
    );
    let r = second_factor(&b2, &code(&secret, 0)).await;
    assert_eq!(location(&r), "/login", "a right code no longer helps");
    assert!(signed_out(&b2.get_resp("/profile").await));
    // They counted as failed sign-ins: the username is now throttled.
    let r = sign_in(&b2, "wes", PW).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

async fn enforcement_sends_users_in_scope_to_enrol(b: Backend) {
    let Some(app) = spawn_with(
        b,
        Opts {
            vars: vec![("AUTH_2FA_ENFORCE", "superuser".into())],
            ..Opts::default()
        },
    )
    .await
    else {
        return;
    };
    app.create_user("noc", PW, true);
    app.create_user("mem", PW, false);
    let noc = Browser::signed_in(&app, "noc").await;
    for path in ["/", "/staff/users", "/profile"] {
        let r = noc.get_resp(path).await;
        assert_eq!(location(&r), "/profile/2fa", "{path}");
    }
    let r = noc.post("/staff/customers/new", &[("name", "x")]).await;
    assert_eq!(location(&r), "/profile/2fa", "nor can it change anything");
    let (s, page) = noc.get("/profile/2fa").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("requires a second factor"));
    let (secret, _) = enrol(&noc).await;
    assert_eq!(
        noc.get("/staff/users").await.0,
        StatusCode::OK,
        "free once enrolled"
    );
    // Members are not in scope.
    let mem = Browser::signed_in(&app, "mem").await;
    assert_eq!(mem.get("/profile").await.0, StatusCode::OK);
    // Next sign-in: password and code, then everything.
    let again = Browser::anonymous(&app);
    sign_in(&again, "noc", PW).await;
    let r = second_factor(&again, &code(&secret, 1)).await;
    assert_eq!(location(&r), "/");
    assert_eq!(again.get("/staff/users").await.0, StatusCode::OK);
}

/// PeeringDB profiles with and without `mfa` in `amr`.
fn amr_profile(id: i64, name: &str, amr: Option<&[&str]>) -> serde_json::Value {
    let mut p = profile(id, name, &[64900]);
    if let Some(a) = amr {
        p["amr"] = serde_json::json!(a);
    }
    p
}

async fn peeringdb_amr_matrix(b: Backend) {
    for require_mfa in [false, true] {
        let Some(app) = spawn_with(
            b,
            Opts {
                profiles: vec![
                    amr_profile(701, "Mfa User", Some(&["pwd", "mfa"])),
                    amr_profile(702, "Pwd User", Some(&["pwd"])),
                    amr_profile(703, "Nothing User", None),
                ],
                vars: vec![("AUTH_PEERINGDB_REQUIRE_MFA", require_mfa.to_string())],
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
                &crate::peeringdb::fields(
                    "amrnet",
                    64900,
                    ixp_portal::domain::CustomerType::Full,
                    ixp_portal::domain::CustomerStatus::Normal,
                ),
            )
            .unwrap()
        });
        let start = app.get("/auth/login/peeringdb").await;
        assert!(location(&start).contains("amr"), "amr is always requested");
        // Without TOTP: mfa → in; no mfa → in unless REQUIRE_MFA.
        for (index, has_mfa) in [(0usize, true), (1, false), (2, false)] {
            let r = app.peeringdb_login(index).await;
            let to = location(&r);
            if has_mfa || !require_mfa {
                assert_eq!(to, "/", "profile {index}, require {require_mfa}");
            } else {
                assert_eq!(
                    to, "/login",
                    "refused: profile {index}, require {require_mfa}"
                );
            }
            app.post("/logout", &[]).await;
        }
        if require_mfa {
            continue;
        }
        // With TOTP: PeeringDB's mfa counts; without it the code is asked.
        let mut secrets = Vec::new();
        for index in [0usize, 1] {
            let b = Browser::anonymous(&app);
            let start = b.get_resp("/auth/login/peeringdb").await;
            let cb = app
                .provider_answer(&format!("{}&user={index}", location(&start)))
                .await;
            b.client.get(cb).send().await.unwrap();
            let (secret, _) = enrol(&b).await;
            secrets.push(secret);
        }
        for (index, asked) in [(0usize, false), (1, true)] {
            let b = Browser::anonymous(&app);
            let start = b.get_resp("/auth/login/peeringdb").await;
            let cb = app
                .provider_answer(&format!("{}&user={index}", location(&start)))
                .await;
            let r = b.client.get(cb).send().await.unwrap();
            if asked {
                assert_eq!(location(&r), "/login/2fa", "no mfa on PeeringDB: our code");
                assert!(signed_out(&b.get_resp("/profile").await));
                let r = second_factor(&b, &code(&secrets[index], 1)).await;
                assert_eq!(location(&r), "/");
            } else {
                assert_eq!(location(&r), "/", "PeeringDB's mfa counts as two factors");
            }
            assert_eq!(b.get("/profile").await.0, StatusCode::OK);
        }
    }
}

async fn staff_and_cli_end_sessions_and_reset_the_second_factor(b: Backend) {
    let Some(app) = crate::common::spawn(b).await else {
        return;
    };
    let uid = app.create_user("sue", PW, false);
    app.create_user("noc", PW, true);
    let sue = Browser::signed_in(&app, "sue").await;
    let noc = Browser::signed_in(&app, "noc").await;
    let (_, page) = noc.get(&format!("/staff/users/{uid}")).await;
    assert!(page.contains("id=\"session-count\">1<"), "{page}");
    noc.post_follow(&format!("/staff/users/{uid}/sessions/end"), &[])
        .await;
    assert!(signed_out(&sue.get_resp("/profile").await));
    // The second factor, reset by staff (audited), ends sessions too.
    let sue = Browser::signed_in(&app, "sue").await;
    enrol(&sue).await;
    let (_, page) = noc.get(&format!("/staff/users/{uid}")).await;
    assert!(page.contains("TOTP on"));
    noc.post_follow(&format!("/staff/users/{uid}/2fa/reset"), &[])
        .await;
    assert!(signed_out(&sue.get_resp("/profile").await));
    let fresh = Browser::anonymous(&app);
    assert_eq!(
        location(&sign_in(&fresh, "sue", PW).await),
        "/",
        "no code asked now"
    );
    let entries =
        app.with_conn(|c| audit::page(c, Some("two_factor.reset"), None, None, 10).unwrap());
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].actor, "noc");
    // The CLI: JSON, sign-out, 2fa-reset; no-ops and unknown names fail.
    let cli = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ixp-portal"))
            .args(args)
            .env_clear()
            .env("DATABASE_URL", &app.database_url)
            .env("PORTAL_DATA_DIR", app.dir.path())
            .output()
            .unwrap()
    };
    enrol(&fresh).await;
    let out = cli(&["user", "show", "sue", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["two_factor"], true);
    assert_eq!(json["sessions"], 1);
    assert!(cli(&["user", "sign-out", "sue"]).status.success());
    assert!(signed_out(&fresh.get_resp("/profile").await));
    let out = cli(&["user", "sign-out", "sue"]);
    assert!(!out.status.success(), "nothing to end");
    assert!(cli(&["user", "2fa-reset", "sue"]).status.success());
    let out = cli(&["user", "2fa-reset", "sue"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no second factor"));
    let out = cli(&["user", "sign-out", "ghost"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("ghost"));
    let out = cli(&["user", "show", "sue", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (json["two_factor"].clone(), json["sessions"].clone()),
        (serde_json::json!(false), serde_json::json!(0))
    );
}

/// SPEC §7: with `AUTH_PEERINGDB_REQUIRE_MFA`, the Peering API's `/auth`
/// gives no token to a PeeringDB sign-in without `mfa` either.
async fn peering_api_auth_applies_the_mfa_rule(b: Backend) {
    use crate::peering_api::{REDIRECT, VERIFIER, app_with, code_for, post_json};
    let Some(app) = app_with(b, vec![("AUTH_PEERINGDB_REQUIRE_MFA", "true".into())]).await else {
        return;
    };
    let code = code_for(&app, 0).await;
    let (s, body) = post_json(
        &app,
        "/auth",
        None,
        &serde_json::json!({"code": code, "redirect_uri": REDIRECT, "code_verifier": VERIFIER}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body.to_string().contains("two-factor authentication"),
        "{body}"
    );
}
