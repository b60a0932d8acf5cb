//! Issue 4: the staff pages (customers, users, audit log) and the member
//! admin's pages, over HTTP on both backends.
mod audit_log;
mod customers;
mod matrix;
mod member;
mod scale;
mod users;

use crate::common::{TestApp, csrf_of, location};
use ixp_portal::admin;
use ixp_portal::db::models::{Customer, CustomerFields};
use ixp_portal::db::{affiliations, audit, customers as db_customers, users as db_users};
use ixp_portal::domain::{Asn, CreatedBy, CustomerStatus, CustomerType, Privilege};
use reqwest::{Client, Response, StatusCode};

pub const PW: &str = "correct horse battery";

/// One signed-in (or anonymous) browser with its own cookies.
pub struct Browser {
    pub base: String,
    pub client: Client,
}

impl Browser {
    pub fn anonymous(app: &TestApp) -> Browser {
        Browser {
            base: app.base.clone(),
            client: crate::common::client(),
        }
    }

    pub async fn signed_in(app: &TestApp, username: &str) -> Browser {
        let b = Browser::anonymous(app);
        let r = b
            .post("/login", &[("username", username), ("password", PW)])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{username} signs in");
        assert_eq!(location(&r), "/", "{username} signs in");
        b
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self.client.get(self.url(path)).send().await.expect("GET");
        let s = r.status();
        (s, r.text().await.unwrap_or_default())
    }

    pub async fn get_resp(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn csrf(&self) -> String {
        let (_, body) = self.get("/password/forgot").await;
        csrf_of(&body)
    }

    /// POSTs a form with this session's CSRF token.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Response {
        let token = self.csrf().await;
        let mut fields = form.to_vec();
        fields.push(("csrf", &token));
        self.post_raw(path, &fields).await
    }

    /// POSTs a form as given (no token added).
    pub async fn post_raw(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("POST")
    }

    /// POSTs, expects a redirect, and returns the page it leads to.
    pub async fn post_follow(&self, path: &str, form: &[(&str, &str)]) -> String {
        let r = self.post(path, form).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "POST {path} redirects");
        let to = location(&r);
        let (s, body) = self.get(&to).await;
        assert_eq!(s, StatusCode::OK, "GET {to}");
        body
    }
}

pub fn fields(name: &str, shortname: &str, asn: i64) -> CustomerFields {
    CustomerFields {
        name: name.into(),
        shortname: shortname.into(),
        autsys: Asn::new(asn).expect("valid ASN"),
        cust_type: CustomerType::Full,
        status: CustomerStatus::Normal,
        date_joined: None,
        date_left: None,
        peeringdb_oauth: true,
    }
}

pub fn add_customer(app: &TestApp, name: &str, shortname: &str, asn: i64) -> Customer {
    app.with_conn(|c| {
        let id = admin::create_customer(c, "test", &fields(name, shortname, asn)).unwrap();
        db_customers::find(c, id).unwrap().unwrap()
    })
}

/// Links a user to a customer as staff would; returns the affiliation id.
pub fn link(app: &TestApp, user_id: i64, customer: &Customer, privilege: Privilege) -> i64 {
    app.with_conn(|c| {
        let user = db_users::find(c, user_id).unwrap().unwrap();
        admin::link(c, "test", &user, customer, privilege, CreatedBy::Admin).unwrap();
        affiliations::find(c, user_id, customer.id)
            .unwrap()
            .unwrap()
            .id
    })
}

/// Two customers and one user per role.
pub struct World {
    pub alpha: Customer,
    pub bravo: Customer,
    pub staff: i64,
    /// custuser of alpha.
    pub ann: i64,
    /// custadmin of alpha.
    pub adam: i64,
    /// custadmin of bravo.
    pub bob: i64,
    /// custuser of alpha: the target of changes.
    pub amy: i64,
    pub amy_link: i64,
    /// custuser of bravo.
    pub bea: i64,
    pub bea_link: i64,
    pub adam_link: i64,
}

pub fn world(app: &TestApp) -> World {
    let alpha = add_customer(app, "Alpha Networks", "alpha", 64500);
    let bravo = add_customer(app, "Bravo Transit", "bravo", 64501);
    let staff = app.create_user("staff", PW, true);
    let ann = app.create_user("ann", PW, false);
    let adam = app.create_user("adam", PW, false);
    let bob = app.create_user("bob", PW, false);
    let amy = app.create_user("amy", PW, false);
    let bea = app.create_user("bea", PW, false);
    link(app, ann, &alpha, Privilege::CustUser);
    let adam_link = link(app, adam, &alpha, Privilege::CustAdmin);
    link(app, bob, &bravo, Privilege::CustAdmin);
    let amy_link = link(app, amy, &alpha, Privilege::CustUser);
    let bea_link = link(app, bea, &bravo, Privilege::CustUser);
    World {
        alpha,
        bravo,
        staff,
        ann,
        adam,
        bob,
        amy,
        amy_link,
        bea,
        bea_link,
        adam_link,
    }
}

/// The table row (`<tr>…</tr>`) that contains `needle`.
pub fn row_of<'a>(html: &'a str, needle: &str) -> &'a str {
    let at = html
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} is on the page"));
    let start = html[..at].rfind("<tr").unwrap_or(0);
    let end = html[at..]
        .find("</tr>")
        .map(|e| at + e)
        .unwrap_or(html.len());
    &html[start..end]
}

/// The usernames listed in the users table, in order.
pub fn listed_users(html: &str) -> Vec<String> {
    html.split("<a href=\"/staff/users/")
        .skip(1)
        .filter_map(|s| {
            let (id, rest) = s.split_once("\">")?;
            if id.parse::<i64>().is_err() {
                return None;
            }
            rest.split_once("</a>").map(|(name, _)| name.to_string())
        })
        .collect()
}

/// The audit entries with this action, newest first.
pub fn audit_of(app: &TestApp, action: &str) -> Vec<ixp_portal::db::models::AuditEntry> {
    app.with_conn(|c| audit::page(c, Some(action), None, None, 1000).unwrap())
}

/// The outbox's messages, oldest first (the queue sent first).
pub fn outbox(app: &TestApp) -> Vec<String> {
    app.outbox()
}
