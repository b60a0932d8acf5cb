//! The page templates (askama, in `templates/`), one struct per page.
use super::ctx::Chrome;
use crate::db::models::{Affiliation, Customer, LoginRecord, User};
use askama::Template;
use askama_web::WebTemplate;

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub chrome: Chrome,
    pub status: u16,
    pub title: &'a str,
    pub message: &'a str,
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub chrome: Chrome,
    pub error: Option<String>,
    pub username: String,
    pub next: String,
    pub peeringdb: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "forgot.html")]
pub struct ForgotPage {
    pub chrome: Chrome,
}

#[derive(Template, WebTemplate)]
#[template(path = "reset.html")]
pub struct ResetPage {
    pub chrome: Chrome,
    pub token: String,
    pub error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    pub chrome: Chrome,
    pub name: String,
    pub customer: Option<Customer>,
    pub privilege: String,
    pub superuser: bool,
    /// Customers, users, users made by PeeringDB OAuth (staff only).
    pub stats: (i64, i64, i64),
    /// The current customer's connections on the peering LANs.
    pub connections: usize,
    /// The current customer's route-server sessions (not deleted).
    pub sessions: Vec<crate::db::peering_sessions::PeeringSession>,
    /// Sessions waiting for staff (staff only).
    pub pending_sessions: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "profile.html")]
pub struct ProfilePage {
    pub chrome: Chrome,
    pub user: User,
    pub links: Vec<(Affiliation, Customer)>,
    pub logins: Vec<LoginRecord>,
}
