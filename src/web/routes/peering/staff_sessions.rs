//! IXP staff: the Peering API sessions, and moving them along their life
//! (approve, reject, provisioned, established, down, delete).
use super::super::super::ctx::{Chrome, Ctx};
use super::super::super::error::AppError;
use super::super::super::form::CsrfForm;
use super::super::auth::render;
use super::super::fields;
use super::super::{parse_id, redirect};
use crate::admin::{AdminError, sessions};
use crate::db::customers;
use crate::db::lans;
use crate::db::peering_sessions::{self, PeeringSession};
use crate::domain::SessionStatus;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use std::collections::HashMap;

pub struct SessionRow {
    pub session: PeeringSession,
    pub customer: String,
    pub route_server: String,
    pub next: &'static [SessionStatus],
}

#[derive(askama::Template)]
#[template(path = "staff/peering_sessions.html")]
pub struct SessionsPage {
    pub chrome: Chrome,
    pub rows: Vec<SessionRow>,
    pub status: String,
    pub statuses: &'static [SessionStatus],
}

#[derive(serde::Deserialize)]
pub struct ListQuery {
    status: Option<String>,
}

pub async fn list(ctx: Ctx, q: web::Query<ListQuery>) -> Result<HttpResponse, AppError> {
    ctx.require_superuser()?;
    let status = fields::non_empty(&q.status).and_then(|s| s.parse::<SessionStatus>().ok());
    let rows = ctx
        .app
        .db
        .run(move |c| -> Result<_, AppError> {
            let list = peering_sessions::recent(c, status, 500)?;
            let names: HashMap<i64, String> = customers::all(c)?
                .into_iter()
                .map(|cu| (cu.id, cu.name))
                .collect();
            let rs: HashMap<i64, String> = lans::route_servers(c)?
                .into_iter()
                .map(|r| (r.id, r.name))
                .collect();
            Ok(list
                .into_iter()
                .map(|s| SessionRow {
                    customer: names.get(&s.customer_id).cloned().unwrap_or_default(),
                    route_server: rs.get(&s.route_server_id).cloned().unwrap_or_default(),
                    next: s.status().next(),
                    session: s,
                })
                .collect::<Vec<_>>())
        })
        .await?;
    let page = SessionsPage {
        chrome: ctx.chrome(),
        rows,
        status: status.map(|s| s.as_str().to_string()).unwrap_or_default(),
        statuses: SessionStatus::ALL,
    };
    render(StatusCode::OK, &page)
}

#[derive(serde::Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
}

pub async fn set_status(
    ctx: Ctx,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> Result<HttpResponse, AppError> {
    ctx.require_superuser()?;
    let id = parse_id(&path)?;
    let to = form
        .status
        .parse::<SessionStatus>()
        .map_err(|e| AppError::BadRequest(fields::sentence(&e)))?;
    let actor = ctx.actor();
    let result = ctx
        .app
        .db
        .run(move |c| Ok::<_, AppError>(sessions::set_status(c, &actor, id, to)))
        .await?;
    match result {
        Ok(s) => ctx.flash(
            "success",
            format!("Session {} of AS{} is now {to}.", s.member_ip, s.member_asn),
        ),
        Err(AdminError::Invalid(m)) => ctx.flash("error", fields::sentence(&m)),
        Err(e) => return Err(fields::admin_error(e)),
    }
    Ok(redirect("/staff/peering/sessions"))
}
