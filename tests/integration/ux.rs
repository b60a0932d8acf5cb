//! Issue 13: pages people enjoy, over HTTP on both backends. Lists that
//! sort, count and export (the CSV parses and matches the filtered list);
//! destructive actions behind confirmation pages that name what is lost,
//! and refused while other records need the target; route-server sessions
//! never lost silently; the exchange's name and support address; the
//! first-run checklist; error pages in the layout; `GET /logout`.
use crate::both_backends;
use crate::common::{Backend, TestApp, location, spawn};
use crate::peering_lan::peering_world;
use crate::staff::{Browser, PW, add_customer, audit_of, fields, link, listed_users, world};
use ixp_portal::admin;
use ixp_portal::db::models::now;
use ixp_portal::db::peering_sessions::{self, NewSession};
use ixp_portal::db::{customers as db_customers, lans};
use ixp_portal::domain::{Asn, CustomerStatus, CustomerType, Privilege, SessionStatus};
use reqwest::StatusCode;

both_backends!(
    customers_sort_count_and_export,
    users_sort_page_and_export,
    audit_sorts_oldest_first,
    sessions_search_filter_page_and_named_buttons,
    route_server_with_a_live_session_cannot_be_deleted,
    lan_and_customer_deletes_are_confirmed_or_refused,
    confirmation_pages_for_keys_links_and_sessions,
    exchange_name_support_and_first_run,
    error_pages_keep_the_layout_and_logout_has_a_page,
    words_and_badges_mean_what_they_say,
);

/// A session row as the Peering API would make it, between the customer's
/// first connection and the route server; returns the route server's id
/// and the session's row id.
pub fn add_session(app: &TestApp, shortname: &str, rs_name: &str, status: &str) -> (i64, i64) {
    app.with_conn(|c| {
        let customer = db_customers::by_shortname(c, shortname).unwrap().unwrap();
        let rs = lans::route_server_by_name(c, rs_name).unwrap().unwrap();
        let conn = ixp_portal::db::connections::of_customer(c, customer.id)
            .unwrap()
            .into_iter()
            .find(|cn| cn.lan_id == rs.lan_id)
            .expect("a connection on the route server's LAN");
        let t = now();
        let id = peering_sessions::insert(
            c,
            &NewSession {
                session_id: format!("ps-test-{}-{}-{}", customer.id, rs.id, status),
                customer_id: customer.id,
                connection_id: conn.id,
                route_server_id: rs.id,
                family: 4,
                member_asn: customer.autsys,
                member_ip: conn.ipv4_address.clone().unwrap(),
                rs_asn: rs.asn,
                rs_ip: rs.ipv4_address.clone().unwrap(),
                rs_is_local: false,
                location_id: "pdb:ix:4242".into(),
                status: status.into(),
                requested_by: "test".into(),
                created_at: t,
                updated_at: t,
            },
        )
        .unwrap();
        (rs.id, id)
    })
}

pub fn audit_count(app: &TestApp, action: &str) -> usize {
    audit_of(app, action).len()
}

/// The rows of a CSV download, header first.
fn parse_csv(body: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_bytes())
        .records()
        .map(|r| {
            r.expect("a CSV record")
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect()
}

/// Text as the page escaped it, back to itself.
fn unescape(s: &str) -> String {
    s.replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#38;", "&")
}

/// The customer names linked from a list page, in order.
fn customer_names(page: &str) -> Vec<String> {
    page.split("<a href=\"/staff/customers/")
        .skip(1)
        .filter_map(|s| {
            let (id, rest) = s.split_once("\">")?;
            id.parse::<i64>().ok()?;
            rest.split_once("</a>").map(|(n, _)| unescape(n))
        })
        .collect()
}

async fn download(b: &Browser, path: &str) -> (StatusCode, String, String) {
    let r = b.get_resp(path).await;
    let status = r.status();
    let kind = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, kind, r.text().await.unwrap_or_default())
}

async fn customers_sort_count_and_export(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    app.create_user("staff", PW, true);
    app.with_conn(|c| {
        for i in 0..60 {
            let mut f = fields(&format!("Net {i:02}"), &format!("net{i:02}"), 65100 - i);
            f.cust_type = if i % 2 == 0 {
                CustomerType::Full
            } else {
                CustomerType::Associate
            };
            f.date_joined =
                Some(chrono::NaiveDate::from_ymd_opt(2000 + i as i32 % 20, 1, 1).unwrap());
            admin::create_customer(c, "test", &f).unwrap();
        }
        // A name that a spreadsheet would run as a formula.
        admin::create_customer(
            c,
            "test",
            &fields("=HYPERLINK(\"x\")", "formula", 4200000000),
        )
        .unwrap();
    });
    let staff = Browser::signed_in(&app, "staff").await;

    // The count and the sort links.
    let (_, page) = staff.get("/staff/customers").await;
    assert!(page.contains("61 customers"), "the count");
    assert!(
        page.contains("href=\"/staff/customers?sort=-name\""),
        "name sorts the other way"
    );
    assert!(page.contains("href=\"/staff/customers?sort=asn\""));
    assert!(page.contains("aria-sort=\"ascending\""));
    // By ASN: the lowest first (Net 59 is AS65041), over two pages.
    let (_, p1) = staff.get("/staff/customers?sort=asn").await;
    let n1 = customer_names(&p1);
    assert_eq!(n1.len(), 50);
    assert_eq!(n1[0], "Net 59");
    assert!(
        p1.contains("href=\"/staff/customers?sort=asn&#38;page=2\""),
        "the pager keeps the order"
    );
    let (_, p2) = staff.get("/staff/customers?sort=asn&page=2").await;
    let n2 = customer_names(&p2);
    assert_eq!(n2.len(), 11);
    assert_eq!(n2.last().map(String::as_str), Some("=HYPERLINK(\"x\")"));
    // Descending, filtered: full members only, highest ASN first.
    let (_, p) = staff.get("/staff/customers?type=full&sort=-asn").await;
    let full = customer_names(&p);
    assert_eq!(full.len(), 31, "30 even networks and the formula one");
    assert_eq!(full[0], "=HYPERLINK(\"x\")");
    assert_eq!(full[1], "Net 00");
    assert!(p.contains("31 customers match"));
    assert!(
        p.contains("href=\"/staff/customers.csv?type=full&#38;sort=-asn\""),
        "the export keeps filters and order"
    );
    // Joined, newest first: customers without a date come last.
    let (_, p) = staff.get("/staff/customers?sort=-joined&q=net0").await;
    let joined = customer_names(&p);
    assert_eq!(joined.len(), 10);
    assert_eq!(
        joined[0], "Net 09",
        "joined 2009, the latest of net00..net09"
    );
    // Nonsense orders fall back to the default.
    let (s, p) = staff.get("/staff/customers?sort=-password").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(customer_names(&p)[0], "=HYPERLINK(\"x\")");

    // The CSV: the same filter and order as the list, every page of it.
    let (s, kind, body) = download(&staff, "/staff/customers.csv?type=full&sort=-asn").await;
    assert_eq!(s, StatusCode::OK);
    assert!(kind.starts_with("text/csv"), "{kind}");
    let rows = parse_csv(&body);
    assert_eq!(
        rows[0],
        [
            "name",
            "shortname",
            "asn",
            "type",
            "status",
            "date_joined",
            "date_left",
            "cancelled",
            "users",
            "peeringdb_oauth",
            "peeringdb_login"
        ]
    );
    let names: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names.len(), full.len());
    assert_eq!(names[0], "'=HYPERLINK(\"x\")", "a formula is defused");
    assert_eq!(&names[1..], &full[1..], "the filtered list, in its order");
    assert!(rows[1..].iter().all(|r| r[3] == "full"));
    assert_eq!(rows[2][2], "65100");
    assert_eq!(rows[2][9], "yes");
    assert_eq!(rows[2][10], "possible");
    // Over all pages: the unfiltered export has every customer.
    let (_, _, body) = download(&staff, "/staff/customers.csv?sort=asn").await;
    let all = parse_csv(&body);
    assert_eq!(all.len(), 62, "a header and 61 customers");
    let mut listed = n1.clone();
    listed.extend(n2);
    let exported: Vec<String> = all[1..]
        .iter()
        .map(|r| r[0].trim_start_matches('\'').to_string())
        .collect();
    assert_eq!(exported, listed, "the CSV matches the list page by page");
    let associate = all.iter().find(|r| r[1] == "net01").unwrap();
    assert_eq!(
        associate[10],
        "not possible: it is an associate member of the exchange; only full and pro-bono members can sign in with PeeringDB"
    );

    // Staff only.
    let ann = app.create_user("ann", PW, false);
    let c = add_customer(&app, "Alpha Networks", "alpha", 64500);
    link(&app, ann, &c, Privilege::CustAdmin);
    let ann = Browser::signed_in(&app, "ann").await;
    let (s, _, body) = download(&ann, "/staff/customers.csv").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(!body.contains("net00"));
    let (s, _, _) = download(&Browser::anonymous(&app), "/staff/users.csv").await;
    assert_eq!(s, StatusCode::SEE_OTHER, "to the login page");
}

async fn users_sort_page_and_export(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    app.create_user("staff", PW, true);
    let alpha = add_customer(&app, "Alpha Networks", "alpha", 64500);
    // 60 users whose names sort in the reverse order of their usernames.
    let ids: Vec<i64> = (0..60)
        .map(|i| {
            let id = app.create_user(&format!("u{i:02}"), PW, false);
            app.with_conn(|c| {
                ixp_portal::db::users::update_profile(
                    c,
                    id,
                    &format!("Name {:02}", 59 - i),
                    &format!("u{i:02}@example.net"),
                )
                .unwrap();
            });
            id
        })
        .collect();
    link(&app, ids[3], &alpha, Privilege::CustUser);
    // Some have signed in.
    for u in ["u05", "u06", "u07"] {
        Browser::signed_in(&app, u).await;
    }
    let staff = Browser::signed_in(&app, "staff").await;

    let (_, page) = staff.get("/staff/users").await;
    assert!(page.contains("61 users"), "the count");
    assert!(page.contains("href=\"/staff/users?sort=name\""));
    // By name: keyset pages without a gap or a repeat.
    let (_, p1) = staff.get("/staff/users?sort=name").await;
    let u1 = listed_users(&p1);
    assert_eq!(u1.len(), 50);
    assert_eq!(&u1[..2], ["u59", "u58"], "Name 00 first");
    let next = p1
        .split("href=\"")
        .filter_map(|s| s.split_once('"').map(|(h, _)| h.replace("&#38;", "&")))
        .find(|h| h.starts_with("/staff/users?sort=name&after="))
        .expect("a next page in the same order");
    let (_, p2) = staff.get(&next).await;
    let u2 = listed_users(&p2);
    assert_eq!(u2.len(), 11);
    assert_eq!(
        u2.last().map(String::as_str),
        Some("staff"),
        "staff name sorts last"
    );
    let mut all: Vec<String> = u1.iter().chain(u2.iter()).cloned().collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 61, "every user once");
    // Last login, latest first; users who never signed in come after.
    let (_, p) = staff.get("/staff/users?sort=-login&q=u0").await;
    let recent = listed_users(&p);
    assert_eq!(recent.len(), 10);
    assert_eq!(&recent[..3], ["u07", "u06", "u05"], "{recent:?}");
    // Username, backwards.
    let (_, p) = staff.get("/staff/users?sort=-username").await;
    assert_eq!(listed_users(&p)[..2], ["u59", "u58"]);
    let (_, p) = staff.get("/staff/users?sort=-username&after=u10").await;
    assert_eq!(
        listed_users(&p),
        [
            "u09", "u08", "u07", "u06", "u05", "u04", "u03", "u02", "u01", "u00", "staff"
        ]
    );

    // The CSV follows the filter (OAuth N, a search) and the order.
    let (s, kind, body) = download(&staff, "/staff/users.csv?q=u0&oauth=n&sort=name").await;
    assert_eq!(s, StatusCode::OK);
    assert!(kind.starts_with("text/csv"));
    let rows = parse_csv(&body);
    assert_eq!(rows[0][0], "username");
    assert_eq!(rows[0].len(), 12);
    let (_, page) = staff.get("/staff/users?q=u0&oauth=n&sort=name").await;
    let exported: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        exported,
        listed_users(&page),
        "the CSV is the filtered list"
    );
    let u03 = rows.iter().find(|r| r[0] == "u03").unwrap();
    assert_eq!(u03[2], "u03@example.net");
    assert_eq!(u03[3], "N");
    assert_eq!(u03[8], "Alpha Networks", "current customer");
    assert_eq!(u03[9], "1", "links");
    // More than a page: the export reads them all.
    let (_, _, body) = download(&staff, "/staff/users.csv").await;
    assert_eq!(parse_csv(&body).len(), 62);
}

async fn audit_sorts_oldest_first(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    app.create_user("staff", PW, true);
    app.with_conn(|c| {
        for i in 0..70 {
            ixp_portal::db::audit::record(c, "test", "test.entry", &format!("s{i:02}"), "filler")
                .unwrap();
        }
    });
    let staff = Browser::signed_in(&app, "staff").await;
    let (_, page) = staff.get("/staff/audit?action=test.entry").await;
    assert!(page.contains("70 entries match, newest first"), "the count");
    assert!(page.contains("href=\"/staff/audit?sort=oldest&#38;action=test.entry\""));
    let (_, page) = staff
        .get("/staff/audit?sort=oldest&action=test.entry")
        .await;
    let first = page.find(">s00</a>").expect("the oldest shown");
    assert!(first < page.find(">s01</a>").unwrap(), "oldest first");
    let next = page
        .split("href=\"")
        .filter_map(|s| s.split_once('"').map(|(h, _)| h.replace("&#38;", "&")))
        .find(|h| h.contains("after="))
        .expect("a page of newer entries");
    let (_, page) = staff.get(&next).await;
    assert!(page.contains(">s50</a>") && page.contains(">s69</a>") && !page.contains(">s49</a>"));
    assert!(page.contains("« Oldest"));
}

async fn sessions_search_filter_page_and_named_buttons(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let acme = add_customer(&app, "Acme Networks", "acme", 64500);
    let beta = add_customer(&app, "Beta Carrier", "beta", 64501);
    peering_world(&app, &[&acme, &beta]);
    add_session(&app, "acme", "rs1", "pending");
    add_session(&app, "acme", "rs2", "established");
    add_session(&app, "beta", "rs1", "approved");
    add_session(&app, "beta", "rs2", "deleted");
    app.create_user("staff", PW, true);
    let staff = Browser::signed_in(&app, "staff").await;

    let (_, page) = staff.get("/staff/peering/sessions").await;
    assert!(page.contains("4 sessions"), "the count");
    for button in [
        ">Approve<",
        ">Reject<",
        ">Mark provisioned<",
        ">Mark down<",
        ">Delete…<",
    ] {
        assert!(page.contains(button), "{button}");
    }
    assert!(
        !page.contains(">approved</button>"),
        "buttons say what they do"
    );
    // Search by customer name, by shortname, by ASN, by address.
    let (_, page) = staff.get("/staff/peering/sessions?q=acme").await;
    assert!(page.contains("2 sessions match"), "by name");
    let (_, page) = staff.get("/staff/peering/sessions?q=AS64501").await;
    assert!(
        page.contains("2 sessions match") && !page.contains("Acme Networks</a>"),
        "by ASN"
    );
    let (_, page) = staff.get("/staff/peering/sessions?q=192.0.2.11").await;
    assert!(
        page.contains("2 sessions match") && page.contains("Beta Carrier"),
        "by address"
    );
    let (_, page) = staff
        .get("/staff/peering/sessions?q=AS64999&status=deleted")
        .await;
    assert!(
        page.contains("1 session match") && page.contains("Beta Carrier"),
        "route server ASN and status"
    );
    let (_, page) = staff.get("/staff/peering/sessions?q=nobody").await;
    assert!(page.contains("0 sessions match") && page.contains("No session matches."));
    // Sorted by customer, then the other way.
    let (_, page) = staff.get("/staff/peering/sessions?sort=customer").await;
    assert!(page.find("Acme Networks</a>").unwrap() < page.find("Beta Carrier</a>").unwrap());
    let (_, page) = staff.get("/staff/peering/sessions?sort=-customer").await;
    assert!(page.find("Acme Networks</a>").unwrap() > page.find("Beta Carrier</a>").unwrap());

    // More than a page (100): keyset pages, no session twice, none missing.
    app.with_conn(|c| {
        let base = peering_sessions::search(
            c,
            &Default::default(),
            peering_sessions::SessionSort::Requested,
            true,
            None,
            1,
        )
        .unwrap()
        .remove(0);
        for i in 0..120 {
            let mut s = NewSession {
                session_id: format!("ps-bulk-{i:03}"),
                customer_id: base.customer_id,
                connection_id: base.connection_id,
                route_server_id: base.route_server_id,
                family: base.family,
                member_asn: base.member_asn,
                member_ip: base.member_ip.clone(),
                rs_asn: base.rs_asn,
                rs_ip: base.rs_ip.clone(),
                rs_is_local: false,
                location_id: base.location_id.clone(),
                status: "deleted".into(),
                requested_by: "bulk".into(),
                created_at: now(),
                updated_at: now(),
            };
            s.member_asn = Asn::new(64501).unwrap();
            peering_sessions::insert(c, &s).unwrap();
        }
    });
    for sort in [
        "",
        "&sort=customer",
        "&sort=-asn",
        "&sort=status",
        "&sort=-requested",
    ] {
        let mut seen = std::collections::HashSet::new();
        let mut path = format!("/staff/peering/sessions?status=deleted{sort}");
        let mut pages = 0;
        loop {
            let (s, page) = staff.get(&path).await;
            assert_eq!(s, StatusCode::OK);
            assert!(page.contains("121 sessions match"), "{sort}");
            let rows: Vec<&str> = page
                .split("<tr id=\"session-")
                .skip(1)
                .filter_map(|r| r.split_once('"').map(|(id, _)| id))
                .collect();
            assert!(rows.len() <= 100, "{sort}: 100 a page");
            for id in rows {
                assert!(seen.insert(id.to_string()), "{sort}: session {id} twice");
            }
            pages += 1;
            match page
                .split("href=\"")
                .filter_map(|s| s.split_once('"').map(|(h, _)| h.replace("&#38;", "&")))
                .find(|h| h.contains("after="))
            {
                Some(n) => path = n,
                None => break,
            }
        }
        assert_eq!(pages, 2, "{sort}: two pages, of 100 and 21");
        assert_eq!(seen.len(), 121, "{sort}: every session once");
    }
    // Deleted sessions have no buttons (they are history).
    let (_, page) = staff
        .get("/staff/peering/sessions?status=deleted&q=ps-bulk-007")
        .await;
    assert!(page.contains("1 session match"), "by session id");
    assert!(!page.contains(">Delete…<"));
}

async fn route_server_with_a_live_session_cannot_be_deleted(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let acme = add_customer(&app, "Acme Networks", "acme", 64500);
    let w = peering_world(&app, &[&acme]);
    let (rs, sid) = add_session(&app, "acme", "rs1", "provisioned");
    assert_eq!(rs, w.rs1);
    app.create_user("staff", PW, true);
    let staff = Browser::signed_in(&app, "staff").await;

    // The confirmation page names what is in the way, and has no button.
    let (s, page) = staff
        .get(&format!("/staff/peering/routeservers/{rs}/delete"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("This cannot be done yet"), "{page}");
    assert!(
        page.contains("provisioned session of Acme Networks"),
        "{page}"
    );
    assert!(
        page.contains("/staff/peering/sessions?q=ps-test-"),
        "a link to the session"
    );
    assert!(!page.contains("class=\"danger\""), "no delete button");
    // A POST anyway: refused, with the reason, and nothing is lost.
    let r = staff
        .post(&format!("/staff/peering/routeservers/{rs}/delete"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&r),
        format!("/staff/peering/routeservers/{rs}/delete")
    );
    let (_, page) = staff.get(&location(&r)).await;
    assert!(page.contains("still has a record that needs it"), "{page}");
    assert!(
        app.with_conn(|c| lans::route_server(c, rs).unwrap())
            .is_some()
    );
    assert!(
        app.with_conn(|c| peering_sessions::find(c, sid).unwrap())
            .is_some()
    );
    assert_eq!(audit_count(&app, "routeserver.delete"), 0);
    // The CLI refuses too.
    let refused = app.with_conn(|c| admin::peering::delete_route_server(c, "cli", rs));
    assert!(refused.is_err());
    // The connection under the session is refused the same way.
    let conn = w.connections[0];
    let (_, page) = staff
        .get(&format!("/staff/peering/connections/{conn}/delete"))
        .await;
    assert!(page.contains("This cannot be done yet"));

    // Deleting the session is a status with history and an audit entry.
    let (_, page) = staff
        .get(&format!("/staff/peering/sessions/{sid}/delete"))
        .await;
    assert!(page.contains("Delete the session of Acme Networks?"));
    assert!(page.contains("name=\"status\" value=\"deleted\""));
    assert!(page.contains("stays in this list with the status deleted"));
    let r = staff
        .post(
            &format!("/staff/peering/sessions/{sid}/status"),
            &[("status", "deleted")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let s = app.with_conn(|c| peering_sessions::find(c, sid).unwrap().unwrap());
    assert_eq!(s.status(), SessionStatus::Deleted);
    assert_eq!(audit_count(&app, "peering_session.delete"), 1);
    // Now the route server may go: the page names the ended record, the
    // delete writes its history to the audit log.
    let (_, page) = staff
        .get(&format!("/staff/peering/routeservers/{rs}/delete"))
        .await;
    assert!(page.contains("1 ended session record"), "{page}");
    assert!(page.contains("class=\"danger\""));
    let r = staff
        .post(&format!("/staff/peering/routeservers/{rs}/delete"), &[])
        .await;
    assert_eq!(location(&r), "/staff/peering");
    assert!(
        app.with_conn(|c| lans::route_server(c, rs).unwrap())
            .is_none()
    );
    let purge = audit_of(&app, "peering_session.purge");
    assert_eq!(purge.len(), 1);
    assert_eq!(purge[0].subject, "acme");
    assert!(purge[0].details.contains(&s.session_id), "{:?}", purge[0]);
    assert!(purge[0].details.contains("route server rs1"));
    assert_eq!(audit_count(&app, "routeserver.delete"), 1);
}

async fn lan_and_customer_deletes_are_confirmed_or_refused(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let acme = add_customer(&app, "Acme Networks", "acme", 64500);
    let w = peering_world(&app, &[&acme]);
    let ann = app.create_user("ann", PW, false);
    link(&app, ann, &acme, Privilege::CustUser);
    app.create_user("staff", PW, true);
    let staff = Browser::signed_in(&app, "staff").await;

    // The LAN: refused while route servers and connections use it.
    let lan = w.lan_id;
    let (_, page) = staff
        .get(&format!("/staff/peering/lans/{lan}/delete"))
        .await;
    assert!(page.contains("Delete peering LAN Main LAN?"));
    for needle in [
        "route server rs1",
        "route server rs2",
        "the connection of Acme Networks (192.0.2.10",
    ] {
        assert!(page.contains(needle), "{needle}: {page}");
    }
    assert!(page.contains(&format!("href=\"/staff/peering/routeservers/{}\"", w.rs1)));
    // The customer: refused while it has users and connections.
    let (_, page) = staff
        .get(&format!("/staff/customers/{}/delete", acme.id))
        .await;
    assert!(page.contains("This cannot be done yet"));
    assert!(
        page.contains("user ann (read-only user)")
            && page.contains("the connection of Acme Networks on Main LAN"),
        "{page}"
    );
    let r = staff
        .post(&format!("/staff/customers/{}/delete", acme.id), &[])
        .await;
    assert_eq!(location(&r), format!("/staff/customers/{}/delete", acme.id));
    assert!(
        app.with_conn(|c| db_customers::find(c, acme.id).unwrap())
            .is_some()
    );

    // Emptied, everything goes through its confirmation page.
    for rs in [w.rs1, w.rs2] {
        let (_, page) = staff
            .get(&format!("/staff/peering/routeservers/{rs}/delete"))
            .await;
        assert!(page.contains("What will be lost") && page.contains("configuration feed"));
        staff
            .post(&format!("/staff/peering/routeservers/{rs}/delete"), &[])
            .await;
    }
    let conn = w.connections[0];
    let (_, page) = staff
        .get(&format!("/staff/peering/connections/{conn}/delete"))
        .await;
    assert!(
        page.contains("the connection of Acme Networks on Main LAN: 192.0.2.10"),
        "{page}"
    );
    staff
        .post(&format!("/staff/peering/connections/{conn}/delete"), &[])
        .await;
    let (_, page) = staff
        .get(&format!("/staff/peering/lans/{lan}/delete"))
        .await;
    assert!(
        page.contains("the peering LAN Main LAN (VLAN 100, 192.0.2.0/24, 2001:db8:100::/64)"),
        "{page}"
    );
    // Without the token: refused.
    let r = staff
        .post_raw(&format!("/staff/peering/lans/{lan}/delete"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let page = staff
        .post_follow(&format!("/staff/peering/lans/{lan}/delete"), &[])
        .await;
    assert!(page.contains("The peering LAN is deleted."));
    assert!(app.with_conn(|c| lans::lan(c, lan).unwrap()).is_none());
    assert_eq!(audit_count(&app, "lan.delete"), 1);

    let aid = app.with_conn(|c| {
        ixp_portal::db::affiliations::find(c, ann, acme.id)
            .unwrap()
            .unwrap()
            .id
    });
    staff
        .post(&format!("/staff/users/{ann}/links/{aid}/remove"), &[])
        .await;
    let (_, page) = staff
        .get(&format!("/staff/customers/{}/delete", acme.id))
        .await;
    assert!(
        page.contains("the customer Acme Networks (AS64500, acme)"),
        "{page}"
    );
    let page = staff
        .post_follow(&format!("/staff/customers/{}/delete", acme.id), &[])
        .await;
    assert!(page.contains("Customer Acme Networks deleted."));
    assert!(
        app.with_conn(|c| db_customers::find(c, acme.id).unwrap())
            .is_none()
    );
    assert_eq!(audit_of(&app, "customer.delete")[0].subject, "acme");
    // Members may not see these pages.
    let ann = Browser::signed_in(&app, "ann").await;
    let (s, _) = ann.get(&format!("/staff/peering/lans/{lan}/delete")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

async fn confirmation_pages_for_keys_links_and_sessions(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let w = world(&app);
    let (kid, _) = app.with_conn(|c| {
        ixp_portal::admin::api_keys::create(c, "adam", Some(&w.alpha), "robot").unwrap()
    });
    let adam = Browser::signed_in(&app, "adam").await;
    // An API key: the page names what revoking it loses.
    let (s, page) = adam.get(&format!("/member/api-keys/{kid}/revoke")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("Revoke the API key &#34;robot&#34;?"),
        "{page}"
    );
    assert!(page.contains("every tool that uses it is refused"));
    assert!(page.contains(&format!("action=\"/member/api-keys/{kid}/revoke\"")));
    let (_, list) = adam.get("/member/api-keys").await;
    assert!(
        !list.contains(&format!("action=\"/member/api-keys/{kid}/revoke\"")),
        "no one-click revoke"
    );
    assert!(list.contains("1 key, 1 active"));
    // Another customer's admin: not found; a read-only user: not allowed.
    let bob = Browser::signed_in(&app, "bob").await;
    assert_eq!(
        bob.get(&format!("/member/api-keys/{kid}/revoke")).await.0,
        StatusCode::NOT_FOUND
    );
    let ann = Browser::signed_in(&app, "ann").await;
    assert_eq!(
        ann.get(&format!("/member/api-keys/{kid}/revoke")).await.0,
        StatusCode::FORBIDDEN
    );

    // A colleague's access: confirmed, in this customer only, never one's own.
    let (s, page) = adam
        .get(&format!("/member/users/{}/remove", w.amy_link))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Remove amy from Alpha Networks?"));
    assert!(page.contains(&format!("action=\"/member/users/{}/remove\"", w.amy_link)));
    assert_eq!(
        adam.get(&format!("/member/users/{}/remove", w.bea_link))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        adam.get(&format!("/member/users/{}/remove", w.adam_link))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        ann.get(&format!("/member/users/{}/remove", w.amy_link))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (_, list) = adam.get("/member/users").await;
    assert!(
        !list.contains(&format!("action=\"/member/users/{}/remove\"", w.amy_link)),
        "no one-click remove: {list}"
    );
    assert!(list.contains(&format!("href=\"/member/users/{}/remove\"", w.amy_link)));

    // Staff: a link, a user's sessions, a second factor.
    let staff = Browser::signed_in(&app, "staff").await;
    let (_, page) = staff
        .get(&format!(
            "/staff/users/{}/links/{}/remove",
            w.amy, w.amy_link
        ))
        .await;
    assert!(page.contains("Remove amy from Alpha Networks?") && page.contains("Read-only user"));
    assert_eq!(
        staff
            .get(&format!(
                "/staff/users/{}/links/{}/remove",
                w.bea, w.amy_link
            ))
            .await
            .0,
        StatusCode::NOT_FOUND,
        "the link belongs to another user"
    );
    let (_, page) = staff
        .get(&format!("/staff/users/{}/sessions/end", w.amy))
        .await;
    assert!(page.contains("Sign amy out everywhere?"));
    assert!(page.contains(&format!("action=\"/staff/users/{}/sessions/end\"", w.amy)));
    let (_, page) = staff
        .get(&format!("/staff/users/{}/2fa/reset", w.amy))
        .await;
    assert!(page.contains("Reset the second factor of amy?"));
    let (_, view) = staff.get(&format!("/staff/users/{}", w.amy)).await;
    assert!(
        !view.contains(&format!(
            "action=\"/staff/users/{}/links/{}/remove\"",
            w.amy, w.amy_link
        )),
        "no one-click remove"
    );
    assert!(!view.contains(&format!("action=\"/staff/users/{}/sessions/end\"", w.amy)));
    assert_eq!(
        adam.get(&format!("/staff/users/{}/sessions/end", w.amy))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    // Danger buttons look dangerous.
    assert!(page.contains("<button type=\"submit\" class=\"danger\">"));
}

async fn exchange_name_support_and_first_run(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    app.create_user("staff", PW, true);
    let staff = Browser::signed_in(&app, "staff").await;
    // A fresh install: a neutral name, and the checklist.
    let (_, page) = staff.get("/").await;
    assert!(
        page.contains("<title>Dashboard · IXP member portal</title>"),
        "{page}"
    );
    assert!(page.contains("id=\"first-run\""));
    assert!(
        page.contains("1 of 4 done"),
        "PeeringDB login is enabled in the tests"
    );
    assert!(page.contains("href=\"/staff/peering#ixp\""));
    assert!(page.contains("href=\"/staff/peering/lans/new\""));
    assert!(page.contains("href=\"/staff/customers/new\""));
    // The IXP record: the name in the header and titles, the address in
    // the footer and next to messages that send people to support.
    let r = staff
        .post(
            "/staff/peering/ixp",
            &[
                ("name", "Example IX"),
                ("shortname", "EX"),
                ("ixf_id", ""),
                ("peeringdb_ix_id", ""),
                ("country", "NL"),
                ("support_email", "noc@ix.example"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = staff.get("/").await;
    assert!(
        page.contains("<title>Dashboard · Example IX member portal</title>"),
        "{page}"
    );
    assert!(page.contains("<span class=\"brand-name\">Example IX</span>"));
    assert!(
        page.contains("href=\"mailto:noc@ix.example\""),
        "the footer"
    );
    assert!(page.contains("Set up Example IX"));
    assert!(
        page.contains("<span class=\"step\">Set the IXP record</span>"),
        "done"
    );
    // The other steps.
    app.with_conn(|c| {
        admin::peering::save_lan(
            c,
            "test",
            None,
            &admin::peering::LanInput {
                name: "Main".into(),
                vlan_id: "10".into(),
                ipv4_prefix: "192.0.2.0/24".into(),
                ipv6_prefix: String::new(),
            },
        )
        .unwrap();
    });
    let (_, page) = staff.get("/").await;
    assert!(page.contains("id=\"first-run\""), "one step left");
    add_customer(&app, "Alpha Networks", "alpha", 64500);
    let (_, page) = staff.get("/").await;
    assert!(!page.contains("id=\"first-run\""), "every step done: gone");

    // The login page greets with the name; a disabled account's refusal
    // comes with the support address.
    let anon = Browser::anonymous(&app);
    let (_, page) = anon.get("/login").await;
    assert!(page.contains("Sign in to Example IX"));
    let dis = app.create_user("dis", PW, false);
    app.with_conn(|c| ixp_portal::db::users::update_flags(c, dis, true, false).unwrap());
    let r = anon
        .post("/login", &[("username", "dis"), ("password", PW)])
        .await;
    let page = r.text().await.unwrap();
    assert!(
        page.contains("support team")
            && page.contains("Support: <a href=\"mailto:noc@ix.example\">"),
        "{page}"
    );
    // A member who is linked to nothing is told whom to write to.
    app.create_user("lonely", PW, false);
    let lonely = Browser::signed_in(&app, "lonely").await;
    let (_, page) = lonely.get("/").await;
    assert!(
        page.contains("the exchange's support team at <a href=\"mailto:noc@ix.example\">"),
        "{page}"
    );
    assert!(
        !page.contains("id=\"first-run\""),
        "members never see the checklist"
    );
}

async fn error_pages_keep_the_layout_and_logout_has_a_page(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    world(&app);
    let staff = Browser::signed_in(&app, "staff").await;
    for (path, status, title) in [
        ("/no/such/page", StatusCode::NOT_FOUND, "Page not found"),
        (
            "/staff/customers/999999",
            StatusCode::NOT_FOUND,
            "Page not found",
        ),
        ("/staff/users/abc", StatusCode::NOT_FOUND, "Page not found"),
    ] {
        let r = staff.get_resp(path).await;
        assert_eq!(r.status(), status, "{path}");
        assert_eq!(
            r.headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("no-store"),
            "headers kept"
        );
        let page = r.text().await.unwrap();
        assert!(page.contains(title), "{path}");
        assert!(
            page.contains("href=\"/staff/customers\""),
            "{path}: the staff navigation"
        );
        assert!(page.contains(">staff</a>"), "{path}: who is signed in");
        assert!(page.contains("action=\"/logout\""), "{path}: sign out");
    }
    // A member's 403 keeps their navigation (and no staff links).
    let ann = Browser::signed_in(&app, "ann").await;
    let (s, page) = ann.get("/staff/users").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(page.contains("Not allowed") && page.contains("href=\"/member/peering\""));
    assert!(!page.contains("href=\"/staff/customers\""));
    // A form with a bad token: 403 in the layout.
    let r = ann
        .post_raw("/switch", &[("customer_id", "1"), ("csrf", "forged")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let page = r.text().await.unwrap();
    assert!(page.contains("Form expired") && page.contains("href=\"/member/peering\""));
    // Anonymous: the layout without a menu.
    let (s, page) = Browser::anonymous(&app).get("/nope").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(page.contains("Page not found") && !page.contains("details class=\"menu\""));

    // GET /logout: a page with one button; the POST signs out.
    let (s, page) = ann.get("/logout").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Sign out?"));
    assert_eq!(
        page.matches("<form method=\"post\" action=\"/logout\"")
            .count(),
        2,
        "header and page"
    );
    assert_eq!(
        ann.get("/profile").await.0,
        StatusCode::OK,
        "GET signs nobody out"
    );
    let page = ann.post_follow("/logout", &[]).await;
    assert!(page.contains("You have signed out."));
    let (s, page) = ann.get("/logout").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("You are signed out"));
}

async fn words_and_badges_mean_what_they_say(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    world(&app);
    app.with_conn(|c| {
        let mut f = fields("Suspended Co", "susp", 64510);
        f.status = CustomerStatus::Suspended;
        admin::create_customer(c, "test", &f).unwrap();
        let mut f = fields("Associate Co", "assoc", 64511);
        f.cust_type = CustomerType::Associate;
        admin::create_customer(c, "test", &f).unwrap();
        let mut f = fields("Gone Co", "gone", 64512);
        f.date_left = Some(chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap());
        admin::create_customer(c, "test", &f).unwrap();
        let mut f = fields("Private Co", "private", 64513);
        f.peeringdb_oauth = false;
        admin::create_customer(c, "test", &f).unwrap();
    });
    let staff = Browser::signed_in(&app, "staff").await;
    let (_, page) = staff.get("/staff/customers").await;
    let row = |needle: &str| crate::staff::row_of(&page, needle).to_string();
    assert!(
        row(">Alpha Networks</a>").contains("<span class=\"badge yes\""),
        "eligible: green"
    );
    assert!(row(">Alpha Networks</a>").contains(">possible</span>"));
    for (name, text) in [
        ("Suspended Co", "not possible: suspended"),
        ("Associate Co", "not possible: associate"),
        ("Gone Co", "not possible: left"),
    ] {
        let r = row(&format!(">{name}</a>"));
        assert!(r.contains(&format!(">{text}</span>")), "{name}: {r}");
        assert!(!r.contains("badge yes"), "{name}: not green");
    }
    assert!(row(">Private Co</a>").contains("<span class=\"badge off\""));
    assert!(row(">Private Co</a>").contains(">OAuth disabled</span>"));
    let susp = app.with_conn(|c| db_customers::by_shortname(c, "susp").unwrap().unwrap());
    let (_, page) = staff.get(&format!("/staff/customers/{}", susp.id)).await;
    assert!(
        page.contains("it is suspended at the exchange"),
        "the reason in words"
    );
    // Privileges in words, with IXP Manager's names in the legend.
    let adam = Browser::signed_in(&app, "adam").await;
    let (_, page) = adam.get("/member/users").await;
    assert!(page.contains(">Read-only user</option>") && page.contains(">Administrator</option>"));
    assert!(
        page.contains("<code>custuser</code>") && page.contains("<code>custadmin</code>"),
        "the legend"
    );
    assert!(!page.contains("Custuser"), "no jargon");
    assert!(
        page.contains("IXP staff or an administrator"),
        "added by, in words"
    );
    assert!(page.contains("3 users"), "the count");
    let (_, page) = adam.get("/").await;
    assert!(page.contains("<dt>Your access</dt><dd>Administrator</dd>"));
}
