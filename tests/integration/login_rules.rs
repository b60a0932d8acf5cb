//! Rules of signing in that had no test of their own: the session is
//! renewed at login (SPEC §7), `AUTH_PEERINGDB_ENABLED=false` (§2), the
//! current customer is kept while still linked (§2), and an OAuth flow
//! started on one instance finishes on another (§5).
use crate::both_backends;
use crate::common::{
    Backend, Opts, TestApp, client, csrf_of, location, profile, spawn, spawn_with,
};
use ixp_portal::db::customers;
use reqwest::StatusCode;

both_backends!(
    login_renews_the_session,
    peeringdb_disabled_shows_no_button_and_refuses_the_routes,
    peeringdb_login_keeps_the_current_customer,
    oauth_started_on_one_instance_finishes_on_another
);

/// The session cookie that a response sets.
fn session_cookie(r: &reqwest::Response) -> String {
    r.cookies()
        .find(|c| c.name() == "ixp_portal")
        .map(|c| format!("ixp_portal={}", c.value()))
        .expect("a session cookie")
}

fn add_customer(app: &TestApp, short: &str, asn: i64) -> i64 {
    crate::staff::add_customer(app, &format!("{short} Networks"), short, asn).id
}

async fn login_renews_the_session(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    app.create_user("rita", "correct horse battery", false);
    // Before the login: a cookie and the form token of that session.
    let before = app.get("/login").await;
    let old_cookie = session_cookie(&before);
    let old_token = csrf_of(&before.text().await.expect("page"));
    let r = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("username", "rita"),
            ("password", "correct horse battery"),
            ("csrf", old_token.as_str()),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(location(&r), "/", "signed in");
    assert_ne!(session_cookie(&r), old_cookie, "a new session cookie");
    // The old cookie is not signed in, and its token opens no form.
    let replay = client();
    let page = replay
        .get(app.url("/profile"))
        .header("Cookie", &old_cookie)
        .send()
        .await
        .expect("GET");
    assert!(
        location(&page).starts_with("/login"),
        "the pre-login cookie is not signed in"
    );
    let post = replay
        .post(app.url("/logout"))
        .header("Cookie", &old_cookie)
        .form(&[("csrf", old_token.as_str())])
        .send()
        .await
        .expect("POST");
    assert_eq!(post.status(), StatusCode::FORBIDDEN, "the old token");
    // Nor does the signed-in session take the pre-login token.
    let post = app
        .client
        .post(app.url("/logout"))
        .form(&[("csrf", old_token.as_str())])
        .send()
        .await
        .expect("POST");
    assert_eq!(post.status(), StatusCode::FORBIDDEN, "the old token");
    assert_eq!(app.get("/profile").await.status(), StatusCode::OK);
}

async fn peeringdb_disabled_shows_no_button_and_refuses_the_routes(b: Backend) {
    let opts = Opts {
        vars: vec![("AUTH_PEERINGDB_ENABLED", "false".into())],
        profiles: vec![profile(3, "Jane Doe", &[64500])],
        ..Opts::default()
    };
    let Some(app) = spawn_with(b, opts).await else {
        return;
    };
    add_customer(&app, "examplenet", 64500);
    let (status, page) = app.get_text("/login").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("name=\"password\""), "the password form");
    assert!(
        !page.contains("/auth/login/peeringdb"),
        "no Login with PeeringDB: {page}"
    );
    let start = app.get("/auth/login/peeringdb").await;
    assert_eq!(start.status(), StatusCode::NOT_FOUND);
    // A callback with what the provider would send is refused too.
    let authorize = format!(
        "{}/oauth2/authorize/?response_type=code&client_id={}&redirect_uri={}&state=s&user=0",
        app.sim_base,
        crate::common::CLIENT_ID,
        app.url("/auth/login/peeringdb/callback")
    );
    let callback = client().get(&authorize).send().await.expect("authorize");
    let to = location(&callback);
    let path = to
        .find("/auth/")
        .map(|i| &to[i..])
        .unwrap_or("/auth/login/peeringdb/callback?code=x&state=s");
    let r = app.get(path).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    let user = app.with_conn(|c| ixp_portal::db::users::by_peeringdb_id(c, 3).expect("query"));
    assert!(user.is_none(), "nobody was signed up");
}

async fn peeringdb_login_keeps_the_current_customer(b: Backend) {
    let opts = Opts {
        profiles: vec![profile(3, "Jane Doe", &[64500, 64501])],
        ..Opts::default()
    };
    let Some(app) = spawn_with(b, opts).await else {
        return;
    };
    let first = add_customer(&app, "first", 64500);
    let second = add_customer(&app, "second", 64501);
    assert_eq!(location(&app.peeringdb_login(0).await), "/");
    let current = || {
        app.with_conn(|c| {
            ixp_portal::db::users::by_peeringdb_id(c, 3)
                .expect("query")
                .expect("user")
                .current_customer_id
        })
    };
    // The first login picks the first linked customer; choose the other.
    let picked = current().expect("a current customer");
    let other = if picked == first { second } else { first };
    let r = app
        .post("/switch", &[("customer_id", &other.to_string())])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(current(), Some(other));
    app.post("/logout", &[]).await;
    // Still linked to both: the next login keeps the choice.
    assert_eq!(location(&app.peeringdb_login(0).await), "/");
    assert_eq!(current(), Some(other), "the current customer is kept");
    let name = app.with_conn(|c| {
        customers::find(c, other)
            .expect("query")
            .expect("customer")
            .name
    });
    let (_, page) = app.get_text("/").await;
    assert!(page.contains(&name), "the dashboard shows {name}");
}

async fn oauth_started_on_one_instance_finishes_on_another(b: Backend) {
    let key = "s".repeat(32) + &"k".repeat(32);
    let opts = Opts {
        vars: vec![("SESSION_KEY", key.clone())],
        profiles: vec![profile(3, "Jane Doe", &[64500])],
        ..Opts::default()
    };
    let Some(one) = spawn_with(b, opts).await else {
        return;
    };
    // Behind one load balancer: the same APP_URL, database, key and provider.
    let shared = Opts {
        vars: vec![("SESSION_KEY", key), ("APP_URL", one.base.clone())],
        database_url: Some(one.database_url.clone()),
        sim: Some((one.sim.clone(), one.sim_base.clone())),
        ..Opts::default()
    };
    let two = spawn_with(b, shared).await.expect("second instance");
    add_customer(&one, "examplenet", 64500);
    // Started on one: the state and verifier ride in the session.
    let start = one.get("/auth/login/peeringdb").await;
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let callback = one
        .provider_answer(&format!("{}&user=0", location(&start)))
        .await;
    let path = callback
        .strip_prefix(&one.base)
        .expect("the callback of APP_URL");
    // Finished on two, with the same browser (the same cookie).
    let done = one
        .client
        .get(two.url(path))
        .send()
        .await
        .expect("callback on two");
    assert_eq!(location(&done), "/", "signed in through the other instance");
    let profile = one
        .client
        .get(two.url("/profile"))
        .send()
        .await
        .expect("profile");
    assert_eq!(profile.status(), StatusCode::OK);
    assert!(profile.text().await.expect("page").contains("jane.doe"));
}
