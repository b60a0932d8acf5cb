//! Staff customer pages: the form (valid, invalid, CSRF), the PeeringDB
//! opt-out checkbox, audit entries, search, filters and paging.
use super::{Browser, PW, add_customer, audit_of, fields, row_of};
use crate::both_backends;
use crate::common::{Backend, location, spawn};
use ixp_portal::admin;
use ixp_portal::db::customers as db_customers;
use ixp_portal::domain::{CustomerStatus, CustomerType};
use reqwest::StatusCode;

both_backends!(
    customer_form_valid_invalid_and_csrf,
    opt_out_checkbox_round_trips,
    customer_list_search_filters_and_paging,
    customer_view_shows_users_and_logins,
);

fn form<'a>(pairs: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("name", "Delta Exchange"),
        ("shortname", "delta"),
        ("asn", "64510"),
        ("cust_type", "full"),
        ("status", "normal"),
        ("date_joined", "2020-01-15"),
        ("date_left", ""),
        ("peeringdb_oauth", "on"),
    ];
    for (k, v) in pairs {
        f.retain(|(fk, _)| fk != k);
        if !v.is_empty() || !matches!(*k, "peeringdb_oauth") {
            f.push((k, v));
        }
    }
    f
}

fn count(app: &crate::common::TestApp) -> i64 {
    app.with_conn(|c| db_customers::count(c).unwrap())
}

async fn customer_form_valid_invalid_and_csrf(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    app.create_user("staff", PW, true);
    let staff = Browser::signed_in(&app, "staff").await;

    // Invalid: every field wrong; errors next to the fields, values kept.
    let bad = form(&[
        ("name", "  "),
        ("shortname", "Not A Slug!"),
        ("asn", "AS99999999999"),
        ("cust_type", "gold"),
        ("status", "sleeping"),
        ("date_joined", "2020-13-45"),
        ("date_left", "yesterday"),
    ]);
    let r = staff.post("/staff/customers/new", &bad).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = r.text().await.unwrap();
    for message in [
        "This field is required.",
        "Use 1 to 255 lower-case letters",
        "Use a number from 1 to 4294967295",
        "Choose a type.",
        "Choose a status.",
        "Use a date like 2024-05-31",
    ] {
        assert!(page.contains(message), "{message} shown: {page}");
    }
    assert!(
        page.contains(r#"value="Not A Slug!""#),
        "typed shortname kept"
    );
    assert!(page.contains(r#"value="AS99999999999""#), "typed ASN kept");
    assert!(page.contains(r#"value="2020-13-45""#), "typed date kept");
    assert!(page.contains("class=\"field-error\""));
    assert_eq!(count(&app), 0, "nothing saved");

    // The date left may not precede the date joined.
    let r = staff
        .post(
            "/staff/customers/new",
            &form(&[("date_joined", "2021-01-01"), ("date_left", "2020-01-01")]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("cannot be before the date joined")
    );
    assert_eq!(count(&app), 0);

    // CSRF missing: refused, nothing saved.
    let r = staff.post_raw("/staff/customers/new", &form(&[])).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = staff
        .post_raw(
            "/staff/customers/new",
            &[form(&[]), vec![("csrf", "forged")]].concat(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(count(&app), 0, "nothing saved without the token");

    // Valid.
    let r = staff.post("/staff/customers/new", &form(&[])).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    assert!(to.starts_with("/staff/customers/"), "{to}");
    let (s, page) = staff.get(&to).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Customer Delta Exchange added."));
    assert!(page.contains("AS64510"));
    let c = app.with_conn(|c| db_customers::by_shortname(c, "delta").unwrap().unwrap());
    assert_eq!(c.name, "Delta Exchange");
    assert_eq!(c.autsys.get(), 64510);
    assert_eq!(
        c.date_joined.map(|d| d.to_string()).as_deref(),
        Some("2020-01-15")
    );
    assert!(c.peeringdb_oauth);
    assert_eq!(audit_of(&app, "customer.create").len(), 1);
    assert_eq!(audit_of(&app, "customer.create")[0].actor, "staff");

    // A taken shortname is a field error.
    add_customer(&app, "Echo", "echo", 64511);
    let r = staff
        .post("/staff/customers/new", &form(&[("name", "Delta Two")]))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("is already used by another customer"),
        "{page}"
    );
    assert!(page.contains(r#"value="Delta Two""#));
    assert_eq!(count(&app), 2);

    // Edit: type and status changes write an audit entry with both.
    let path = format!("/staff/customers/{}/edit", c.id);
    let (s, page) = staff.get(&path).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains(r#"value="Delta Exchange""#),
        "edit form is filled"
    );
    let r = staff
        .post(
            &path,
            &form(&[("cust_type", "associate"), ("status", "suspended")]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let c2 = app.with_conn(|conn| db_customers::by_shortname(conn, "delta").unwrap().unwrap());
    assert_eq!(c2.cust_type, CustomerType::Associate);
    assert_eq!(c2.status, CustomerStatus::Suspended);
    let updates = audit_of(&app, "customer.update");
    assert_eq!(updates.len(), 1);
    assert!(
        updates[0].details.contains("type full → associate"),
        "{:?}",
        updates[0]
    );
    assert!(updates[0].details.contains("status normal → suspended"));
    assert_eq!(updates[0].subject, "delta");

    // An invalid edit keeps the stored values and shows the errors.
    let r = staff
        .post(&path, &form(&[("asn", "0"), ("shortname", "echo")]))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = r.text().await.unwrap();
    assert!(page.contains("Use a number from 1 to 4294967295"));
    let id = c.id;
    let after = app.with_conn(|conn| db_customers::find(conn, id).unwrap().unwrap());
    assert_eq!(after.autsys.get(), 64510, "nothing saved");
    let r = staff.post(&path, &form(&[("shortname", "echo")])).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "taken shortname");
    assert_eq!(audit_of(&app, "customer.update").len(), 1);
    // Without a token, no change.
    let r = staff.post_raw(&path, &form(&[("name", "Hijacked")])).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let after = app.with_conn(|conn| db_customers::find(conn, id).unwrap().unwrap());
    assert_eq!(after.name, "Delta Exchange");
}

async fn opt_out_checkbox_round_trips(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    app.create_user("staff", PW, true);
    let staff = Browser::signed_in(&app, "staff").await;

    // The new form has the box checked, with the help text.
    let (_, page) = staff.get("/staff/customers/new").await;
    assert!(page.contains("Allow login via PeeringDB OAuth"));
    assert!(page.contains(r#"name="peeringdb_oauth" type="checkbox" value="on" checked"#));
    assert!(page.contains("Members can ask to be excluded from Login with PeeringDB"));

    // Unchecked (a browser sends no field): opted out.
    let r = staff
        .post("/staff/customers/new", &form(&[("peeringdb_oauth", "")]))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let view = location(&r);
    let c = app.with_conn(|c| db_customers::by_shortname(c, "delta").unwrap().unwrap());
    assert!(!c.peeringdb_oauth, "stored unchecked");
    let (_, page) = staff.get(&view).await;
    assert!(page.contains("OAuth disabled"), "badge on the view");
    let (_, page) = staff.get("/staff/customers").await;
    assert!(
        row_of(&page, "Delta Exchange").contains("OAuth disabled"),
        "badge in the list"
    );
    let edit = format!("/staff/customers/{}/edit", c.id);
    let (_, page) = staff.get(&edit).await;
    assert!(
        page.contains(r#"name="peeringdb_oauth" type="checkbox" value="on">"#),
        "unchecked on edit"
    );

    // Checked again: allowed, audited.
    let r = staff.post(&edit, &form(&[])).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let c = app.with_conn(|conn| db_customers::find(conn, c.id).unwrap().unwrap());
    assert!(c.peeringdb_oauth);
    let (_, page) = staff.get(&edit).await;
    assert!(page.contains(r#"value="on" checked"#), "checked on edit");
    let (_, page) = staff.get(&view).await;
    assert!(!page.contains("OAuth disabled"));
    let log = audit_of(&app, "customer.update");
    assert_eq!(log.len(), 1);
    assert!(
        log[0].details.contains("login via PeeringDB OAuth allowed"),
        "{:?}",
        log[0]
    );

    // Unchecked on edit: opted out, audited.
    let r = staff.post(&edit, &form(&[("peeringdb_oauth", "")])).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let c = app.with_conn(|conn| db_customers::find(conn, c.id).unwrap().unwrap());
    assert!(!c.peeringdb_oauth);
    let log = audit_of(&app, "customer.update");
    assert_eq!(log.len(), 2);
    assert!(
        log[0].details.contains("disabled (opted out)"),
        "{:?}",
        log[0]
    );

    // Saving without changes writes no entry.
    let r = staff.post(&edit, &form(&[("peeringdb_oauth", "")])).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(audit_of(&app, "customer.update").len(), 2);
}

async fn customer_list_search_filters_and_paging(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    app.create_user("staff", PW, true);
    app.with_conn(|c| {
        for i in 0..120 {
            let mut f = fields(&format!("Network {i:03}"), &format!("net{i:03}"), 65000 + i);
            f.cust_type = if i % 2 == 0 {
                CustomerType::Full
            } else {
                CustomerType::Associate
            };
            f.status = if i % 3 == 0 {
                CustomerStatus::Suspended
            } else {
                CustomerStatus::Normal
            };
            if i % 10 == 0 {
                f.date_left = Some(chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap());
            }
            admin::create_customer(c, "test", &f).unwrap();
        }
        admin::create_customer(c, "test", &fields("Zulu Carrier", "zulu", 4200000000)).unwrap();
    });
    let staff = Browser::signed_in(&app, "staff").await;
    let names = |page: &str| -> Vec<String> {
        page.split("<a href=\"/staff/customers/")
            .skip(1)
            .filter_map(|s| {
                let (id, rest) = s.split_once("\">")?;
                id.parse::<i64>().ok()?;
                rest.split_once("</a>").map(|(n, _)| n.to_string())
            })
            .collect()
    };
    // Paging: 50 a page, by name.
    let (_, p1) = staff.get("/staff/customers").await;
    let n1 = names(&p1);
    assert_eq!(n1.len(), 50);
    assert_eq!(n1[0], "Network 000");
    assert!(p1.contains("href=\"/staff/customers?page=2\""), "next link");
    let (_, p3) = staff.get("/staff/customers?page=3").await;
    let n3 = names(&p3);
    assert_eq!(n3.len(), 21);
    assert_eq!(n3.last().map(String::as_str), Some("Zulu Carrier"));
    assert!(!p3.contains("page=4"));
    assert!(
        p3.contains("href=\"/staff/customers?page=2\""),
        "previous link"
    );
    // Search by name, shortname and ASN.
    let (_, p) = staff.get("/staff/customers?q=zulu").await;
    assert_eq!(names(&p), ["Zulu Carrier"]);
    let (_, p) = staff.get("/staff/customers?q=NET007").await;
    assert_eq!(names(&p), ["Network 007"]);
    let (_, p) = staff.get("/staff/customers?q=AS4200000000").await;
    assert_eq!(names(&p), ["Zulu Carrier"]);
    let (_, p) = staff.get("/staff/customers?q=%25").await;
    assert!(names(&p).is_empty(), "% matches itself only");
    // Filters, also combined with paging links that keep them.
    let (_, p) = staff
        .get("/staff/customers?type=associate&status=suspended")
        .await;
    let n = names(&p);
    assert_eq!(n.len(), 20, "odd multiples of 3 below 120");
    assert!(n.iter().all(|x| x.starts_with("Network")));
    let (_, p) = staff.get("/staff/customers?cancelled=yes").await;
    assert_eq!(names(&p).len(), 12);
    assert!(p.contains("cancelled</span>"));
    let (_, p) = staff.get("/staff/customers?cancelled=no&type=full").await;
    assert_eq!(names(&p).len(), 49, "48 current even networks and Zulu");
    let (_, p) = staff.get("/staff/customers?type=full").await;
    assert_eq!(names(&p).len(), 50);
    assert!(
        p.contains("href=\"/staff/customers?type=full&#38;page=2\""),
        "filters kept in the pager"
    );
    let (_, p) = staff.get("/staff/customers?type=full&page=2").await;
    assert_eq!(names(&p).len(), 11);
    // Nonsense filters are ignored, not errors.
    let (s, _) = staff
        .get("/staff/customers?type=gold&page=-4&cancelled=maybe")
        .await;
    assert_eq!(s, StatusCode::OK);
}

async fn customer_view_shows_users_and_logins(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    app.create_user("staff", PW, true);
    let c = add_customer(&app, "Alpha Networks", "alpha", 64500);
    let ann = app.create_user("ann", PW, false);
    super::link(&app, ann, &c, ixp_portal::domain::Privilege::CustAdmin);
    // ann signs in: a login record for alpha.
    let _ann = Browser::signed_in(&app, "ann").await;
    let staff = Browser::signed_in(&app, "staff").await;
    let (s, page) = staff.get(&format!("/staff/customers/{}", c.id)).await;
    assert_eq!(s, StatusCode::OK);
    let row = row_of(&page, ">ann</a>");
    assert!(row.contains("custadmin"));
    assert!(row.contains("admin"), "how the link was made");
    assert!(row.contains("(password)"), "last login method");
    assert!(page.contains("Recent logins"));
    assert!(page.contains("127.0.0.1"));
    assert!(!page.contains("OAuth disabled"));
}
