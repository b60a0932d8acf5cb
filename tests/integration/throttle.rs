//! SPEC §8, password login throttling: failures count per account (from
//! anywhere) and per client address (across accounts); a browser with a
//! device cookie of the account gets its own 5; a lock-out lasts 15
//! minutes; everything is in the audit log; the refusal does not say
//! whether the account exists. And no password is hashed while a pooled
//! database connection is held.
use crate::both_backends;
use crate::common::{Backend, Opts, TestApp, location, spawn_with};
use crate::staff::{Browser, PW, audit_of};
use chrono::Duration;
use diesel::prelude::*;
use ixp_portal::db::schema::{login_failures, login_lockouts};
use reqwest::{Response, StatusCode};

both_backends!(
    account_locks_whatever_the_address,
    device_cookie_gets_its_own_tries,
    lock_lifts_after_fifteen_minutes,
    address_locks_after_fifty_failures_across_accounts,
    sign_ins_failures_and_lockouts_are_audited,
    locked_answer_does_not_tell_whether_the_account_exists,
    wrong_second_factor_codes_count_for_the_account,
    no_password_hashing_while_a_connection_is_held,
);

const WRONG: &str = "not the password";

/// An application behind a trusted proxy (the test's loopback peer), so
/// that `X-Forwarded-For` names the client address.
async fn behind_proxy(b: Backend) -> Option<TestApp> {
    spawn_with(
        b,
        Opts {
            vars: vec![("PORTAL_TRUSTED_PROXIES", "127.0.0.1/32,::1/128".into())],
            ..Opts::default()
        },
    )
    .await
}

/// POSTs a form with the browser's CSRF token, from the client address `from`.
async fn post_from(b: &Browser, from: &str, path: &str, form: &[(&str, &str)]) -> Response {
    let token = b.csrf().await;
    let mut fields = form.to_vec();
    fields.push(("csrf", &token));
    b.client
        .post(b.url(path))
        .header("X-Forwarded-For", from)
        .form(&fields)
        .send()
        .await
        .expect("POST")
}

async fn login_from(b: &Browser, from: &str, user: &str, pw: &str) -> Response {
    post_from(b, from, "/login", &[("username", user), ("password", pw)]).await
}

/// Five wrong passwords for `user`, each from a new browser and address.
async fn five_failures(app: &TestApp, user: &str, net: u8) {
    for i in 1..=5 {
        let r = login_from(
            &Browser::anonymous(app),
            &format!("198.51.{net}.{i}"),
            user,
            WRONG,
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "failure {i}");
    }
}

/// The error shown on a page.
fn alert(html: &str) -> String {
    let marker = "role=\"alert\">";
    let i = html.find(marker).expect("the page shows an error") + marker.len();
    html[i..]
        .split("</div>")
        .next()
        .unwrap_or_default()
        .to_string()
}

fn signed_in(r: &Response) -> bool {
    r.status() == StatusCode::SEE_OTHER && location(r) == "/"
}

async fn account_locks_whatever_the_address(b: Backend) {
    let Some(app) = behind_proxy(b).await else {
        return;
    };
    app.create_user("ann", PW, false);
    app.create_user("carl", PW, false);
    five_failures(&app, "ann", 1).await;
    let r = login_from(&Browser::anonymous(&app), "192.0.2.77", "ann", PW).await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "5 failures from 5 addresses lock the account, even for the right password"
    );
    let page = r.text().await.unwrap();
    assert!(alert(&page).contains("Try again in 15 minutes"), "{page}");
    // Another account from the same addresses is not affected.
    let r = login_from(&Browser::anonymous(&app), "198.51.1.1", "carl", PW).await;
    assert!(signed_in(&r), "another account signs in");
}

async fn device_cookie_gets_its_own_tries(b: Backend) {
    let Some(app) = behind_proxy(b).await else {
        return;
    };
    app.create_user("dee", PW, false);
    app.create_user("eve", PW, false);
    // Dee's own browser signs in once, and is given a device cookie.
    let own = Browser::anonymous(&app);
    let r = login_from(&own, "192.0.2.10", "dee", PW).await;
    assert!(signed_in(&r));
    let set: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| v.starts_with("ixp_portal_device="))
        .map(str::to_string)
        .collect();
    assert_eq!(set.len(), 1, "one device cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Max-Age=31536000", "Path=/"] {
        assert!(set[0].contains(attribute), "{attribute} in {}", set[0]);
    }
    assert!(!set[0].contains("Secure"), "APP_URL is http here");
    assert_eq!(
        own.post("/logout", &[]).await.status(),
        StatusCode::SEE_OTHER
    );

    // Someone else locks the account.
    five_failures(&app, "dee", 2).await;
    let r = login_from(&Browser::anonymous(&app), "192.0.2.10", "dee", PW).await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a browser without the cookie is refused, even from Dee's address"
    );
    // Dee's browser is not.
    let r = login_from(&own, "192.0.2.10", "dee", PW).await;
    assert!(signed_in(&r), "the device cookie lets Dee in");
    assert_eq!(
        own.post("/logout", &[]).await.status(),
        StatusCode::SEE_OTHER
    );

    // It has 5 tries of its own; then it is refused too.
    for i in 1..=5 {
        let r = login_from(&own, "192.0.2.10", "dee", WRONG).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "own failure {i}");
    }
    let r = login_from(&own, "192.0.2.10", "dee", PW).await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "its 5 are used up"
    );

    // Dee's device cookie gives nothing for Eve's account.
    five_failures(&app, "eve", 3).await;
    let r = login_from(&own, "192.0.2.10", "eve", PW).await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a device cookie of one account does not open another"
    );
}

/// Moves every failure and lock-out `minutes` into the past.
fn age(app: &TestApp, minutes: i64, lockouts: bool) {
    app.with_conn(|c| {
        let rows: Vec<(i64, chrono::NaiveDateTime)> = login_failures::table
            .select((login_failures::id, login_failures::at))
            .load(c)
            .unwrap();
        for (id, at) in rows {
            diesel::update(login_failures::table.find(id))
                .set(login_failures::at.eq(at - Duration::minutes(minutes)))
                .execute(c)
                .unwrap();
        }
        if lockouts {
            let rows: Vec<(i64, chrono::NaiveDateTime)> = login_lockouts::table
                .select((login_lockouts::id, login_lockouts::ends_at))
                .load(c)
                .unwrap();
            for (id, ends) in rows {
                diesel::update(login_lockouts::table.find(id))
                    .set(login_lockouts::ends_at.eq(ends - Duration::minutes(minutes)))
                    .execute(c)
                    .unwrap();
            }
        }
    });
}

async fn lock_lifts_after_fifteen_minutes(b: Backend) {
    let Some(app) = behind_proxy(b).await else {
        return;
    };
    app.create_user("fay", PW, false);
    five_failures(&app, "fay", 4).await;
    let try_now = || async { login_from(&Browser::anonymous(&app), "192.0.2.20", "fay", PW).await };
    assert_eq!(try_now().await.status(), StatusCode::TOO_MANY_REQUESTS);
    // 14 minutes on, still refused.
    age(&app, 14, true);
    assert_eq!(try_now().await.status(), StatusCode::TOO_MANY_REQUESTS);
    // 15 minutes after the lock-out began, it has lifted.
    age(&app, 1, true);
    assert!(signed_in(&try_now().await), "the lock-out lifted");
}

async fn address_locks_after_fifty_failures_across_accounts(b: Backend) {
    let Some(app) = behind_proxy(b).await else {
        return;
    };
    app.create_user("gus", PW, false);
    let attacker = Browser::anonymous(&app);
    let from = "203.0.113.9";
    for i in 0..50 {
        let r = login_from(&attacker, from, &format!("guess{i}"), WRONG).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "failure {i}");
    }
    let r = login_from(&Browser::anonymous(&app), from, "gus", PW).await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "50 failures from one address refuse it for every account"
    );
    assert!(alert(&r.text().await.unwrap()).contains("from your address"));
    let r = login_from(&Browser::anonymous(&app), "203.0.113.10", "gus", PW).await;
    assert!(signed_in(&r), "other addresses are not refused");
}

async fn sign_ins_failures_and_lockouts_are_audited(b: Backend) {
    let Some(app) = behind_proxy(b).await else {
        return;
    };
    app.create_user("hal", PW, false);
    let r = login_from(&Browser::anonymous(&app), "192.0.2.30", "hal", PW).await;
    assert!(signed_in(&r));
    let ok = audit_of(&app, "login.password");
    assert_eq!(ok.len(), 1);
    assert_eq!(
        (ok[0].actor.as_str(), ok[0].subject.as_str()),
        ("hal", "hal")
    );
    assert!(ok[0].details.contains("192.0.2.30"), "{}", ok[0].details);

    five_failures(&app, "hal", 5).await;
    let failed = audit_of(&app, "login.failure");
    assert_eq!(failed.len(), 5);
    assert!(
        failed
            .iter()
            .all(|e| e.actor == "hal" && e.subject == "hal")
    );
    assert!(
        failed[0].details.contains("198.51.5.5"),
        "{}",
        failed[0].details
    );
    let locks = audit_of(&app, "login.lockout");
    assert_eq!(locks.len(), 1, "one lock-out");
    assert_eq!(locks[0].actor, "hal");

    // No account matches: `anonymous`, with the address; the typed name
    // is not written down.
    let r = login_from(&Browser::anonymous(&app), "192.0.2.31", "nosuchname", WRONG).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let failed = audit_of(&app, "login.failure");
    assert_eq!(failed.len(), 6);
    assert_eq!(failed[0].actor, "anonymous");
    assert_eq!(failed[0].subject, "192.0.2.31");
    let all = app.with_conn(|c| ixp_portal::db::audit::page(c, None, None, None, 1000).unwrap());
    assert!(
        all.iter()
            .all(|e| !e.details.contains("nosuchname") && !e.subject.contains("nosuchname"))
    );
}

async fn locked_answer_does_not_tell_whether_the_account_exists(b: Backend) {
    let Some(app) = behind_proxy(b).await else {
        return;
    };
    app.create_user("ida", PW, false);
    five_failures(&app, "ida", 6).await;
    five_failures(&app, "nobody", 7).await;
    let real = login_from(&Browser::anonymous(&app), "192.0.2.40", "ida", PW).await;
    let ghost = login_from(&Browser::anonymous(&app), "192.0.2.41", "nobody", PW).await;
    assert_eq!(real.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(ghost.status(), real.status());
    let (real, ghost) = (
        alert(&real.text().await.unwrap()),
        alert(&ghost.text().await.unwrap()),
    );
    assert_eq!(real, ghost, "the same answer for an account and no account");
    assert!(!real.contains("exist"), "{real}");
}

/// Enrols the signed-in browser's user in TOTP; returns the secret.
async fn enrol(b: &Browser) -> String {
    use ixp_portal::auth::totp;
    b.post("/profile/2fa/start", &[]).await;
    let (_, page) = b.get("/profile/2fa").await;
    let marker = "data-totp-secret=\"";
    let i = page.find(marker).expect("the secret is shown") + marker.len();
    let secret = page[i..].split('"').next().unwrap().to_string();
    let now = chrono::Utc::now().timestamp() as u64;
    let code = totp::code_at(&secret, now).unwrap();
    let r = b.post("/profile/2fa/confirm", &[("code", &code)]).await;
    assert_eq!(r.status(), StatusCode::OK, "enrolled");
    secret
}

async fn wrong_second_factor_codes_count_for_the_account(b: Backend) {
    let Some(app) = behind_proxy(b).await else {
        return;
    };
    app.create_user("jo", PW, false);
    let own = Browser::signed_in(&app, "jo").await;
    enrol(&own).await;
    // Someone with the password, from one address, guesses codes.
    let thief = Browser::anonymous(&app);
    let r = login_from(&thief, "198.51.9.9", "jo", PW).await;
    assert_eq!(location(&r), "/login/2fa");
    for i in 1..=5 {
        let r = post_from(&thief, "198.51.9.9", "/login/2fa", &[("code", "000000")]).await;
        assert!(
            r.status() == StatusCode::UNAUTHORIZED || location(&r) == "/login",
            "wrong code {i}"
        );
    }
    // The account is locked from other addresses too.
    let r = login_from(&Browser::anonymous(&app), "192.0.2.50", "jo", PW).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(audit_of(&app, "login.failure").len(), 5);
}

async fn no_password_hashing_while_a_connection_is_held(b: Backend) {
    use ixp_portal::auth::{password::hashed_while_holding_connection, token};
    let Some(app) = behind_proxy(b).await else {
        return;
    };
    let uid = app.create_user("kim", PW, false);
    let anon = Browser::anonymous(&app);
    for (user, pw) in [("kim", WRONG), ("nobody", WRONG)] {
        let r = login_from(&anon, "192.0.2.60", user, pw).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // A right password, then a change on the profile.
    let kim = Browser::signed_in(&app, "kim").await;
    let r = kim
        .post(
            "/profile/password",
            &[
                ("current", PW),
                ("password", "a new password 1"),
                ("confirm", "a new password 1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The reset link.
    let secret = token::random_token();
    app.with_conn(|c| ixp_portal::db::resets::create(c, uid, &token::digest(&secret)).unwrap());
    let r = anon
        .post(
            &format!("/password/reset/{secret}"),
            &[
                ("password", "a new password 2"),
                ("confirm", "a new password 2"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/login", "the reset went through");
    let r = login_from(&anon, "192.0.2.60", "kim", "a new password 2").await;
    assert!(signed_in(&r));
    assert_eq!(
        hashed_while_holding_connection(),
        0,
        "no Argon2 work while a pooled connection is held"
    );
}
