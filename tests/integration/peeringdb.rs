//! Issue 3: Login with PeeringDB end to end, through the simulator.
use crate::both_backends;
use crate::common::{Backend, Opts, TestApp, location, profile, spawn_with};
use chrono::{Duration, Utc};
use ixp_portal::db::models::CustomerFields;
use ixp_portal::db::{affiliations, audit, users};
use ixp_portal::domain::{Asn, CreatedBy, CustomerStatus as S, CustomerType as T, Privilege};
use ixp_portal::peeringdb::simulator::Faults;
use ixp_portal::peeringdb::{MSG_MFA, MSG_NO_MATCH, MSG_NOT_ELIGIBLE, MSG_UNVERIFIED};
use reqwest::StatusCode;
use serde_json::json;

both_backends!(
    first_login_creates_user_and_links,
    second_login_follows_profile_changes,
    only_ineligible_matches_are_refused,
    opted_out_first_network_and_shared_asn,
    user_deleted_when_last_link_goes,
    staff_links_are_never_touched,
    unverified_profile_is_refused,
    mfa_required,
    custadmin_privilege_policy,
    username_collision_gets_suffix,
    signed_in_user_is_sent_home,
    state_faults_change_nothing,
    provider_faults_change_nothing,
    concurrent_callbacks_make_one_user,
);

pub fn fields(short: &str, asn: i64, t: T, s: S) -> CustomerFields {
    CustomerFields {
        name: format!("{short} Networks"),
        shortname: short.into(),
        autsys: Asn::new(asn).unwrap(),
        cust_type: t,
        status: s,
        date_joined: None,
        date_left: None,
        peeringdb_oauth: true,
    }
}

fn add_customer(app: &TestApp, f: CustomerFields) -> i64 {
    app.with_conn(|c| ixp_portal::admin::create_customer(c, "test", &f).unwrap())
}

async fn app_with(
    b: Backend,
    profiles: Vec<serde_json::Value>,
    vars: Vec<(&'static str, String)>,
) -> Option<TestApp> {
    spawn_with(
        b,
        Opts {
            profiles,
            vars,
            ..Opts::default()
        },
    )
    .await
}

/// Counts of users, affiliations, login records and audit entries.
fn snapshot(app: &TestApp) -> (i64, i64, i64, usize) {
    use diesel::prelude::*;
    use ixp_portal::db::schema::{affiliations as a, login_records as l, users as u};
    app.with_conn(|c| {
        (
            u::table.count().get_result(c).unwrap(),
            a::table.count().get_result(c).unwrap(),
            l::table.count().get_result(c).unwrap(),
            audit::page(c, None, None, None, 100_000).unwrap().len(),
        )
    })
}

async fn expect_refused(app: &TestApp, index: usize, message: &str) {
    let r = app.peeringdb_login(index).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/login");
    let page = app.page_after(r).await;
    assert!(
        page.contains(&askama_escape(message)),
        "expected {message:?} on the login page:\n{page}"
    );
    assert_eq!(
        app.get("/").await.status(),
        StatusCode::SEE_OTHER,
        "not signed in"
    );
}

/// The page shows text HTML-escaped.
fn askama_escape(s: &str) -> String {
    s.replace('&', "&#38;")
        .replace('\'', "&#39;")
        .replace('"', "&#34;")
}

async fn first_login_creates_user_and_links(b: Backend) {
    let Some(app) = app_with(b, vec![profile(3, "Jane Doe", &[64500])], vec![]).await else {
        return;
    };
    let cid = add_customer(&app, fields("examplenet", 64500, T::Full, S::Normal));
    let r = app.peeringdb_login(0).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/");
    let page = app.page_after(r).await;
    assert!(
        page.contains("Your PeeringDB affiliation with examplenet Networks has been added."),
        "{page}"
    );
    assert!(page.contains("AS64500"), "the dashboard shows the customer");
    let u = app
        .with_conn(|c| users::by_peeringdb_id(c, 3).unwrap())
        .expect("user created");
    assert_eq!(u.username, "jane.doe");
    assert_eq!(u.creator, "OAuth-PeeringDB");
    assert_eq!(u.name, "Jane Doe");
    assert_eq!(u.email, "jane.doe@example.org");
    assert!(
        u.password_hash.starts_with("!unknown!") && u.password_hash.len() == 9 + 64,
        "a password nobody knows"
    );
    assert!(!u.superuser);
    assert_eq!(u.current_customer_id, Some(cid));
    let links = app.with_conn(|c| affiliations::of_user(c, u.id).unwrap());
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].0.created_by, CreatedBy::PeeringDb);
    assert_eq!(links[0].0.privilege, Privilege::CustUser);
    assert_eq!(links[0].0.last_login_via.as_deref(), Some("peeringdb"));
    let records = app.with_conn(|c| ixp_portal::db::logins::of_user(c, u.id, 5).unwrap());
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].method, "peeringdb");
    // A password login with the unknown password is impossible: from a
    // browser that is not signed in, no guess of the stored marker works.
    let stranger = crate::staff::Browser::anonymous(&app);
    for guess in ["", "!unknown!", u.password_hash.as_str()] {
        let r = stranger
            .post("/login", &[("username", "jane.doe"), ("password", guess)])
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "password {guess:?}");
    }
    assert_eq!(
        stranger.get_resp("/").await.status(),
        StatusCode::SEE_OTHER,
        "still signed out"
    );
}

async fn second_login_follows_profile_changes(b: Backend) {
    let Some(app) = app_with(b, vec![profile(3, "Jane Doe", &[64500])], vec![]).await else {
        return;
    };
    add_customer(&app, fields("first", 64500, T::Full, S::Normal));
    add_customer(&app, fields("second", 64501, T::ProBono, S::Normal));
    assert_eq!(location(&app.peeringdb_login(0).await), "/");
    app.post("/logout", &[]).await;
    let mut changed = profile(3, "Jane Q Doe", &[64501]);
    changed["email"] = json!("jane@new.example");
    app.sim.set_profile(0, changed);
    let r = app.peeringdb_login(0).await;
    assert_eq!(location(&r), "/");
    let page = app.page_after(r).await;
    assert!(
        page.contains("Your PeeringDB affiliation with second Networks has been added."),
        "{page}"
    );
    assert!(page.contains(
        "Your PeeringDB affiliation with first Networks has been removed, as you are no longer affiliated with this network on PeeringDB."
    ));
    let u = app
        .with_conn(|c| users::by_peeringdb_id(c, 3).unwrap())
        .unwrap();
    assert_eq!(u.name, "Jane Q Doe");
    assert_eq!(u.email, "jane@new.example");
    assert_eq!(u.username, "jane.doe", "the username stays");
    let links = app.with_conn(|c| affiliations::of_user(c, u.id).unwrap());
    assert_eq!(
        links
            .iter()
            .map(|(_, c)| c.shortname.as_str())
            .collect::<Vec<_>>(),
        vec!["second"]
    );
    assert_eq!(
        u.current_customer_id,
        Some(links[0].1.id),
        "current customer moved to a linked one"
    );
}

async fn only_ineligible_matches_are_refused(b: Backend) {
    let yesterday = Utc::now().date_naive() - Duration::days(1);
    let today = Utc::now().date_naive();
    let cases: Vec<(CustomerFields, &str)> = vec![
        (
            CustomerFields {
                peeringdb_oauth: false,
                ..fields("optout", 64510, T::Full, S::Normal)
            },
            "opted out",
        ),
        (
            fields("suspended", 64511, T::Full, S::Suspended),
            "status is suspended",
        ),
        (
            CustomerFields {
                date_left: Some(yesterday),
                ..fields("cancelled", 64512, T::Full, S::Normal)
            },
            "left the IXP",
        ),
        (
            CustomerFields {
                date_left: Some(today),
                ..fields("lefttoday", 64513, T::Full, S::Normal)
            },
            "left the IXP",
        ),
        (
            fields("associate", 64514, T::Associate, S::Normal),
            "type is associate",
        ),
        (
            fields("notconn", 64515, T::Full, S::NotConnected),
            "status is notconnected",
        ),
        (
            fields("internal", 64516, T::Internal, S::Normal),
            "type is internal",
        ),
    ];
    let profiles = cases
        .iter()
        .enumerate()
        .map(|(i, (f, _))| profile(100 + i as i64, "Nina Nomatch", &[f.autsys.as_i64()]))
        .collect();
    let Some(app) = app_with(b, profiles, vec![]).await else {
        return;
    };
    for (f, _) in &cases {
        add_customer(&app, f.clone());
    }
    for (i, (f, reason)) in cases.iter().enumerate() {
        let (users_before, links_before, ..) = snapshot(&app);
        // Members, but none eligible: said so, not "no member matches".
        expect_refused(&app, i, MSG_NOT_ELIGIBLE).await;
        let (users_after, links_after, ..) = snapshot(&app);
        assert_eq!(
            (users_before, links_before),
            (users_after, links_after),
            "{}: nothing created",
            f.shortname
        );
        let skips =
            app.with_conn(|c| audit::page(c, Some("peeringdb.skip"), None, None, 100).unwrap());
        assert!(
            skips
                .iter()
                .any(|e| e.details.contains(&f.name) && e.details.contains(reason)),
            "{}: the audit log says why ({reason}): {skips:?}",
            f.shortname
        );
    }
    // A date left in the future is not cancelled.
    let tomorrow = today + Duration::days(1);
    add_customer(
        &app,
        CustomerFields {
            date_left: Some(tomorrow),
            ..fields("leaving", 64520, T::Full, S::Normal)
        },
    );
    app.sim
        .set_profile(0, profile(100, "Nina Nomatch", &[64520]));
    assert_eq!(location(&app.peeringdb_login(0).await), "/");
}

async fn opted_out_first_network_and_shared_asn(b: Backend) {
    // IXP Manager cases: the opted-out ASN comes first; two customers share an ASN.
    let Some(app) = app_with(b, vec![profile(7, "Oscar", &[64502, 64507, 64502])], vec![]).await
    else {
        return;
    };
    add_customer(
        &app,
        CustomerFields {
            peeringdb_oauth: false,
            ..fields("privtel", 64502, T::Full, S::Normal)
        },
    );
    let north = add_customer(&app, fields("north", 64507, T::Full, S::Normal));
    let south = add_customer(&app, fields("south", 64507, T::ProBono, S::Normal));
    assert_eq!(location(&app.peeringdb_login(0).await), "/");
    let u = app
        .with_conn(|c| users::by_peeringdb_id(c, 7).unwrap())
        .unwrap();
    let mut linked: Vec<i64> = app
        .with_conn(|c| affiliations::of_user(c, u.id).unwrap())
        .iter()
        .map(|(_, c)| c.id)
        .collect();
    linked.sort();
    assert_eq!(
        linked,
        vec![north, south],
        "both customers of the shared ASN, not the opted-out one"
    );
    let skips = app.with_conn(|c| audit::page(c, Some("peeringdb.skip"), None, None, 10).unwrap());
    assert_eq!(skips.len(), 1);
    assert!(skips[0].details.contains("opted out"));
}

async fn user_deleted_when_last_link_goes(b: Backend) {
    let Some(app) = app_with(b, vec![profile(9, "Una", &[64530])], vec![]).await else {
        return;
    };
    let cid = add_customer(&app, fields("goner", 64530, T::Full, S::Normal));
    assert_eq!(location(&app.peeringdb_login(0).await), "/");
    app.post("/logout", &[]).await;
    // Staff suspend the member: the link and the user go at once (SPEC
    // §6.1), and the next login is refused.
    let f = CustomerFields {
        status: S::Suspended,
        ..fields("goner", 64530, T::Full, S::Normal)
    };
    app.with_conn(|c| ixp_portal::admin::update_customer(c, "test", cid, &f).unwrap());
    assert!(
        app.with_conn(|c| users::by_peeringdb_id(c, 9).unwrap())
            .is_none(),
        "user deleted at once"
    );
    expect_refused(&app, 0, MSG_NOT_ELIGIBLE).await;
    assert!(
        app.with_conn(|c| users::by_peeringdb_id(c, 9).unwrap())
            .is_none(),
        "user deleted"
    );
    let (users_n, links_n, records_n, _) = snapshot(&app);
    assert_eq!(
        (users_n, links_n, records_n),
        (0, 0, 0),
        "with its links and login records"
    );
    let removed =
        app.with_conn(|c| audit::page(c, Some("affiliation.remove"), None, None, 10).unwrap());
    assert!(removed[0].details.contains("suspended"), "{removed:?}");
}

async fn staff_links_are_never_touched(b: Backend) {
    let Some(app) = app_with(b, vec![profile(11, "Sam", &[64540])], vec![]).await else {
        return;
    };
    add_customer(&app, fields("oauthnet", 64540, T::Full, S::Normal));
    let staffnet = add_customer(&app, fields("staffnet", 64541, T::Associate, S::Suspended));
    assert_eq!(location(&app.peeringdb_login(0).await), "/");
    app.post("/logout", &[]).await;
    let u = app
        .with_conn(|c| users::by_peeringdb_id(c, 11).unwrap())
        .unwrap();
    app.with_conn(|c| {
        ixp_portal::admin::link_by_asn(
            c,
            "cli",
            &u.username,
            Asn::new(64541).unwrap(),
            Privilege::CustAdmin,
            CreatedBy::Cli,
        )
        .unwrap()
    });
    // The profile drops every network: the OAuth link goes, the CLI link stays,
    // so the user is kept, but the login fails (nothing matched).
    app.sim.set_profile(0, profile(11, "Sam", &[]));
    expect_refused(&app, 0, MSG_NO_MATCH).await;
    let links = app.with_conn(|c| affiliations::of_user(c, u.id).unwrap());
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].1.id, staffnet);
    assert_eq!(links[0].0.created_by, CreatedBy::Cli);
}

async fn unverified_profile_is_refused(b: Backend) {
    let mut p = profile(12, "Vic", &[64550]);
    p["verified_email"] = json!(false);
    let mut q = profile(13, "Val", &[64550]);
    q["verified_user"] = json!(false);
    let Some(app) = app_with(b, vec![p, q], vec![]).await else {
        return;
    };
    add_customer(&app, fields("vnet", 64550, T::Full, S::Normal));
    let before = snapshot(&app);
    expect_refused(&app, 0, MSG_UNVERIFIED).await;
    expect_refused(&app, 1, MSG_UNVERIFIED).await;
    assert_eq!(snapshot(&app).0, before.0, "no user created");
}

async fn mfa_required(b: Backend) {
    let mut with_mfa = profile(15, "Mia", &[64560]);
    with_mfa["amr"] = json!(["pwd", "mfa"]);
    let mut without = profile(16, "Max", &[64560]);
    without["amr"] = json!(["pwd"]);
    let none = profile(17, "Moe", &[64560]);
    let vars = vec![("AUTH_PEERINGDB_REQUIRE_MFA", "true".to_string())];
    let Some(app) = app_with(b, vec![with_mfa, without, none], vars).await else {
        return;
    };
    add_customer(&app, fields("mfanet", 64560, T::Full, S::Normal));
    let start = app.get("/auth/login/peeringdb").await;
    assert!(
        location(&start).contains("scope=profile+email+networks+amr"),
        "{}",
        location(&start)
    );
    expect_refused(&app, 1, MSG_MFA).await;
    expect_refused(&app, 2, MSG_MFA).await;
    assert_eq!(snapshot(&app).0, 0);
    assert_eq!(location(&app.peeringdb_login(0).await), "/");
}

async fn custadmin_privilege_policy(b: Backend) {
    let vars = vec![("AUTH_PEERINGDB_PRIVS", "2".to_string())];
    let Some(app) = app_with(b, vec![profile(18, "Ada", &[64570])], vars).await else {
        return;
    };
    add_customer(&app, fields("adanet", 64570, T::Full, S::Normal));
    assert_eq!(location(&app.peeringdb_login(0).await), "/");
    let u = app
        .with_conn(|c| users::by_peeringdb_id(c, 18).unwrap())
        .unwrap();
    let links = app.with_conn(|c| affiliations::of_user(c, u.id).unwrap());
    assert_eq!(links[0].0.privilege, Privilege::CustAdmin);
    assert!(!u.superuser, "OAuth never grants superuser");
}

async fn username_collision_gets_suffix(b: Backend) {
    let profiles = vec![
        profile(21, "Jane Doe", &[64580]),
        profile(22, "JANE DOE", &[64580]),
        json!({
            "id": 23, "verified_user": true, "verified_email": true, "networks": [{"asn": 64580}]
        }),
        profile(24, "Many Taken", &[64580]),
    ];
    let Some(app) = app_with(b, profiles, vec![]).await else {
        return;
    };
    add_customer(&app, fields("sharednet", 64580, T::Full, S::Normal));
    app.create_user("jane.doe", "some password 1", false);
    // More than one batch of candidates taken: many.taken … many.taken60.
    for n in 1..=60 {
        let name = ixp_portal::domain::Username::parse("many.taken")
            .unwrap()
            .with_suffix(n);
        app.insert_person(name.as_str(), "x", "x@example.net");
    }
    for i in 0..4 {
        assert_eq!(location(&app.peeringdb_login(i).await), "/");
        app.post("/logout", &[]).await;
    }
    let names: Vec<String> = [21, 22, 23, 24]
        .iter()
        .map(|id| {
            app.with_conn(|c| users::by_peeringdb_id(c, *id).unwrap())
                .unwrap()
                .username
        })
        .collect();
    assert_eq!(
        names,
        vec!["jane.doe2", "jane.doe3", "unknownpdbuser", "many.taken61"]
    );
}

async fn signed_in_user_is_sent_home(b: Backend) {
    let Some(app) = app_with(b, vec![profile(25, "Sid", &[64590])], vec![]).await else {
        return;
    };
    add_customer(&app, fields("sidnet", 64590, T::Full, S::Normal));
    assert_eq!(location(&app.peeringdb_login(0).await), "/");
    for path in [
        "/auth/login/peeringdb",
        "/auth/login/peeringdb/callback?code=x&state=y",
    ] {
        let r = app.get(path).await;
        assert_eq!(location(&r), "/");
        assert!(
            app.page_after(r)
                .await
                .contains("You are already signed in.")
        );
    }
}

async fn state_faults_change_nothing(b: Backend) {
    let Some(app) = app_with(b, vec![profile(30, "Stu", &[64600])], vec![]).await else {
        return;
    };
    add_customer(&app, fields("stunet", 64600, T::Full, S::Normal));
    let before = snapshot(&app);
    let state_msg = "could not be verified";
    // No flow started: no state in the session.
    let r = app
        .get("/auth/login/peeringdb/callback?code=abc&state=def")
        .await;
    assert_eq!(location(&r), "/login");
    assert!(app.page_after(r).await.contains(state_msg));
    // A wrong state.
    let start = app.get("/auth/login/peeringdb").await;
    let callback = app
        .provider_answer(&format!("{}&user=0", location(&start)))
        .await;
    let forged = callback.split("&state=").next().unwrap().to_string() + "&state=forged";
    let r = app.client.get(&forged).send().await.unwrap();
    assert!(app.page_after(r).await.contains(state_msg));
    // The provider's error.
    let start = app.get("/auth/login/peeringdb").await;
    let denied = app
        .provider_answer(&format!("{}&deny=1", location(&start)))
        .await;
    assert!(denied.contains("error=access_denied"));
    let r = app.client.get(&denied).send().await.unwrap();
    assert!(
        app.page_after(r)
            .await
            .contains("You declined the sign-in on PeeringDB")
    );
    // A reused state: the first callback consumes it.
    let start = app.get("/auth/login/peeringdb").await;
    let callback = app
        .provider_answer(&format!("{}&user=0", location(&start)))
        .await;
    let other = crate::common::client();
    let r = other.get(&callback).send().await.unwrap();
    assert_eq!(location(&r), "/login", "another browser cannot use it");
    assert_eq!(
        snapshot(&app),
        before,
        "refusals before the provider is asked write nothing"
    );
    let r = app.client.get(&callback).send().await.unwrap();
    assert_eq!(location(&r), "/", "the real browser can");
    app.post("/logout", &[]).await;
    let r = app.client.get(&callback).send().await.unwrap();
    assert_eq!(location(&r), "/login", "but only once");
}

async fn provider_faults_change_nothing(b: Backend) {
    let opts = Opts {
        profiles: vec![profile(31, "Flo", &[64610])],
        provider_timeout: Some(std::time::Duration::from_millis(700)),
        ..Opts::default()
    };
    let Some(app) = spawn_with(b, opts).await else {
        return;
    };
    add_customer(&app, fields("flonet", 64610, T::Full, S::Normal));
    let slow = Some(std::time::Duration::from_millis(1500));
    let faults = vec![
        (
            "token 400",
            Faults {
                token_status: Some(400),
                ..Faults::default()
            },
        ),
        (
            "token 401",
            Faults {
                token_status: Some(401),
                ..Faults::default()
            },
        ),
        (
            "token 500",
            Faults {
                token_status: Some(500),
                ..Faults::default()
            },
        ),
        (
            "token 503",
            Faults {
                token_status: Some(503),
                ..Faults::default()
            },
        ),
        (
            "token timeout",
            Faults {
                token_delay: slow,
                ..Faults::default()
            },
        ),
        (
            "token not JSON",
            Faults {
                token_garbage: true,
                ..Faults::default()
            },
        ),
        (
            "profile 401",
            Faults {
                profile_status: Some(401),
                ..Faults::default()
            },
        ),
        (
            "profile 500",
            Faults {
                profile_status: Some(500),
                ..Faults::default()
            },
        ),
        (
            "profile timeout",
            Faults {
                profile_delay: slow,
                ..Faults::default()
            },
        ),
        (
            "profile not JSON",
            Faults {
                profile_garbage: true,
                ..Faults::default()
            },
        ),
        (
            "profile wrong types",
            Faults {
                profile_raw: Some(r#"{"id": "3", "networks": 5}"#.into()),
                ..Faults::default()
            },
        ),
        (
            "profile not an object",
            Faults {
                profile_raw: Some("[1, 2]".into()),
                ..Faults::default()
            },
        ),
        (
            "profile without id",
            Faults {
                profile_raw: Some(r#"{"name": "x"}"#.into()),
                ..Faults::default()
            },
        ),
        (
            "profile huge",
            Faults {
                profile_raw: Some(format!(
                    "{{\"id\": 3, \"pad\": \"{}\"}}",
                    "x".repeat(2 * 1024 * 1024)
                )),
                ..Faults::default()
            },
        ),
    ];
    let before = snapshot(&app);
    for (what, f) in faults {
        app.sim.set_faults(f);
        let r = app.peeringdb_login(0).await;
        assert_eq!(location(&r), "/login", "{what}");
        let page = app.page_after(r).await;
        assert!(
            page.contains("PeeringDB could not be reached or did not answer as expected"),
            "{what}: {page}"
        );
        assert_eq!(snapshot(&app), before, "{what}: the database is as it was");
    }
    app.sim.set_faults(Faults::default());
    assert_eq!(
        location(&app.peeringdb_login(0).await),
        "/",
        "works again once PeeringDB does"
    );
}

async fn concurrent_callbacks_make_one_user(b: Backend) {
    let Some(app) = app_with(b, vec![profile(40, "Con Current", &[64620, 64621])], vec![]).await
    else {
        return;
    };
    add_customer(&app, fields("cone", 64620, T::Full, S::Normal));
    add_customer(&app, fields("ctwo", 64621, T::Full, S::Normal));
    // 50 browsers start the flow and get their codes …
    let mut callbacks = Vec::new();
    for _ in 0..50 {
        let browser = crate::common::client();
        let start = browser
            .get(app.url("/auth/login/peeringdb"))
            .send()
            .await
            .unwrap();
        let cb = app
            .provider_answer(&format!("{}&user=0", location(&start)))
            .await;
        callbacks.push((browser, cb));
    }
    // … and all come back at once.
    let tasks: Vec<_> = callbacks
        .into_iter()
        .map(|(browser, cb)| {
            tokio::spawn(async move { location(&browser.get(cb).send().await.unwrap()) })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), "/", "every login succeeds");
    }
    let (users_n, links_n, records_n, _) = snapshot(&app);
    assert_eq!(users_n, 1, "exactly one user");
    assert_eq!(links_n, 2, "no duplicate affiliation");
    assert_eq!(records_n, 50, "one login record per login");
}
