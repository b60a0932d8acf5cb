//! IXP staff: the audit log, newest first, filtered by action and subject.
use super::super::ctx::{Chrome, Ctx};
use super::super::error::AppError;
use super::auth::render;
use super::fields;
use crate::db::audit;
use crate::db::models::AuditEntry;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

pub const PAGE_SIZE: i64 = 50;

#[derive(serde::Deserialize)]
pub struct AuditQuery {
    action: Option<String>,
    subject: Option<String>,
    before: Option<String>,
}

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
}

pub async fn list(ctx: Ctx, q: web::Query<AuditQuery>) -> Result<HttpResponse, AppError> {
    ctx.require_superuser()?;
    let q = q.into_inner();
    let action = fields::non_empty(&q.action).unwrap_or_default();
    let subject = fields::non_empty(&q.subject).unwrap_or_default();
    let before: Option<i64> = fields::non_empty(&q.before).and_then(|b| b.parse().ok());
    let (a, s) = (action.clone(), subject.clone());
    let (mut entries, actions) = ctx
        .app
        .db
        .run(move |c| -> Result<_, AppError> {
            let entries = audit::page(c, Some(&a), Some(&s), before, PAGE_SIZE + 1)?;
            Ok((entries, audit::actions(c)?))
        })
        .await?;
    let more = entries.len() as i64 > PAGE_SIZE;
    entries.truncate(PAGE_SIZE as usize);
    let base = [("action", action.as_str()), ("subject", subject.as_str())];
    let next = match (more, entries.last()) {
        (true, Some(last)) => {
            let id = last.id.to_string();
            let mut pairs = base.to_vec();
            pairs.push(("before", &id));
            Some(fields::link("/staff/audit", &pairs))
        }
        _ => None,
    };
    let page = AuditPage {
        chrome: ctx.chrome(),
        entries,
        actions,
        first: before.map(|_| fields::link("/staff/audit", &base)),
        next,
        action,
        subject,
    };
    render(StatusCode::OK, &page)
}
