//! Issue 9 (SPEC §6): access granted by PeeringDB follows PeeringDB over
//! time — customer-side changes at once, removals that stick, the re-check
//! by refresh token, the link age at password logins, sessions that
//! follow, and the explanations a person sees. End to end, through the
//! simulator, on both backends.
use crate::both_backends;
use crate::common::{Backend, Opts, TestApp, location, profile, spawn_with};
use crate::peeringdb::fields;
use crate::staff::{Browser, PW};
use chrono::Duration;
use diesel::prelude::*;
use ixp_portal::admin;
use ixp_portal::db::models::{Customer, CustomerFields, now};
use ixp_portal::db::schema::{affiliations as aff_t, audit_log, login_records, peeringdb_tokens};
use ixp_portal::db::{affiliations, audit, customers, peeringdb_links, users};
use ixp_portal::domain::{Asn, CreatedBy, CustomerStatus as S, CustomerType as T, Privilege};
use ixp_portal::peeringdb::recheck::Select;
use ixp_portal::peeringdb::simulator::Faults;
use reqwest::StatusCode;

both_backends!(
    opt_out_acts_at_once_through_the_pages,
    customer_changes_act_at_once_through_the_cli_path,
    staff_removal_sticks_until_lifted,
    custadmin_removal_sticks_and_custadmin_lifts_it,
    cli_unlink_and_unblock,
    recheck_rotates_the_refresh_token_and_follows_the_profile,
    recheck_provider_faults_change_nothing,
    recheck_refused_token_is_deleted,
    recheck_with_two_instances_runs_once,
    date_left_arriving_is_acted_on_by_the_recheck,
    password_login_fails_closed,
    sessions_follow_changes,
    explanations_name_each_network,
);

fn add(app: &TestApp, short: &str, asn: i64) -> Customer {
    add_with(app, fields(short, asn, T::Full, S::Normal))
}

fn add_with(app: &TestApp, f: CustomerFields) -> Customer {
    app.with_conn(|c| {
        let id = admin::create_customer(c, "test", &f).unwrap();
        customers::find(c, id).unwrap().unwrap()
    })
}

async fn app_with(b: Backend, profiles: Vec<serde_json::Value>) -> Option<TestApp> {
    spawn_with(
        b,
        Opts {
            profiles,
            ..Opts::default()
        },
    )
    .await
}

/// Signs in with PeeringDB as profile `index` in a browser of its own;
/// returns the browser and the page it lands on.
async fn pdb_browser(app: &TestApp, index: usize) -> (Browser, String) {
    let b = Browser::anonymous(app);
    let start = b.get_resp("/auth/login/peeringdb").await;
    let authorize = location(&start);
    let callback = app
        .provider_answer(&format!("{authorize}&user={index}"))
        .await;
    let r = b.client.get(callback).send().await.unwrap();
    let to = location(&r);
    let path = to.strip_prefix(&app.base).unwrap_or(&to).to_string();
    let (_, page) = b.get(&path).await;
    (b, page)
}

/// Sign in with PeeringDB and sign out again (the app's own client).
async fn login_once(app: &TestApp, index: usize) -> String {
    let r = app.peeringdb_login(index).await;
    let page = app.page_after(r).await;
    app.post("/logout", &[]).await;
    page
}

fn user_id(app: &TestApp, pdb: i64) -> Option<i64> {
    app.with_conn(|c| users::by_peeringdb_id(c, pdb).unwrap().map(|u| u.id))
}

fn linked(app: &TestApp, uid: i64) -> Vec<(String, CreatedBy)> {
    app.with_conn(|c| {
        affiliations::of_user(c, uid)
            .unwrap()
            .into_iter()
            .map(|(a, c)| (c.shortname, a.created_by))
            .collect()
    })
}

fn staff(app: &TestApp) -> i64 {
    app.create_user("noc", PW, true)
}

fn audit_details(app: &TestApp, action: &str) -> Vec<(String, String)> {
    app.with_conn(|c| {
        audit::page(c, Some(action), None, None, 1000)
            .unwrap()
            .into_iter()
            .map(|e| (e.actor, e.details))
            .collect()
    })
}

fn html(s: &str) -> String {
    s.replace('\'', "&#39;")
}

/// Point 1: Staff untick "Allow login via PeeringDB OAuth": every PeeringDB-made
/// link goes in the same request, audited with the reason; a user left
/// with nothing is deleted and their session ends; staff-made links stay.
async fn opt_out_acts_at_once_through_the_pages(b: Backend) {
    let Some(app) = app_with(
        b,
        vec![
            profile(21, "Ola", &[64700, 64701]),
            profile(22, "Per", &[64700]),
        ],
    )
    .await
    else {
        return;
    };
    let a = add(&app, "optnet", 64700);
    add(&app, "othernet", 64701);
    login_once(&app, 0).await;
    let (per, _) = pdb_browser(&app, 1).await;
    assert_eq!(per.get_resp("/").await.status(), StatusCode::OK);
    let ola = user_id(&app, 21).unwrap();
    let per_id = user_id(&app, 22).unwrap();
    // A staff-made link of another user to the same customer stays.
    let kept = app.create_user("kept", PW, false);
    app.with_conn(|c| {
        let u = users::find(c, kept).unwrap().unwrap();
        admin::link(c, "test", &u, &a, Privilege::CustUser, CreatedBy::Admin).unwrap();
    });
    staff(&app);
    let noc = Browser::signed_in(&app, "noc").await;
    let edit = format!("/staff/customers/{}/edit", a.id);
    let form = [
        ("name", "optnet Networks"),
        ("shortname", "optnet"),
        ("asn", "64700"),
        ("cust_type", "full"),
        ("status", "normal"),
        ("date_joined", ""),
        ("date_left", ""),
    ];
    let page = noc.post_follow(&edit, &form).await;
    assert!(
        page.contains("PeeringDB-made links were removed at once"),
        "{page}"
    );
    assert_eq!(
        linked(&app, ola),
        vec![("othernet".to_string(), CreatedBy::PeeringDb)]
    );
    assert_eq!(user_id(&app, 22), None, "Per had only this link: deleted");
    assert_eq!(
        linked(&app, kept),
        vec![("optnet".to_string(), CreatedBy::Admin)]
    );
    let removed = audit_details(&app, "affiliation.remove");
    assert_eq!(
        removed
            .iter()
            .filter(|(actor, d)| actor == "noc" && d.contains("opted out"))
            .count(),
        2,
        "one entry per link, with the reason: {removed:?}"
    );
    assert!(
        audit_details(&app, "user.delete")
            .iter()
            .any(|(_, d)| d.contains("optnet"))
    );
    // Per's browser session ends on its very next request.
    let r = per.get_resp("/").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/login"));
    let _ = per_id;
    // Ola's next PeeringDB login is told why, in plain words.
    let page = login_once(&app, 0).await;
    assert!(
        page.contains(
            "optnet Networks (AS64700): not linked: it opted out of Login with PeeringDB."
        ),
        "{page}"
    );
}

/// Point 1, through the operation the CLI and the pages share: status, type and
/// a date left in the past act at once; a future date left does not; an
/// ASN change removes links that stood on the old ASN.
async fn customer_changes_act_at_once_through_the_cli_path(b: Backend) {
    let Some(app) = app_with(
        b,
        vec![profile(31, "Kim", &[64710, 64711, 64712, 64713, 64714])],
    )
    .await
    else {
        return;
    };
    let cs: Vec<Customer> = (0..5)
        .map(|i| add(&app, &format!("c{i}"), 64710 + i))
        .collect();
    login_once(&app, 0).await;
    let kim = user_id(&app, 31).unwrap();
    assert_eq!(linked(&app, kim).len(), 5);
    let update = |c: &Customer, f: &dyn Fn(&mut CustomerFields)| {
        let mut fl = fields(&c.shortname, c.autsys.as_i64(), T::Full, S::Normal);
        fl.name = c.name.clone();
        f(&mut fl);
        app.with_conn(|conn| admin::update_customer(conn, "cli", c.id, &fl).unwrap())
    };
    let lines = update(&cs[0], &|f| f.status = S::Suspended);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("suspended"));
    update(&cs[1], &|f| f.cust_type = T::Associate);
    let tomorrow = chrono::Utc::now().date_naive() + Duration::days(1);
    assert!(
        update(&cs[2], &|f| f.date_left = Some(tomorrow)).is_empty(),
        "a future date left waits"
    );
    update(&cs[3], &|f| {
        f.date_left = Some(chrono::Utc::now().date_naive())
    });
    let moved = update(&cs[4], &|f| f.autsys = Asn::new(64799).unwrap());
    assert!(moved[0].contains("AS64714"), "{moved:?}");
    assert_eq!(
        linked(&app, kim),
        vec![("c2".to_string(), CreatedBy::PeeringDb)]
    );
    // The CLI prints the same lines (the binary runs the same operation).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ixp-portal"))
        .args(["customer", "update", "c2", "--peeringdb-oauth", "false"])
        .env_clear()
        .env("DATABASE_URL", &app.database_url)
        .env("PORTAL_DATA_DIR", app.dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("kim: removed link to c2"), "{stdout}");
    assert!(stdout.contains("kim: deleted (no link left)"), "{stdout}");
    assert_eq!(user_id(&app, 31), None);
}

/// Point 2: Staff remove a PeeringDB-made link: the next login skips it with the
/// reason; the block shows on the user page; lifting it (or linking by
/// hand) lets the link come back.
async fn staff_removal_sticks_until_lifted(b: Backend) {
    let Some(app) = app_with(b, vec![profile(41, "Lea", &[64720, 64721])]).await else {
        return;
    };
    let a = add(&app, "stick", 64720);
    add(&app, "other", 64721);
    login_once(&app, 0).await;
    let lea = user_id(&app, 41).unwrap();
    staff(&app);
    let noc = Browser::signed_in(&app, "noc").await;
    let aid = app.with_conn(|c| affiliations::find(c, lea, a.id).unwrap().unwrap().id);
    let page = noc
        .post_follow(&format!("/staff/users/{lea}/links/{aid}/remove"), &[])
        .await;
    assert!(
        page.contains("will not be linked to stick Networks again"),
        "{page}"
    );
    assert!(page.contains("Blocked from Login with PeeringDB"), "{page}");
    let (_, cpage) = noc.get(&format!("/staff/customers/{}", a.id)).await;
    assert!(
        cpage.contains("Kept out of Login with PeeringDB"),
        "{cpage}"
    );
    assert!(cpage.contains(&format!("/staff/customers/{}/blocks/41/lift", a.id)));
    let page = login_once(&app, 0).await;
    assert!(
        page.contains(&html(
            "stick Networks (AS64720): not linked: removed by the exchange's staff."
        )),
        "{page}"
    );
    assert_eq!(linked(&app, lea).len(), 1, "still blocked");
    let skips = audit_details(&app, "peeringdb.skip");
    assert!(
        skips
            .iter()
            .any(|(_, d)| d.contains("removed by the exchange's staff")),
        "{skips:?}"
    );
    // Lifted by staff: the next login links it again.
    noc.post_follow(&format!("/staff/users/{lea}/blocks/{}/lift", a.id), &[])
        .await;
    login_once(&app, 0).await;
    assert_eq!(linked(&app, lea).len(), 2);
    // Removed again, then linked by hand: the block goes with it.
    let aid = app.with_conn(|c| affiliations::find(c, lea, a.id).unwrap().unwrap().id);
    noc.post_follow(&format!("/staff/users/{lea}/links/{aid}/remove"), &[])
        .await;
    assert_eq!(
        app.with_conn(|c| peeringdb_links::blocks_of(c, 41).unwrap())
            .len(),
        1
    );
    noc.post_follow(
        &format!("/staff/users/{lea}/links"),
        &[("shortname", "stick"), ("privilege", "custuser")],
    )
    .await;
    assert!(
        app.with_conn(|c| peeringdb_links::blocks_of(c, 41).unwrap())
            .is_empty()
    );
    assert!(!audit_details(&app, "peeringdb.unblock").is_empty());
}

/// Point 2: A member's admin removes a colleague's PeeringDB-made link: blocked
/// "by your network's administrator", shown on the customer's users page,
/// lifted there; another customer's admin cannot lift it.
async fn custadmin_removal_sticks_and_custadmin_lifts_it(b: Backend) {
    let Some(app) = app_with(b, vec![profile(51, "Mo", &[64730])]).await else {
        return;
    };
    let a = add(&app, "memnet", 64730);
    let other = add(&app, "elsewhere", 64731);
    login_once(&app, 0).await;
    let mo = user_id(&app, 51).unwrap();
    let boss = app.create_user("boss", PW, false);
    let rival = app.create_user("rival", PW, false);
    app.with_conn(|c| {
        let u = users::find(c, boss).unwrap().unwrap();
        admin::link(c, "test", &u, &a, Privilege::CustAdmin, CreatedBy::Admin).unwrap();
        let r = users::find(c, rival).unwrap().unwrap();
        admin::link(
            c,
            "test",
            &r,
            &other,
            Privilege::CustAdmin,
            CreatedBy::Admin,
        )
        .unwrap();
    });
    let admin_b = Browser::signed_in(&app, "boss").await;
    let aid = app.with_conn(|c| affiliations::find(c, mo, a.id).unwrap().unwrap().id);
    let page = admin_b
        .post_follow(&format!("/member/users/{aid}/remove"), &[])
        .await;
    assert!(page.contains("Kept out of Login with PeeringDB"), "{page}");
    assert!(page.contains("/member/users/blocks/51/lift"), "{page}");
    assert_eq!(
        user_id(&app, 51),
        Some(mo),
        "a hand removal does not delete"
    );
    let page = login_once(&app, 0).await;
    assert!(
        page.contains(&html(
            "memnet Networks (AS64730): not linked: removed by your network's administrator."
        )),
        "{page}"
    );
    assert_eq!(
        user_id(&app, 51),
        None,
        "no eligible link left at that login: deleted (step 8)"
    );
    // Another customer's admin cannot lift it.
    let rival_b = Browser::signed_in(&app, "rival").await;
    rival_b.post("/member/users/blocks/51/lift", &[]).await;
    assert_eq!(
        app.with_conn(|c| peeringdb_links::blocks_of(c, 51).unwrap())
            .len(),
        1
    );
    admin_b
        .post_follow("/member/users/blocks/51/lift", &[])
        .await;
    assert!(
        app.with_conn(|c| peeringdb_links::blocks_of(c, 51).unwrap())
            .is_empty()
    );
    login_once(&app, 0).await;
    let mo = user_id(&app, 51).expect("made again by the login");
    assert_eq!(
        linked(&app, mo),
        vec![("memnet".to_string(), CreatedBy::PeeringDb)]
    );
}

fn cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ixp-portal"))
        .args(args)
        .env_clear()
        .env("DATABASE_URL", &app.database_url)
        .env("PORTAL_DATA_DIR", app.dir.path())
        .output()
        .unwrap()
}

/// Point 2: `user unlink` blocks a PeeringDB-made link; `user unblock` lifts it;
/// unknown names and no-ops exit non-zero naming what is wrong; `user show
/// --json` carries the blocks and `confirmed_at`.
async fn cli_unlink_and_unblock(b: Backend) {
    let Some(app) = app_with(b, vec![profile(61, "Cy", &[64740, 64741])]).await else {
        return;
    };
    add(&app, "clinet", 64740);
    add(&app, "keepnet", 64741);
    login_once(&app, 0).await;
    let out = cli(&app, &["user", "show", "cy", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        json["affiliations"][0]["confirmed_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_eq!(json["blocked"], serde_json::json!([]));
    let out = cli(&app, &["user", "unlink", "cy", "--customer", "clinet"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("blocked"));
    let out = cli(&app, &["user", "show", "cy", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["blocked"],
        serde_json::json!([{"customer": "clinet", "asn": 64740, "by": "staff"}])
    );
    for (args, names) in [
        (
            vec!["user", "unlink", "cy", "--customer", "clinet"],
            "not linked",
        ),
        (
            vec!["user", "unlink", "nobody", "--customer", "clinet"],
            "nobody",
        ),
        (vec!["user", "unlink", "cy", "--customer", "nonet"], "nonet"),
        (
            vec!["user", "unblock", "cy", "--customer", "keepnet"],
            "not blocked",
        ),
        (vec!["peeringdb", "recheck", "--user", "ghost"], "ghost"),
    ] {
        let out = cli(&app, &args);
        assert!(!out.status.success(), "{args:?} must fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(names), "{args:?}: {err}");
    }
    login_once(&app, 0).await;
    let cy = user_id(&app, 61).unwrap();
    assert_eq!(linked(&app, cy).len(), 1, "blocked from the CLI");
    assert!(
        cli(&app, &["user", "unblock", "cy", "--customer", "clinet"])
            .status
            .success()
    );
    login_once(&app, 0).await;
    assert_eq!(linked(&app, cy).len(), 2);
}

fn stored_token(app: &TestApp, uid: i64) -> Option<String> {
    app.with_conn(|c| peeringdb_links::refresh_token(c, uid).unwrap())
}

/// Makes every PeeringDB-made link of the user look confirmed `days` ago.
fn age_links(app: &TestApp, uid: i64, seconds: i64) {
    app.with_conn(|c| {
        diesel::update(aff_t::table.filter(aff_t::user_id.eq(uid)))
            .set(aff_t::confirmed_at.eq(Some(now() - Duration::seconds(seconds))))
            .execute(c)
            .unwrap()
    });
}

fn confirmed(app: &TestApp, uid: i64) -> Vec<Option<chrono::NaiveDateTime>> {
    app.with_conn(|c| {
        affiliations::of_user(c, uid)
            .unwrap()
            .into_iter()
            .map(|(a, _)| a.confirmed_at)
            .collect()
    })
}

fn count_logins(app: &TestApp) -> i64 {
    app.with_conn(|c| login_records::table.count().get_result(c).unwrap())
}

/// Point 3: The re-check: the refresh token is stored encrypted, used, rotated
/// and stored again; the profile decides as at a login (actor
/// `peeringdb-recheck`, no login record).
async fn recheck_rotates_the_refresh_token_and_follows_the_profile(b: Backend) {
    let Some(app) = app_with(b, vec![profile(71, "Rae", &[64750, 64751])]).await else {
        return;
    };
    add(&app, "rnet", 64750);
    add(&app, "snet", 64751);
    login_once(&app, 0).await;
    let rae = user_id(&app, 71).unwrap();
    let sealed = stored_token(&app, rae).expect("the refresh token is stored");
    let live = app.sim.live_refresh_tokens();
    assert_eq!(live.len(), 1);
    assert!(!sealed.contains(&live[0]), "encrypted at rest");
    // Not due yet: the default re-check takes nobody.
    let report = app
        .rechecker
        .run(&app.rechecker.select(Select::Due).await.unwrap(), None)
        .await
        .unwrap();
    assert_eq!(report.checked, 0);
    // Due: PeeringDB now lists only one of the two networks.
    age_links(&app, rae, 2 * 86_400);
    app.sim.set_profile(0, profile(71, "Rae", &[64750]));
    let logins_before = count_logins(&app);
    let ids = app.rechecker.select(Select::Due).await.unwrap();
    assert_eq!(ids, vec![rae]);
    let report = app.rechecker.run(&ids, None).await.unwrap();
    assert_eq!((report.checked, report.refreshed, report.failed), (1, 1, 0));
    assert_eq!(report.changes.len(), 1, "{:?}", report.changes);
    assert_eq!(
        linked(&app, rae),
        vec![("rnet".to_string(), CreatedBy::PeeringDb)]
    );
    assert_eq!(count_logins(&app), logins_before, "no login record");
    let removed = audit_details(&app, "affiliation.remove");
    assert!(
        removed
            .iter()
            .any(|(a, d)| a == "peeringdb-recheck" && d.contains("no longer among")),
        "{removed:?}"
    );
    let fresh = confirmed(&app, rae)[0].unwrap();
    assert!(
        now() - fresh < Duration::seconds(60),
        "confirmed by the re-check"
    );
    // Rotated: the old token is spent, the new one stored.
    let new_live = app.sim.live_refresh_tokens();
    assert_eq!(new_live.len(), 1);
    assert_ne!(new_live, live);
    let resealed = stored_token(&app, rae).unwrap();
    assert_ne!(resealed, sealed);
    let opened = app
        .rechecker
        .secrets
        .open(&format!("peeringdb-refresh:{}", 71), &resealed);
    assert_eq!(opened.as_deref(), Some(new_live[0].as_str()));
    // The next re-check uses the rotated token; PeeringDB drops the last
    // network: the user goes (step 8), with their token.
    app.sim.set_profile(0, profile(71, "Rae", &[]));
    let report = app.rechecker.run(&[rae], None).await.unwrap();
    assert_eq!(report.refreshed, 1);
    assert_eq!(user_id(&app, 71), None);
    let tokens: i64 = app.with_conn(|c| peeringdb_tokens::table.count().get_result(c).unwrap());
    assert_eq!(tokens, 0, "deleted with the user");
}

/// Point 3: A provider that is down, slow, or answers garbage (token or
/// profile, or an oversized token response) changes nothing.
async fn recheck_provider_faults_change_nothing(b: Backend) {
    let Some(app) = spawn_with(
        b,
        Opts {
            profiles: vec![profile(81, "Fay", &[64760])],
            provider_timeout: Some(std::time::Duration::from_millis(500)),
            ..Opts::default()
        },
    )
    .await
    else {
        return;
    };
    add(&app, "fnet", 64760);
    login_once(&app, 0).await;
    let fay = user_id(&app, 81).unwrap();
    age_links(&app, fay, 2 * 86_400);
    let before_conf = confirmed(&app, fay);
    let token = stored_token(&app, fay);
    // PeeringDB would now drop the network, but cannot say so.
    app.sim.set_profile(0, profile(81, "Fay", &[]));
    let huge = format!("{{\"access_token\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    for faults in [
        Faults {
            token_status: Some(503),
            ..Faults::default()
        },
        Faults {
            token_garbage: true,
            ..Faults::default()
        },
        Faults {
            token_raw: Some(huge),
            ..Faults::default()
        },
        Faults {
            profile_status: Some(500),
            ..Faults::default()
        },
        Faults {
            profile_garbage: true,
            ..Faults::default()
        },
        Faults {
            profile_raw: Some("{\"id\": \"not a number\"}".into()),
            ..Faults::default()
        },
    ] {
        app.sim.set_faults(faults.clone());
        let report = app.rechecker.run(&[fay], None).await.unwrap();
        assert_eq!((report.checked, report.failed), (1, 1), "{faults:?}");
        assert!(
            report.changes.is_empty(),
            "{faults:?}: {:?}",
            report.changes
        );
        assert_eq!(linked(&app, fay).len(), 1, "{faults:?}");
        assert_eq!(
            confirmed(&app, fay),
            before_conf,
            "{faults:?}: not confirmed either"
        );
        // The simulator spends a refresh token only when it answers
        // properly; the stored one is kept for the next interval.
        assert!(stored_token(&app, fay).is_some(), "{faults:?}");
    }
    // A refresh that times out: nothing changes either. (A rotating
    // provider may have spent the token meanwhile; the next re-check then
    // finds it refused and deletes it.)
    app.sim.set_faults(Faults {
        token_delay: Some(std::time::Duration::from_secs(2)),
        ..Faults::default()
    });
    let report = app.rechecker.run(&[fay], None).await.unwrap();
    assert_eq!((report.checked, report.failed), (1, 1));
    assert!(report.changes.is_empty());
    assert_eq!(linked(&app, fay).len(), 1);
    assert_eq!(confirmed(&app, fay), before_conf);
    let _ = token;
}

/// Point 3: A refresh token the provider refuses (`invalid_grant`) is deleted;
/// links still young stay until they reach the maximum age.
async fn recheck_refused_token_is_deleted(b: Backend) {
    let Some(app) = app_with(b, vec![profile(91, "Gus", &[64770])]).await else {
        return;
    };
    add(&app, "gnet", 64770);
    login_once(&app, 0).await;
    let gus = user_id(&app, 91).unwrap();
    app.sim.set_faults(Faults {
        refresh_refused: true,
        ..Faults::default()
    });
    let report = app.rechecker.run(&[gus], None).await.unwrap();
    assert_eq!(report.tokens_refused, 1);
    assert_eq!(stored_token(&app, gus), None);
    assert_eq!(linked(&app, gus).len(), 1, "still young: kept");
    // Without a token, the link age alone decides (SPEC §6.4).
    age_links(&app, gus, 31 * 86_400);
    let report = app.rechecker.run(&[gus], None).await.unwrap();
    assert!(
        report
            .changes
            .iter()
            .any(|l| l.contains("not confirmed by PeeringDB for 30 days")),
        "{:?}",
        report.changes
    );
    assert_eq!(user_id(&app, 91), None, "no link left: deleted");
}

/// Point 3: Two instances on one database, both running the background task:
/// one batch, each user refreshed once.
async fn recheck_with_two_instances_runs_once(b: Backend) {
    let profiles: Vec<_> = (0..4)
        .map(|i| profile(100 + i, &format!("Two{i}"), &[64780]))
        .collect();
    let key = "k".repeat(64);
    let Some(first) = spawn_with(
        b,
        Opts {
            profiles: profiles.clone(),
            vars: vec![("SESSION_KEY", key.clone())],
            ..Opts::default()
        },
    )
    .await
    else {
        return;
    };
    add(&first, "twonet", 64780);
    for i in 0..4 {
        login_once(&first, i).await;
        let uid = user_id(&first, 100 + i as i64).unwrap();
        age_links(&first, uid, 2 * 86_400);
    }
    let grants_before = first.sim.refresh_grants();
    let shared = |_: ()| Opts {
        vars: vec![("SESSION_KEY", key.clone())],
        database_url: Some(first.database_url.clone()),
        background: true,
        sim: Some((first.sim.clone(), first.sim_base.clone())),
        ..Opts::default()
    };
    let (one, two) = tokio::join!(spawn_with(b, shared(())), spawn_with(b, shared(())));
    let (_one, _two) = (one.unwrap(), two.unwrap());
    // Wait for the batch (it starts at once), then a little longer.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while first.sim.refresh_grants() < grants_before + 4 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        first.sim.refresh_grants(),
        grants_before + 4,
        "each user refreshed exactly once"
    );
    let entries: i64 = first.with_conn(|c| {
        audit_log::table
            .filter(audit_log::actor.eq("peeringdb-recheck"))
            .count()
            .get_result(c)
            .unwrap()
    });
    assert_eq!(entries, 0, "nothing changed, so nothing to audit");
    for i in 0..4 {
        let uid = user_id(&first, 100 + i).unwrap();
        let age = now() - confirmed(&first, uid)[0].unwrap();
        assert!(age < Duration::seconds(60), "re-confirmed");
    }
}

/// Point 4: Fail closed at a password login: a PeeringDB-made link unconfirmed
/// for longer than the maximum age goes (with the reason), a password
/// never confirms one, and a user left with nothing cannot sign in.
async fn password_login_fails_closed(b: Backend) {
    let Some(app) = app_with(
        b,
        vec![
            profile(111, "Pat", &[64790, 64791]),
            profile(112, "Quinn", &[64790]),
        ],
    )
    .await
    else {
        return;
    };
    let staffnet = add(&app, "pwstaff", 64792);
    add(&app, "pwnet", 64790);
    add(&app, "pwnet2", 64791);
    login_once(&app, 0).await;
    login_once(&app, 1).await;
    let pat = user_id(&app, 111).unwrap();
    let quinn = user_id(&app, 112).unwrap();
    let hash = ixp_portal::auth::password::hash(PW).unwrap();
    app.with_conn(|c| {
        users::set_password(c, pat, &hash).unwrap();
        users::set_password(c, quinn, &hash).unwrap();
        let u = users::find(c, pat).unwrap().unwrap();
        admin::link(
            c,
            "test",
            &u,
            &staffnet,
            Privilege::CustUser,
            CreatedBy::Admin,
        )
        .unwrap();
    });
    // Young links: a password login keeps them and does not confirm them.
    age_links(&app, pat, 86_400);
    let before = confirmed(&app, pat);
    let browser = Browser::signed_in(&app, "pat").await;
    assert_eq!(
        confirmed(&app, pat),
        before,
        "a password login confirms nothing"
    );
    browser.post("/logout", &[]).await;
    // Too old: removed at the next password login, with the reason.
    age_links(&app, pat, 31 * 86_400);
    let b2 = Browser::anonymous(&app);
    let r = b2
        .post("/login", &[("username", "pat"), ("password", PW)])
        .await;
    assert_eq!(location(&r), "/");
    let (_, page) = b2.get("/").await;
    assert!(
        page.contains(
            "not confirmed by PeeringDB for 30 days: sign in with PeeringDB to restore it"
        ),
        "{page}"
    );
    assert_eq!(
        linked(&app, pat),
        vec![("pwstaff".to_string(), CreatedBy::Admin)]
    );
    // Quinn had only PeeringDB-made links: deleted, sign-in refused.
    age_links(&app, quinn, 31 * 86_400);
    let b3 = Browser::anonymous(&app);
    let r = b3
        .post("/login", &[("username", "quinn"), ("password", PW)])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Sign in with PeeringDB to restore it")
    );
    assert_eq!(user_id(&app, 112), None);
    // A PeeringDB login restores Quinn.
    login_once(&app, 1).await;
    assert!(user_id(&app, 112).is_some());
}

/// Point 5: A signed-in PeeringDB user's session follows changes on its next
/// request: a privilege change, a removed link, a disabled user.
async fn sessions_follow_changes(b: Backend) {
    let Some(app) = app_with(b, vec![profile(121, "Sol", &[64800, 64801])]).await else {
        return;
    };
    let a = add(&app, "sola", 64800);
    add(&app, "solb", 64801);
    let (sol, _) = pdb_browser(&app, 0).await;
    let uid = user_id(&app, 121).unwrap();
    app.with_conn(|c| users::set_current_customer(c, uid, Some(a.id)).unwrap());
    assert_eq!(
        sol.get("/member/users").await.0,
        StatusCode::FORBIDDEN,
        "custuser"
    );
    let aid = app.with_conn(|c| affiliations::find(c, uid, a.id).unwrap().unwrap().id);
    app.with_conn(|c| {
        admin::set_privilege(c, "test", aid, Privilege::CustAdmin, admin::Scope::Staff).unwrap()
    });
    assert_eq!(
        sol.get("/member/users").await.0,
        StatusCode::OK,
        "custadmin at once"
    );
    app.with_conn(|c| admin::unlink(c, "test", aid, admin::Scope::Staff).unwrap());
    let (_, page) = sol.get("/").await;
    assert!(
        !page.contains("sola Networks"),
        "the removed customer is gone at once"
    );
    assert_eq!(sol.get("/member/users").await.0, StatusCode::FORBIDDEN);
    app.with_conn(|c| users::update_flags(c, uid, true, false).unwrap());
    let r = sol.get_resp("/").await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "a disabled user's session ends"
    );
}

/// Point 6: The person sees each of their networks that is a customer here, linked
/// or why not, and the support address; nothing about other customers. A
/// profile without an email keeps the stored one.
async fn explanations_name_each_network(b: Backend) {
    let mut noemail = profile(131, "Una", &[64810, 64811, 64812, 64813]);
    noemail["email"] = serde_json::json!("");
    let Some(app) = app_with(
        b,
        vec![profile(131, "Una", &[64810, 64811, 64812, 64813]), noemail],
    )
    .await
    else {
        return;
    };
    app.with_conn(|c| {
        ixp_portal::admin::peering::set_ixp(
            c,
            "test",
            &ixp_portal::admin::peering::IxpInput {
                name: "Example IX".into(),
                shortname: "exix".into(),
                ixf_id: String::new(),
                peeringdb_ix_id: String::new(),
                country: "NL".into(),
                support_email: "support@ix.example".into(),
            },
        )
        .unwrap()
    });
    let mut assoc = fields("assoc", 64810, T::Associate, S::Normal);
    assoc.name = "Assoc Ltd".into();
    add_with(&app, assoc);
    add_with(&app, fields("susp", 64811, T::Full, S::Suspended));
    let mut gone = fields("gone", 64812, T::Full, S::Normal);
    gone.date_left = Some(chrono::Utc::now().date_naive() - Duration::days(3));
    add_with(&app, gone);
    let mut out = fields("optout", 64813, T::Full, S::Normal);
    out.peeringdb_oauth = false;
    add_with(&app, out);
    add(&app, "stranger", 64900);
    // All four networks are members, none eligible: the refusal says so.
    let page = login_once(&app, 0).await;
    assert!(!page.contains("no member of this IXP matches"), "{page}");
    assert!(
        page.contains("cannot sign in this way at the moment"),
        "{page}"
    );
    for line in [
        "Assoc Ltd (AS64810): not linked: it is an associate member",
        "susp Networks (AS64811): not linked: it is suspended at the exchange.",
        "gone Networks (AS64812): not linked: it has left the exchange.",
        "optout Networks (AS64813): not linked: it opted out of Login with PeeringDB.",
        "support@ix.example",
    ] {
        assert!(page.contains(line), "{line:?} missing:\n{page}");
    }
    assert!(!page.contains("stranger"), "nothing about other customers");
    assert_eq!(user_id(&app, 131), None);
    // One becomes eligible: linked, the others still explained.
    app.with_conn(|c| {
        let s = customers::by_shortname(c, "susp").unwrap().unwrap();
        admin::update_customer(c, "test", s.id, &fields("susp", 64811, T::Full, S::Normal))
            .unwrap();
    });
    let page = login_once(&app, 0).await;
    assert!(
        page.contains("Your PeeringDB affiliation with susp Networks has been added."),
        "{page}"
    );
    assert!(
        page.contains("optout Networks (AS64813): not linked"),
        "{page}"
    );
    let uid = user_id(&app, 131).unwrap();
    let email = app.with_conn(|c| users::find(c, uid).unwrap().unwrap().email);
    assert_eq!(email, "una@example.org");
    // A profile without an email keeps the stored one.
    login_once(&app, 1).await;
    let email = app.with_conn(|c| users::find(c, uid).unwrap().unwrap().email);
    assert_eq!(email, "una@example.org");
    // A removal names the real reason, not "no longer affiliated".
    app.with_conn(|c| {
        let s = customers::by_shortname(c, "susp").unwrap().unwrap();
        let mut f = fields("susp", 64811, T::Full, S::Normal);
        f.peeringdb_oauth = false;
        admin::update_customer(c, "test", s.id, &f).unwrap();
    });
    assert_eq!(user_id(&app, 131), None, "its only link went at once");
}

/// Point 1, later: a date left that arrives after it was set is acted on by
/// the next re-check batch, even for a user without a refresh token.
async fn date_left_arriving_is_acted_on_by_the_recheck(b: Backend) {
    let Some(app) = app_with(b, vec![profile(141, "Dee", &[64820, 64821])]).await else {
        return;
    };
    let leaving = add(&app, "leaving", 64820);
    add(&app, "staying", 64821);
    app.sim.set_faults(Faults {
        no_refresh_tokens: true,
        ..Faults::default()
    });
    login_once(&app, 0).await;
    let dee = user_id(&app, 141).unwrap();
    assert_eq!(stored_token(&app, dee), None, "no refresh token was given");
    // The date left was set in the future; now it has come (written
    // directly: nobody edits the customer on that day).
    app.with_conn(|c| {
        use ixp_portal::db::schema::customers as cu;
        diesel::update(cu::table.find(leaving.id))
            .set(cu::date_left.eq(Some(chrono::Utc::now().date_naive())))
            .execute(c)
            .unwrap()
    });
    let report = app
        .rechecker
        .batch_under_lease("test", 3600, Select::Due)
        .await
        .unwrap()
        .expect("the lease is free");
    assert_eq!(report.checked, 0, "nobody was due");
    assert_eq!(report.changes.len(), 1, "{:?}", report.changes);
    assert_eq!(
        linked(&app, dee),
        vec![("staying".to_string(), CreatedBy::PeeringDb)]
    );
    let removed = audit_details(&app, "affiliation.remove");
    assert!(
        removed
            .iter()
            .any(|(a, d)| a == "peeringdb-recheck" && d.contains("has left")),
        "{removed:?}"
    );
    // The lease remembers the batch: a second one within the interval waits.
    let again = app
        .rechecker
        .batch_under_lease("other", 3600, Select::Due)
        .await
        .unwrap();
    assert!(again.is_none(), "one batch per interval across instances");
}
