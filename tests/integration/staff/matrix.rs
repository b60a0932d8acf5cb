//! Every route of the staff and member pages × every role, with ids of
//! other customers' objects: allowed, or refused (sign-in, 403 or 404).
use super::{Browser, PW, link, world};
use crate::both_backends;
use crate::common::{Backend, location, spawn};
use ixp_portal::domain::Privilege;
use reqwest::StatusCode;

both_backends!(authorization_matrix);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// Redirected to the login page.
    Login,
    Forbidden,
    NotFound,
    /// 200 for a page, a redirect elsewhere than the login page for a form.
    Ok,
}
use Want::*;

const ROLES: [&str; 5] = [
    "anonymous",
    "custuser",
    "custadmin of the customer",
    "custadmin of another customer",
    "superuser",
];

struct Case {
    post: bool,
    path: String,
    form: Vec<(&'static str, String)>,
    want: [Want; 5],
}

fn get(path: impl Into<String>, want: [Want; 5]) -> Case {
    Case {
        post: false,
        path: path.into(),
        form: vec![],
        want,
    }
}

fn post(path: impl Into<String>, form: &[(&'static str, &str)], want: [Want; 5]) -> Case {
    Case {
        post: true,
        path: path.into(),
        form: form.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        want,
    }
}

const STAFF_ONLY: [Want; 5] = [Login, Forbidden, Forbidden, Forbidden, Ok];
const STAFF_404: [Want; 5] = [Login, Forbidden, Forbidden, Forbidden, NotFound];
const SIGNED_IN: [Want; 5] = [Login, Ok, Ok, Ok, Ok];
/// A member route on an object of the first customer (alpha).
const ALPHA_ADMIN: [Want; 5] = [Login, Forbidden, Ok, NotFound, Forbidden];
/// A member route on an object of the other customer (bravo).
const BRAVO_ADMIN: [Want; 5] = [Login, Forbidden, NotFound, Ok, Forbidden];

async fn authorization_matrix(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let w = world(&app);
    // Objects that the staff's changes may consume.
    let carl = app.create_user("carl", PW, false);
    let carl_link = link(&app, carl, &w.bravo, Privilege::CustUser);
    let victim = app.create_user("victim", PW, false);
    let (alpha, bravo) = (w.alpha.id, w.bravo.id);

    let customer = |name: &str, short: &str, asn: &str| {
        vec![
            ("name", name.to_string()),
            ("shortname", short.to_string()),
            ("asn", asn.to_string()),
            ("cust_type", "full".to_string()),
            ("status", "normal".to_string()),
            ("date_joined", String::new()),
            ("date_left", String::new()),
            ("peeringdb_oauth", "on".to_string()),
        ]
    };
    let mut cases = vec![
        get("/", SIGNED_IN),
        get("/profile", SIGNED_IN),
        get("/staff/customers", STAFF_ONLY),
        get(
            "/staff/customers?q=alpha&type=full&status=normal&cancelled=no&page=2",
            STAFF_ONLY,
        ),
        get("/staff/customers/new", STAFF_ONLY),
        get(format!("/staff/customers/{alpha}"), STAFF_ONLY),
        get(format!("/staff/customers/{bravo}"), STAFF_ONLY),
        get(format!("/staff/customers/{bravo}/edit"), STAFF_ONLY),
        get("/staff/customers/999999", STAFF_404),
        get("/staff/customers/nope/edit", STAFF_404),
        get("/staff/users", STAFF_ONLY),
        get("/staff/users?q=a&oauth=n&after=amy", STAFF_ONLY),
        get("/staff/users/new", STAFF_ONLY),
        get(format!("/staff/users/{}", w.amy), STAFF_ONLY),
        get(format!("/staff/users/{}", w.bea), STAFF_ONLY),
        get(format!("/staff/users/{}/edit", w.bea), STAFF_ONLY),
        get(format!("/staff/users/{}/delete", w.bea), STAFF_ONLY),
        get("/staff/users/999999", STAFF_404),
        get("/staff/audit", STAFF_ONLY),
        get(
            "/staff/audit?action=user.create&subject=amy&before=5",
            STAFF_ONLY,
        ),
        get("/member/users", [Login, Forbidden, Ok, Ok, Forbidden]),
    ];
    // Lifting blocks of SPEC §6.2 (none exists: the answer says so).
    cases.extend([
        post(
            format!("/staff/customers/{alpha}/blocks/999/lift"),
            &[],
            STAFF_ONLY,
        ),
        post(
            format!("/staff/users/{}/blocks/{alpha}/lift", w.amy),
            &[],
            STAFF_404,
        ),
        post(
            "/member/users/blocks/999/lift",
            &[],
            [Login, Forbidden, Ok, Ok, Forbidden],
        ),
    ]);
    let mut c = post("/staff/customers/new", &[], STAFF_ONLY);
    c.form = customer("Charlie IX", "charlie", "64502");
    cases.push(c);
    let mut c = post(format!("/staff/customers/{bravo}/edit"), &[], STAFF_ONLY);
    c.form = customer("Bravo Transit Ltd", "bravo", "64501");
    cases.push(c);
    let mut c = post("/staff/customers/999999/edit", &[], STAFF_404);
    c.form = customer("Ghost", "ghost", "64599");
    cases.push(c);
    cases.extend([
        post(
            "/staff/users/new",
            &[
                ("username", "newbie"),
                ("name", "New Bie"),
                ("email", "newbie@example.net"),
                ("shortname", "bravo"),
                ("privilege", "custuser"),
            ],
            STAFF_ONLY,
        ),
        post(
            format!("/staff/users/{}/edit", w.bea),
            &[("name", "Bea B."), ("email", "bea@example.net")],
            STAFF_ONLY,
        ),
        post(
            format!("/staff/users/{carl}/links"),
            &[("shortname", "alpha"), ("privilege", "custuser")],
            STAFF_ONLY,
        ),
        post(
            format!("/staff/users/{carl}/links/{carl_link}/privilege"),
            &[("privilege", "custadmin")],
            STAFF_ONLY,
        ),
        // A link id of another user under this user's path.
        post(
            format!("/staff/users/{}/links/{carl_link}/privilege", w.amy),
            &[("privilege", "custadmin")],
            STAFF_404,
        ),
        post(
            format!("/staff/users/{}/links/{carl_link}/remove", w.amy),
            &[],
            STAFF_404,
        ),
        post(
            format!("/staff/users/{carl}/links/{carl_link}/remove"),
            &[],
            STAFF_ONLY,
        ),
        post(format!("/staff/users/{victim}/delete"), &[], STAFF_ONLY),
        post("/staff/users/999999/delete", &[], STAFF_404),
        // Members: the current customer's objects only.
        post(
            "/member/users",
            &[
                ("email", "newcomer@example.net"),
                ("name", "New Comer"),
                ("privilege", "custuser"),
            ],
            [Login, Forbidden, Ok, Ok, Forbidden],
        ),
        post(
            format!("/member/users/{}/privilege", w.amy_link),
            &[("privilege", "custadmin")],
            ALPHA_ADMIN,
        ),
        post(
            format!("/member/users/{}/privilege", w.bea_link),
            &[("privilege", "custadmin")],
            BRAVO_ADMIN,
        ),
        // One's own link: refused to everybody.
        post(
            format!("/member/users/{}/privilege", w.adam_link),
            &[("privilege", "custuser")],
            [Login, Forbidden, Forbidden, NotFound, Forbidden],
        ),
        post(
            "/member/users/999999/privilege",
            &[("privilege", "custuser")],
            [Login, Forbidden, NotFound, NotFound, Forbidden],
        ),
        post(
            "/member/users/x/remove",
            &[],
            [Login, Forbidden, NotFound, NotFound, Forbidden],
        ),
        post(
            format!("/member/users/{}/remove", w.amy_link),
            &[],
            ALPHA_ADMIN,
        ),
        post(
            format!("/member/users/{}/remove", w.bea_link),
            &[],
            BRAVO_ADMIN,
        ),
        // The switcher: only to a customer the user is linked to.
        post(
            "/switch",
            &[("customer_id", &bravo.to_string())],
            [Login, NotFound, NotFound, Ok, NotFound],
        ),
    ]);

    let browsers = [
        Browser::anonymous(&app),
        Browser::signed_in(&app, "ann").await,
        Browser::signed_in(&app, "adam").await,
        Browser::signed_in(&app, "bob").await,
        Browser::signed_in(&app, "staff").await,
    ];
    let mut failures = Vec::new();
    for case in &cases {
        for (role, (browser, want)) in browsers.iter().zip(case.want).enumerate() {
            let r = if case.post {
                let form: Vec<(&str, &str)> =
                    case.form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                browser.post(&case.path, &form).await
            } else {
                browser.get_resp(&case.path).await
            };
            let status = r.status();
            let to = location(&r);
            let got = match status {
                StatusCode::SEE_OTHER if to.starts_with("/login") => Login,
                StatusCode::FORBIDDEN => Forbidden,
                StatusCode::NOT_FOUND => NotFound,
                StatusCode::OK if !case.post => Ok,
                StatusCode::SEE_OTHER if case.post => Ok,
                _ => {
                    failures.push(format!(
                        "{} {} as {}: unexpected {status} (location {to:?})",
                        if case.post { "POST" } else { "GET" },
                        case.path,
                        ROLES[role]
                    ));
                    continue;
                }
            };
            if got != want {
                failures.push(format!(
                    "{} {} as {}: want {want:?}, got {got:?} ({status})",
                    if case.post { "POST" } else { "GET" },
                    case.path,
                    ROLES[role]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The refused requests changed nothing: no audit entry names a refused
    // actor, and the custadmins' changes stayed in their own customers.
    app.with_conn(|c| {
        let log = ixp_portal::db::audit::page(c, None, None, None, 1000).unwrap();
        assert!(
            log.iter()
                .all(|e| e.actor != "ann" || e.action.starts_with("login.")),
            "custuser changed nothing (but signing in)"
        );
        let adam_changes: Vec<_> = log.iter().filter(|e| e.actor == "adam").collect();
        assert!(!adam_changes.is_empty());
        assert!(
            adam_changes
                .iter()
                .all(|e| !e.details.contains("bravo") && e.subject != "bea"),
            "adam never touched bravo: {adam_changes:?}"
        );
        let bob_changes: Vec<_> = log.iter().filter(|e| e.actor == "bob").collect();
        assert!(
            bob_changes
                .iter()
                .all(|e| !e.details.contains("alpha") && e.subject != "amy"),
            "bob never touched alpha: {bob_changes:?}"
        );
        let adam_link = ixp_portal::db::affiliations::find(c, w.adam, alpha)
            .unwrap()
            .unwrap();
        assert_eq!(adam_link.privilege, Privilege::CustAdmin, "own link kept");
        let bob_link = ixp_portal::db::affiliations::find(c, w.bob, bravo)
            .unwrap()
            .unwrap();
        assert_eq!(bob_link.privilege, Privilege::CustAdmin, "own link kept");
        assert!(
            ixp_portal::db::users::find(c, victim).unwrap().is_none(),
            "staff deleted the victim"
        );
        assert!(ixp_portal::db::users::find(c, w.staff).unwrap().is_some());
    });
}
