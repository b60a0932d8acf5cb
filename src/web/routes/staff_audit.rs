//! IXP staff: the audit log, newest first, filtered by action and subject.
use super::super::ctx::{Chrome, Ctx};
use super::super::error::AppError;
use super::auth::render;
use super::fields;
use crate::db::audit;
use crate::db::models::AuditEntry;
use crate::web::guard::Staff;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

pub const PAGE_SIZE: i64 = 50;

#[derive(serde::Deserialize)]
pub struct AuditQuery {
    action: Option<String>,
    subject: Option<String>,
    before: Option<String>,
    after: Option<String>,
    sort: Option<String>,
}

/// The count stops here ("10,000+ entries").
const COUNT_CAP: i64 = 10_000;

#[derive(Template)]
#[template(path = "staff/audit.html")]
pub struct AuditPage {
    pub chrome: Chrome,
    pub entries: Vec<AuditEntry>,
    pub actions: Vec<String>,
    pub action: String,
    pub subject: String,
    pub first: Option<String>,
    pub next: Option<String>,
    /// Oldest first (`?sort=oldest`) rather than newest first.
    pub oldest: bool,
    /// The same filters in the other order.
    pub toggle: String,
    pub count: String,
    pub filtered: bool,
}

pub async fn list(_: Staff, ctx: Ctx, q: web::Query<AuditQuery>) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let action = fields::non_empty(&q.action).unwrap_or_default();
    let subject = fields::non_empty(&q.subject).unwrap_or_default();
    let oldest = fields::non_empty(&q.sort).as_deref() == Some("oldest");
    let cursor_param = if oldest { &q.after } else { &q.before };
    let cursor: Option<i64> = fields::non_empty(cursor_param).and_then(|b| b.parse().ok());
    let (a, s) = (action.clone(), subject.clone());
    let (mut entries, actions, (total, capped)) = ctx
        .app
        .db
        .run(move |c| -> Result<_, AppError> {
            let entries = audit::page_in(c, Some(&a), Some(&s), cursor, oldest, PAGE_SIZE + 1)?;
            let total = audit::count_matching(c, Some(&a), Some(&s), COUNT_CAP)?;
            Ok((entries, audit::actions(c)?, total))
        })
        .await?;
    let more = entries.len() as i64 > PAGE_SIZE;
    entries.truncate(PAGE_SIZE as usize);
    // The order first in links: `?subject=` starts only the subject links.
    let order = if oldest { "oldest" } else { "" };
    let base = [
        ("sort", order),
        ("action", action.as_str()),
        ("subject", subject.as_str()),
    ];
    let next = match (more, entries.last()) {
        (true, Some(last)) => {
            let id = last.id.to_string();
            let mut pairs = base.to_vec();
            pairs.push((if oldest { "after" } else { "before" }, &id));
            Some(fields::link("/staff/audit", &pairs))
        }
        _ => None,
    };
    let page = AuditPage {
        chrome: ctx.chrome(),
        first: cursor.map(|_| fields::link("/staff/audit", &base)),
        next,
        toggle: fields::link(
            "/staff/audit",
            &[
                ("sort", if oldest { "" } else { "oldest" }),
                ("action", action.as_str()),
                ("subject", subject.as_str()),
            ],
        ),
        count: crate::web::sort::count(total, "entry", "entries", capped),
        filtered: !action.is_empty() || !subject.is_empty(),
        oldest,
        entries,
        actions,
        action,
        subject,
    };
    render(StatusCode::OK, &page)
}
