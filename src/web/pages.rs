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
    pub pending_sessions: i64,
    /// The first-run checklist (staff, until every step is done).
    pub setup: Vec<Step>,
}

/// A step of the first-run checklist on the staff dashboard.
pub struct Step {
    pub title: &'static str,
    pub help: &'static str,
    /// Where to do it (none: a setting of the server).
    pub href: Option<&'static str>,
    pub done: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "profile.html")]
pub struct ProfilePage {
    pub chrome: Chrome,
    pub user: User,
    pub links: Vec<(Affiliation, Customer)>,
    pub logins: Vec<LoginRecord>,
    /// Live sessions, most recently used first.
    pub sessions: Vec<crate::db::sessions::SessionRow>,
    /// The id of the session showing the page.
    pub current_sid: String,
    pub has_totp: bool,
    /// The user has a password of their own (not PeeringDB's unknown one).
    pub has_password: bool,
    /// How the account was made, in words.
    pub created: String,
}

/// A `Chrome` with only the exchange's name and support email (from the
/// IXP record, remembered a few seconds); `Ctx::chrome` fills the rest.
pub fn branded(db: &crate::db::Db) -> Chrome {
    let (ixp_name, support_email) = match crate::db::lans::brand(db) {
        Some((name, email)) => (
            Some(name).filter(|n| !n.trim().is_empty()),
            Some(email).filter(|e| !e.trim().is_empty()),
        ),
        None => (None, None),
    };
    Chrome {
        ixp_name,
        support_email,
        ..Default::default()
    }
}

/// What the layout asks of the chrome: the exchange's name, the
/// navigation's state, the support address next to messages that send
/// people to support.
impl Chrome {
    /// The exchange's name, or a neutral one before the IXP record is set.
    pub fn brand(&self) -> &str {
        self.ixp_name.as_deref().unwrap_or("IXP portal")
    }

    /// The end of every page title: "Example IX member portal".
    pub fn site(&self) -> String {
        match &self.ixp_name {
            Some(n) => format!("{n} member portal"),
            None => "IXP member portal".into(),
        }
    }

    /// Is the page under this path (for `aria-current` in the navigation)?
    pub fn at(&self, prefix: &str) -> bool {
        if prefix == "/" {
            self.path == "/"
        } else {
            self.path == prefix
                || self
                    .path
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('/'))
        }
    }

    /// The staff section the page belongs to, for the menu's summary.
    pub fn section(&self) -> &'static str {
        let p = self.path.as_str();
        if p.starts_with("/staff/customers") {
            "Members"
        } else if p.starts_with("/staff/users") {
            "Users"
        } else if p.starts_with("/staff/peering") {
            "Peering"
        } else if p.starts_with("/staff/api-keys") || p.starts_with("/member/api-keys") {
            "API keys"
        } else if p.starts_with("/staff/audit") {
            "Audit"
        } else if p.starts_with("/member/peering") {
            "Peering"
        } else if p.starts_with("/member/users") {
            "Our users"
        } else if p.starts_with("/profile") {
            "Profile"
        } else {
            "Dashboard"
        }
    }

    /// The support address to show after a message that sends people to
    /// support, when the IXP record has one and the message lacks it.
    pub fn support_for(&self, message: &str) -> Option<&str> {
        let email = self.support_email.as_deref()?;
        let lower = message.to_lowercase();
        (lower.contains("support") && !message.contains(email)).then_some(email)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "logout.html")]
pub struct LogoutPage {
    pub chrome: Chrome,
}

/// Where a confirmation page links: a record in the way, or a place to
/// see more.
pub struct Blocker {
    pub text: String,
    pub href: Option<String>,
}

/// SPEC §3: a destructive action's confirmation page. It names what will
/// be lost; when other records still need the target, it says what is in
/// the way instead and offers no button.
#[derive(Template)]
#[template(path = "confirm.html")]
pub struct ConfirmPage {
    pub chrome: Chrome,
    /// "Delete peering LAN Main?"
    pub title: String,
    /// One sentence: what the action does.
    pub intro: String,
    /// What will be lost, one item a line.
    pub losses: Vec<String>,
    /// What is in the way (refusal); empty when the action may go ahead.
    pub blockers: Vec<Blocker>,
    /// What to do about the blockers.
    pub remedy: String,
    /// Where the form posts, with these hidden fields besides the token.
    pub action: String,
    pub hidden: Vec<(String, String)>,
    /// The button: "Delete peering LAN".
    pub button: String,
    pub cancel: String,
}

impl ConfirmPage {
    pub fn new(chrome: Chrome, title: impl Into<String>, cancel: impl Into<String>) -> Self {
        ConfirmPage {
            chrome,
            title: title.into(),
            intro: String::new(),
            losses: Vec::new(),
            blockers: Vec::new(),
            remedy: String::new(),
            action: String::new(),
            hidden: Vec::new(),
            button: String::new(),
            cancel: cancel.into(),
        }
    }
}

impl DashboardPage {
    /// How many steps of the first-run checklist are done.
    pub fn steps_done(&self) -> usize {
        self.setup.iter().filter(|s| s.done).count()
    }
}

impl ConfirmPage {
    /// The page for an `Impact`: its losses, or its blockers (each a link
    /// to the record in the way) and what to do about them.
    pub fn impact(mut self, impact: &crate::admin::peering::Impact, remedy: &str) -> Self {
        use crate::admin::peering::Dependent;
        self.losses = impact.losses.clone();
        self.blockers = impact
            .blockers
            .iter()
            .map(|d| Blocker {
                text: d.describe(),
                href: Some(match d {
                    Dependent::RouteServer { id, .. } => {
                        format!("/staff/peering/routeservers/{id}")
                    }
                    Dependent::Connection { id, .. } => format!("/staff/peering/connections/{id}"),
                    Dependent::Session { session, .. } => crate::web::sort::link(
                        "/staff/peering/sessions",
                        &[("q", &session.session_id)],
                    ),
                    Dependent::User { id, .. } => format!("/staff/users/{id}"),
                }),
            })
            .collect();
        if !self.blockers.is_empty() {
            self.remedy = remedy.to_string();
        }
        self
    }
}
