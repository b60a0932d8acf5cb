//! SPEC §5: several instances on one database behind a load balancer share
//! nothing in memory that matters: a user signed in on one is signed in on
//! the other, and failed logins are counted across both.
use crate::both_backends;
use crate::common::{Backend, Opts, TestApp, spawn_with};
use reqwest::StatusCode;

both_backends!(two_instances_share_sessions_and_throttling);

async fn two_instances_share_sessions_and_throttling(b: Backend) {
    let key = "k".repeat(32) + &"e".repeat(32);
    let opts = Opts {
        vars: vec![("SESSION_KEY", key.clone())],
        ..Opts::default()
    };
    let Some(one) = spawn_with(b, opts).await else {
        return;
    };
    let shared = Opts {
        vars: vec![("SESSION_KEY", key)],
        database_url: Some(one.database_url.clone()),
        ..Opts::default()
    };
    let two = spawn_with(b, shared).await.expect("second instance");
    one.create_user("nina", "correct horse battery", false);

    // Sign in on one; the next request goes to the other, with the same cookie.
    let cookie = signed_in_cookie(&one).await;
    let on_two = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(two.url("/profile"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        on_two.status(),
        StatusCode::OK,
        "the session is valid on the other instance"
    );
    assert!(on_two.text().await.unwrap().contains("nina"));

    // Signed out on two: the same cookie is refused on one too (the
    // session row is gone, SPEC §7).
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = plain
        .get(two.url("/profile"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = crate::common::csrf_of(&page);
    let out = plain
        .post(two.url("/logout"))
        .header("Cookie", &cookie)
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let after = plain
        .get(one.url("/profile"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        after.status(),
        StatusCode::SEE_OTHER,
        "signed out on every instance"
    );

    // Throttling counts failures on both instances together.
    for app in [&one, &two, &one, &two, &one] {
        let r = app.login("nina", "wrong password!!").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let fresh = crate::common::client();
    let token = crate::common::csrf_of(
        &fresh
            .get(two.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let r = fresh
        .post(two.url("/login"))
        .form(&[
            ("username", "nina"),
            ("password", "correct horse battery"),
            ("csrf", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "5 failures across both instances"
    );
}

/// Signs in on `app` and returns the session cookie (`name=value`).
async fn signed_in_cookie(app: &TestApp) -> String {
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = c.get(app.url("/login")).send().await.unwrap();
    let first = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let token = crate::common::csrf_of(&page.text().await.unwrap());
    let r = c
        .post(app.url("/login"))
        .header("Cookie", &first)
        .form(&[
            ("username", "nina"),
            ("password", "correct horse battery"),
            ("csrf", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The session's cookie (a device cookie comes too, SPEC §8).
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("ixp_portal="))
        .expect("a session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string()
}
