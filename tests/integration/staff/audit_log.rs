//! The audit log page: newest first, filters, paging, and the reasons
//! Login with PeeringDB skipped a network.
use super::{Browser, PW, add_customer, fields};
use crate::both_backends;
use crate::common::{Backend, Opts, profile, spawn_with};
use ixp_portal::admin;
use ixp_portal::db::audit;
use reqwest::StatusCode;

both_backends!(audit_log_filters_pages_and_shows_skips);

/// The subjects of the table's rows, in order.
fn subjects(page: &str) -> Vec<String> {
    page.split("<a href=\"/staff/audit?subject=")
        .skip(1)
        .filter_map(|s| s.split_once("\">").map(|(_, r)| r))
        .filter_map(|r| r.split_once("</a>").map(|(s, _)| s.to_string()))
        .collect()
}

async fn audit_log_filters_pages_and_shows_skips(b: Backend) {
    let opts = Opts {
        profiles: vec![profile(9, "Sam Skip", &[64500, 64600])],
        ..Default::default()
    };
    let Some(app) = spawn_with(b, opts).await else {
        return;
    };
    app.create_user("staff", PW, true);
    // Staff sign in first (a password sign-in is audited too, SPEC §8).
    let staff = Browser::signed_in(&app, "staff").await;
    add_customer(&app, "Alpha Networks", "alpha", 64500);
    app.with_conn(|c| {
        let mut f = fields("Opted Out Ltd", "optout", 64600);
        f.peeringdb_oauth = false;
        admin::create_customer(c, "test", &f).unwrap();
        for i in 0..60 {
            audit::record(c, "cli", "test.entry", &format!("s{i:02}"), "filler").unwrap();
        }
    });
    // A PeeringDB login that links alpha and skips the opted-out customer.
    assert_eq!(app.peeringdb_login(0).await.status(), StatusCode::SEE_OTHER);

    let (s, page) = staff.get("/staff/audit").await;
    assert_eq!(s, StatusCode::OK);
    // Newest first: the login's entries come before the filler.
    let subs = subjects(&page);
    assert_eq!(subs.len(), 50, "50 a page");
    assert_eq!(subs[0], "sam.skip");
    let first_filler = subs.iter().position(|s| s == "s59").expect("filler shown");
    assert!(
        subs[first_filler..].windows(2).all(|w| w[0] > w[1]),
        "descending"
    );
    assert!(page.contains(
        "not linked to Opted Out Ltd (AS64600): customer has opted out of login via PeeringDB"
    ));
    // The actions filter offers each action once.
    assert_eq!(page.matches("<option value=\"peeringdb.skip\"").count(), 1);
    assert_eq!(page.matches("<option value=\"test.entry\"").count(), 1);
    assert!(page.contains("<option value=\"customer.create\""));
    // Paging: older entries on the next page.
    let next = page
        .split("href=\"")
        .filter_map(|s| s.split_once('"').map(|(h, _)| h.replace("&#38;", "&")))
        .find(|h| h.starts_with("/staff/audit?before="))
        .expect("a link to older entries");
    let (_, older) = staff.get(&next).await;
    let subs2 = subjects(&older);
    assert!(subs2.iter().all(|s| !subs.contains(s)), "no entry twice");
    assert_eq!(
        subs2.last().map(String::as_str),
        Some("staff"),
        "the oldest last"
    );
    assert!(older.contains("« Newest"));

    // Filter by action, and by subject.
    let (_, page) = staff.get("/staff/audit?action=peeringdb.skip").await;
    assert_eq!(subjects(&page), ["sam.skip"]);
    assert!(page.contains("<option value=\"peeringdb.skip\" selected>"));
    let (_, page) = staff.get("/staff/audit?subject=s07").await;
    assert_eq!(subjects(&page), ["s07"]);
    assert!(
        page.contains("value=\"s07\""),
        "the subject is kept in the form"
    );
    let (_, page) = staff.get("/staff/audit?subject=sam.skip").await;
    let subs = subjects(&page);
    assert!(
        subs.len() >= 3,
        "user.create, affiliation.create, skip, login: {subs:?}"
    );
    assert!(subs.iter().all(|s| s == "sam.skip"));
    let (_, page) = staff
        .get("/staff/audit?action=test.entry&subject=s07")
        .await;
    assert_eq!(subjects(&page), ["s07"]);
    let (_, page) = staff.get("/staff/audit?action=nothing.like.this").await;
    assert!(page.contains("No entry matches."));
    let (s, _) = staff.get("/staff/audit?before=abc").await;
    assert_eq!(s, StatusCode::OK, "a bad cursor is ignored");
}
