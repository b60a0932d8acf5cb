//! Staff user pages: the OAuth column and filter, search and paging, the
//! user view, edit, links, delete, and adding a user.
use super::{Browser, PW, add_customer, audit_of, link, listed_users, outbox, row_of};
use crate::both_backends;
use crate::common::{Backend, Opts, location, profile, spawn, spawn_with};
use ixp_portal::admin;
use ixp_portal::db::models::{NewUser, now};
use ixp_portal::db::{affiliations, users as db_users};
use ixp_portal::domain::{Asn, CreatedBy, Privilege};
use reqwest::StatusCode;

both_backends!(
    oauth_column_and_filter,
    user_list_search_and_paging,
    search_finds_the_text_not_its_pieces,
    user_view_and_edit,
    staff_links_and_delete,
    staff_adds_a_user,
);

async fn oauth_column_and_filter(b: Backend) {
    let opts = Opts {
        profiles: vec![profile(7, "Pat Peer", &[64500])],
        ..Default::default()
    };
    let Some(app) = spawn_with(b, opts).await else {
        return;
    };
    add_customer(&app, "Alpha Networks", "alpha", 64500);
    app.create_user("staff", PW, true);
    app.create_user("carla", PW, false);
    // A user that Login with PeeringDB makes.
    let r = app.peeringdb_login(0).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let pat = app.with_conn(|c| db_users::by_peeringdb_id(c, 7).unwrap().unwrap());
    assert_eq!(pat.username, "pat.peer");

    let staff = Browser::signed_in(&app, "staff").await;
    let (s, page) = staff.get("/staff/users").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains(">OAuth</th>"), "the column");
    // Y is information, not praise: a neutral (blue) badge.
    let yes = r#"<span class="badge info">Y</span>"#;
    let no = r#"<span class="badge no">N</span>"#;
    assert!(row_of(&page, ">pat.peer</a>").contains(yes));
    assert!(!row_of(&page, ">pat.peer</a>").contains(no));
    assert!(row_of(&page, ">carla</a>").contains(no));
    assert!(row_of(&page, ">staff</a></td>").contains(no));
    // The current customer and link count of the OAuth user.
    let row = row_of(&page, ">pat.peer</a>");
    assert!(row.contains("Alpha Networks"));
    assert!(row.contains("<td>1</td>"), "one affiliation: {row}");
    assert!(!row.contains("never"), "has signed in");

    let (_, page) = staff.get("/staff/users?oauth=y").await;
    assert_eq!(listed_users(&page), ["pat.peer"]);
    assert!(page.contains(r#"<option value="y" selected>"#));
    let (_, page) = staff.get("/staff/users?oauth=n").await;
    assert_eq!(listed_users(&page), ["carla", "staff"]);
    let (_, page) = staff.get("/staff/users?oauth=bogus").await;
    assert_eq!(listed_users(&page).len(), 3, "unknown filter: all users");
    // The dashboard tile links to the filtered list.
    let (_, page) = staff.get("/").await;
    assert!(page.contains("/staff/users?oauth=y"));
}

async fn user_list_search_and_paging(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    app.create_user("staff", PW, true);
    let alpha = add_customer(&app, "Alpha Networks", "alpha", 64500);
    let bravo = add_customer(&app, "Bravo Transit", "bravo", 64501);
    let ids: Vec<i64> = app.with_conn(|c| {
        (0..120)
            .map(|i| {
                let t = now();
                db_users::insert(
                    c,
                    &NewUser {
                        username: &format!("user{i:03}"),
                        name: &format!("Person Number{i:03}"),
                        email: &format!("p{i:03}@corp{}.example", i % 4),
                        password_hash: "x",
                        peeringdb_id: None,
                        creator: if i % 3 == 0 { "OAuth-PeeringDB" } else { "cli" },
                        disabled: i == 5,
                        superuser: false,
                        current_customer_id: None,
                        session_epoch: 0,
                        created_at: t,
                        updated_at: t,
                    },
                )
                .unwrap()
            })
            .collect()
    });
    link(&app, ids[7], &alpha, Privilege::CustUser);
    link(&app, ids[7], &bravo, Privilege::CustAdmin);
    link(&app, ids[8], &bravo, Privilege::CustUser);
    let staff = Browser::signed_in(&app, "staff").await;

    // Keyset paging: 50, 50, 21 (120 users and the staff member).
    let (_, p1) = staff.get("/staff/users").await;
    let u1 = listed_users(&p1);
    assert_eq!(u1.len(), 50);
    assert_eq!(u1[0], "staff");
    assert_eq!(u1[49], "user048");
    assert!(
        p1.contains("href=\"/staff/users?after=user048\""),
        "next link"
    );
    let (_, p2) = staff.get("/staff/users?after=user048").await;
    let u2 = listed_users(&p2);
    assert_eq!(u2.len(), 50);
    assert_eq!(u2[0], "user049");
    assert!(p2.contains("« First page"), "first-page link");
    let (_, p3) = staff.get("/staff/users?after=user098").await;
    let u3 = listed_users(&p3);
    assert_eq!(u3.len(), 21);
    assert!(!p3.contains("after=user119"), "no next page");
    // Link counts and flags in the rows.
    let row = row_of(&p1, ">user007</a>");
    assert!(row.contains("<td>2</td>"), "two links: {row}");
    assert!(row.contains("Alpha Networks"), "current customer: {row}");
    assert!(row_of(&p1, ">user005</a>").contains("disabled"));
    assert!(row_of(&p1, ">staff</a></td>").contains("superuser"));
    assert!(row_of(&p1, ">user010</a>").contains("<td>0</td>"));

    // Search by username, name, email and the ASN of a linked customer.
    let (_, p) = staff.get("/staff/users?q=user11").await;
    assert_eq!(listed_users(&p).len(), 10);
    let (_, p) = staff.get("/staff/users?q=number042").await;
    assert_eq!(listed_users(&p), ["user042"]);
    let (_, p) = staff.get("/staff/users?q=CORP3.example").await;
    assert_eq!(listed_users(&p).len(), 30);
    let (_, p) = staff.get("/staff/users?q=64501").await;
    assert_eq!(listed_users(&p), ["user007", "user008"]);
    let (_, p) = staff.get("/staff/users?q=AS64500").await;
    assert_eq!(listed_users(&p), ["user007"]);
    let (_, p) = staff.get("/staff/users?q=_").await;
    assert!(listed_users(&p).is_empty(), "_ matches itself only");
    // Search and filter together, with paging that keeps both.
    let (_, p) = staff.get("/staff/users?q=corp0&oauth=y").await;
    let hits = listed_users(&p);
    assert_eq!(hits.len(), 10, "i % 12 == 0 below 120: {hits:?}");
    let (_, p) = staff.get("/staff/users?q=person&oauth=n").await;
    assert_eq!(listed_users(&p).len(), 50);
    assert!(
        p.contains("href=\"/staff/users?q=person&#38;oauth=n&#38;after="),
        "pager keeps the search"
    );
    let (s, _) = staff.get("/staff/users?after=%00%FF").await;
    assert_eq!(s, StatusCode::OK, "a strange cursor is no error");
}

/// A search lists the users whose username, name or email hold the text as
/// typed, in any case: not those who only hold its pieces apart (SQLite
/// finds candidates by the text's trigrams, then checks them: "Kowa
/// Walski" holds every trigram of "kowalski").
async fn search_finds_the_text_not_its_pieces(b: Backend) {
    // With the background, which reads the search's trigram counts.
    let opts = Opts {
        background: true,
        ..Default::default()
    };
    let Some(app) = spawn_with(b, opts).await else {
        return;
    };
    app.create_user("staff", PW, true);
    let people = [
        ("anna.k", "Anna Kowalski", "anna@example.net"),
        ("kow.als.ski", "Kow Als Ski", "kas@example.net"),
        ("kowa.walski", "Kowa Walski", "kw@example.net"),
        ("jan", "Jan Nowak", "JAN.KOWALSKI@Example.NET"),
        ("lucja", "ŁUCJA Żak", "lz@example.pl"),
        ("alpine", "Al Pine", "alpine@necom.example"),
        ("alpinecom", "Al Pinecom", "al@alpinecom.example"),
    ];
    for (username, name, email) in people {
        app.insert_person(username, name, email);
    }
    let staff = Browser::signed_in(&app, "staff").await;
    let cases: [(&str, &[&str]); 8] = [
        ("kowalski", &["anna.k", "jan"]),
        ("KOWALSKI", &["anna.k", "jan"]),
        ("ow als s", &["kow.als.ski"]),
        ("als", &["anna.k", "jan", "kow.als.ski", "kowa.walski"]),
        ("alpinecom", &["alpinecom"]),
        ("łucja", &["lucja"]),
        ("Żak", &["lucja"]),
        ("wal", &["anna.k", "jan", "kowa.walski"]),
    ];
    // Counted: on SQLite, once the background has read the index's
    // trigram counts (3 s after start-up), searches ask for the rarest
    // trigrams; before, for every one. The same users either way.
    let counted = matches!(b, Backend::Sqlite);
    for round in [false, counted] {
        if round {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while app.db.trigrams().get().is_none() {
                assert!(std::time::Instant::now() < deadline, "counts read");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
        for (q, want) in cases {
            let (s, page) = staff
                .get(&format!("/staff/users?q={}", urlencoding(q)))
                .await;
            assert_eq!(s, StatusCode::OK, "{q}");
            assert_eq!(listed_users(&page), want, "search {q:?}, counted: {round}");
        }
    }
}

/// A query value, percent-encoded.
fn urlencoding(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn user_view_and_edit(b: Backend) {
    let opts = Opts {
        profiles: vec![profile(7, "Pat Peer", &[64500])],
        ..Default::default()
    };
    let Some(app) = spawn_with(b, opts).await else {
        return;
    };
    let me = app.create_user("staff", PW, true);
    let alpha = add_customer(&app, "Alpha Networks", "alpha", 64500);
    let bravo = add_customer(&app, "Bravo Transit", "bravo", 64501);
    add_customer(&app, "Charlie IX", "charlie", 64502);
    assert_eq!(app.peeringdb_login(0).await.status(), StatusCode::SEE_OTHER);
    let pat = app.with_conn(|c| db_users::by_peeringdb_id(c, 7).unwrap().unwrap());
    link(&app, pat.id, &bravo, Privilege::CustAdmin);
    app.with_conn(|c| {
        admin::link_by_asn(
            c,
            "cli",
            "pat.peer",
            Asn::new(64502).unwrap(),
            Privilege::CustUser,
            CreatedBy::Cli,
        )
        .unwrap()
    });
    let staff = Browser::signed_in(&app, "staff").await;
    let (s, page) = staff.get(&format!("/staff/users/{}", pat.id)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("<dt>PeeringDB id</dt><dd>7</dd>"));
    // How the user was made, in words (the stored creator is OAuth-PeeringDB).
    assert!(page.contains("<dt>Account</dt><dd>Created by PeeringDB login"));
    assert!(!page.contains("OAuth-PeeringDB"), "no jargon");
    let row = row_of(&page, ">Alpha Networks</a>");
    assert!(
        row.contains(">PeeringDB login</span>"),
        "made by PeeringDB: {row}"
    );
    assert!(
        row.contains("via peeringdb"),
        "last login and method: {row}"
    );
    let row = row_of(&page, ">Bravo Transit</a>");
    assert!(row.contains(">IXP staff or an administrator</span>"));
    assert!(row.contains(r#"<option value="custadmin" selected>"#));
    assert!(row.contains("never"));
    assert!(row_of(&page, ">Charlie IX</a>").contains(">IXP staff (command line)</span>"));
    assert!(
        page.contains("<dt>Made by</dt>")
            && page.contains("<strong>PeeringDB login</strong>: added by"),
        "the legend"
    );
    assert!(page.contains("Login history"));
    let _ = alpha;

    // Edit: invalid, then valid, then without a token.
    let edit = format!("/staff/users/{}/edit", pat.id);
    let (s, page) = staff.get(&edit).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains(r#"value="Pat Peer""#));
    let r = staff
        .post(&edit, &[("name", ""), ("email", "not-an-address")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = r.text().await.unwrap();
    assert!(page.contains("This field is required."));
    assert!(page.contains("Give an email address"));
    assert!(
        page.contains(r#"value="not-an-address""#),
        "typed value kept"
    );
    let r = staff
        .post(
            &edit,
            &[
                ("name", "Pat P."),
                ("email", "pat@example.net"),
                ("disabled", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let after = app.with_conn(|c| db_users::find(c, pat.id).unwrap().unwrap());
    assert_eq!(after.name, "Pat P.");
    assert_eq!(after.email, "pat@example.net");
    assert!(after.disabled && !after.superuser);
    let log = audit_of(&app, "user.update");
    assert_eq!(log.len(), 1);
    assert!(log[0].details.contains("disabled"));
    assert_eq!(log[0].subject, "pat.peer");
    let r = staff
        .post_raw(&edit, &[("name", "Hijack"), ("email", "evil@example.net")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let after = app.with_conn(|c| db_users::find(c, pat.id).unwrap().unwrap());
    assert_eq!(after.name, "Pat P.", "nothing saved");

    // Staff cannot lock themselves out.
    let own = format!("/staff/users/{me}/edit");
    let r = staff
        .post(&own, &[("name", "Staff"), ("email", "staff@example.net")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("cannot remove your own superuser flag")
    );
    let r = staff
        .post(
            &own,
            &[
                ("name", "Staff"),
                ("email", "staff@example.net"),
                ("superuser", "on"),
                ("disabled", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let still = app.with_conn(|c| db_users::find(c, me).unwrap().unwrap());
    assert!(still.superuser && !still.disabled);
}

async fn staff_links_and_delete(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let me = app.create_user("staff", PW, true);
    let alpha = add_customer(&app, "Alpha Networks", "alpha", 64500);
    let dora = app.create_user("dora", PW, false);
    let staff = Browser::signed_in(&app, "staff").await;
    let links = format!("/staff/users/{dora}/links");

    // Add: unknown shortname and a bad privilege are field errors.
    let r = staff
        .post(
            &links,
            &[("shortname", "nosuch"), ("privilege", "custuser")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = r.text().await.unwrap();
    assert!(page.contains("No customer has the shortname"));
    assert!(page.contains(r#"value="nosuch""#));
    let r = staff
        .post(&links, &[("shortname", "alpha"), ("privilege", "root")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Choose custuser or custadmin.")
    );
    let r = staff
        .post_raw(&links, &[("shortname", "alpha"), ("privilege", "custuser")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(app.with_conn(|c| affiliations::of_user(c, dora).unwrap().is_empty()));
    // Valid.
    let page = staff
        .post_follow(&links, &[("shortname", "Alpha"), ("privilege", "custuser")])
        .await;
    assert!(page.contains("Linked to alpha as a read-only user."));
    let aff = app.with_conn(|c| affiliations::find(c, dora, alpha.id).unwrap().unwrap());
    assert_eq!(aff.created_by, CreatedBy::Admin);
    let page = staff
        .post_follow(&links, &[("shortname", "alpha"), ("privilege", "custuser")])
        .await;
    assert!(page.contains("linked to alpha already"));

    // Privilege.
    let page = staff
        .post_follow(
            &format!("/staff/users/{dora}/links/{}/privilege", aff.id),
            &[("privilege", "custadmin")],
        )
        .await;
    assert!(page.contains("Access at Alpha Networks set to Administrator."));
    let aff2 = app.with_conn(|c| affiliations::find(c, dora, alpha.id).unwrap().unwrap());
    assert_eq!(aff2.privilege, Privilege::CustAdmin);
    let log = audit_of(&app, "affiliation.privilege");
    assert_eq!(log.len(), 1);
    assert!(log[0].details.contains("custuser → custadmin"));
    let r = staff
        .post(
            &format!("/staff/users/{dora}/links/{}/privilege", aff.id),
            &[("privilege", "superuser")],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "superuser is no privilege"
    );

    // Remove.
    let page = staff
        .post_follow(&format!("/staff/users/{dora}/links/{}/remove", aff.id), &[])
        .await;
    assert!(page.contains("Link to Alpha Networks removed."));
    assert!(app.with_conn(|c| affiliations::of_user(c, dora).unwrap().is_empty()));
    assert_eq!(audit_of(&app, "affiliation.remove")[0].actor, "staff");

    // Delete: a confirmation page, then the deletion.
    let (s, page) = staff.get(&format!("/staff/users/{dora}/delete")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Delete dora?"));
    assert!(page.contains("cannot be undone"));
    assert!(
        app.with_conn(|c| db_users::find(c, dora).unwrap().is_some()),
        "GET deletes nothing"
    );
    let r = staff
        .post_raw(&format!("/staff/users/{dora}/delete"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = staff
        .post(&format!("/staff/users/{dora}/delete"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/staff/users");
    assert!(app.with_conn(|c| db_users::find(c, dora).unwrap().is_none()));
    let log = audit_of(&app, "user.delete");
    assert_eq!(log[0].subject, "dora");
    assert_eq!(log[0].actor, "staff");
    // Not oneself.
    let r = staff.post(&format!("/staff/users/{me}/delete"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(app.with_conn(|c| db_users::find(c, me).unwrap().is_some()));
}

async fn staff_adds_a_user(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    app.create_user("staff", PW, true);
    add_customer(&app, "Alpha Networks", "alpha", 64500);
    let staff = Browser::signed_in(&app, "staff").await;
    let (s, _) = staff.get("/staff/users/new").await;
    assert_eq!(s, StatusCode::OK);
    // Invalid.
    let r = staff
        .post(
            "/staff/users/new",
            &[
                ("username", "Bad Name"),
                ("name", ""),
                ("email", "nope"),
                ("shortname", ""),
                ("privilege", "custuser"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = r.text().await.unwrap();
    assert!(page.contains("The username may only contain"), "{page}");
    assert!(page.contains(r#"value="Bad Name""#));
    let r = staff
        .post(
            "/staff/users/new",
            &[
                ("username", "staff"),
                ("name", "Dup"),
                ("email", "dup@example.net"),
                ("shortname", ""),
                ("privilege", "custuser"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("is taken."));
    let r = staff
        .post(
            "/staff/users/new",
            &[
                ("username", "gus"),
                ("name", "Gus"),
                ("email", "gus@example.net"),
                ("shortname", "nosuch"),
                ("privilege", "custuser"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(app.with_conn(|c| db_users::by_username(c, "gus").unwrap().is_none()));
    assert!(outbox(&app).is_empty());
    // Valid: linked, mailed, and the link sets a password.
    let page = staff
        .post_follow(
            "/staff/users/new",
            &[
                ("username", "gus"),
                ("name", "Gus"),
                ("email", "gus@example.net"),
                ("shortname", "alpha"),
                ("privilege", "custadmin"),
            ],
        )
        .await;
    assert!(page.contains("User gus added."));
    let gus = app.with_conn(|c| db_users::by_username(c, "gus").unwrap().unwrap());
    assert_eq!(gus.creator, "staff");
    assert!(!gus.superuser);
    let links = app.with_conn(|c| affiliations::of_user(c, gus.id).unwrap());
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].0.privilege, Privilege::CustAdmin);
    let mails = outbox(&app);
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("To: gus@example.net"));
    super::member::set_password_from_mail(&app, &mails[0], "gus").await;
}
