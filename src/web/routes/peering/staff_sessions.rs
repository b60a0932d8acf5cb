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
use crate::db::peering_sessions::{self, PeeringSession, SessionFilter, SessionSort};
use crate::domain::SessionStatus;
use crate::web::guard::Staff;
use crate::web::pages::ConfirmPage;
use crate::web::sort::{Head, Sort, Spec};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use std::collections::HashMap;

pub const PAGE_SIZE: i64 = 100;
/// The count stops here ("10,000+ sessions").
const COUNT_CAP: i64 = 10_000;

/// A move a session may make now: its button and the status it sends.
pub struct Move {
    pub to: SessionStatus,
    pub label: &'static str,
    /// Deleting goes through a confirmation page (SPEC §3).
    pub confirm: bool,
}

pub struct SessionRow {
    pub session: PeeringSession,
    pub customer: String,
    pub route_server: String,
    pub moves: Vec<Move>,
}

#[derive(askama::Template)]
#[template(path = "staff/peering_sessions.html")]
pub struct SessionsPage {
    pub chrome: Chrome,
    /// This page's address, to come back to after a move.
    pub here: String,
    pub rows: Vec<SessionRow>,
    pub status: String,
    pub q: String,
    pub sort: String,
    pub statuses: &'static [SessionStatus],
    pub heads: Vec<Head>,
    pub count: String,
    pub filtered: bool,
    pub first: Option<String>,
    pub next: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    after: Option<String>,
}

pub const SORT: Spec = Spec {
    keys: &[
        ("requested", true),
        ("customer", false),
        ("asn", false),
        ("status", false),
    ],
    default: Sort {
        key: "requested",
        desc: true,
    },
};

fn db_sort(s: Sort) -> SessionSort {
    match s.key {
        "customer" => SessionSort::Customer,
        "asn" => SessionSort::Asn,
        "status" => SessionSort::Status,
        _ => SessionSort::Requested,
    }
}

pub async fn list(_: Staff, ctx: Ctx, q: web::Query<ListQuery>) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let status = fields::non_empty(&q.status).and_then(|s| s.parse::<SessionStatus>().ok());
    let search = fields::non_empty(&q.q).unwrap_or_default();
    let sort = SORT.parse(q.sort.as_deref());
    let after = fields::non_empty(&q.after).and_then(|a| a.parse::<i64>().ok());
    let filter = SessionFilter {
        status,
        search: (!search.is_empty()).then(|| search.clone()),
    };
    let (rows, more, (total, capped)) = ctx
        .app
        .db
        .run(move |c| -> Result<_, AppError> {
            let mut list = peering_sessions::search(
                c,
                &filter,
                db_sort(sort),
                sort.desc,
                after,
                PAGE_SIZE + 1,
            )?;
            let more = list.len() as i64 > PAGE_SIZE;
            list.truncate(PAGE_SIZE as usize);
            let total = peering_sessions::count_matching(c, &filter, COUNT_CAP)?;
            let names: HashMap<i64, String> = customers::all(c)?
                .into_iter()
                .map(|cu| (cu.id, cu.name))
                .collect();
            let rs: HashMap<i64, String> = lans::route_servers(c)?
                .into_iter()
                .map(|r| (r.id, r.name))
                .collect();
            let rows = list
                .into_iter()
                .map(|s| SessionRow {
                    customer: names.get(&s.customer_id).cloned().unwrap_or_default(),
                    route_server: rs.get(&s.route_server_id).cloned().unwrap_or_default(),
                    moves: s
                        .status()
                        .next()
                        .iter()
                        .map(|to| Move {
                            to: *to,
                            label: crate::web::words::session_action(*to),
                            confirm: *to == SessionStatus::Deleted,
                        })
                        .collect(),
                    session: s,
                })
                .collect::<Vec<_>>();
            Ok((rows, more, total))
        })
        .await?;
    let status_word = status.map(|s| s.as_str().to_string()).unwrap_or_default();
    let sort_param = SORT.param(sort);
    let filters = [("q", search.as_str()), ("status", status_word.as_str())];
    let next = match (more, rows.last()) {
        (true, Some(last)) => {
            let id = last.session.id.to_string();
            let mut pairs = filters.to_vec();
            pairs.push(("sort", &sort_param));
            pairs.push(("after", &id));
            Some(fields::link("/staff/peering/sessions", &pairs))
        }
        _ => None,
    };
    let mut first_pairs = filters.to_vec();
    first_pairs.push(("sort", &sort_param));
    let page = SessionsPage {
        here: ctx.here.clone(),
        chrome: ctx.chrome(),
        heads: SORT.heads(
            "/staff/peering/sessions",
            &filters,
            sort,
            &[
                ("Customer", Some("customer")),
                ("Member", Some("asn")),
                ("Route server", None),
                ("Status", Some("status")),
                ("Requested", Some("requested")),
                ("By", None),
                ("Actions", None),
            ],
        ),
        count: crate::web::sort::count(total, "session", "sessions", capped),
        filtered: !search.is_empty() || status.is_some(),
        first: after.map(|_| fields::link("/staff/peering/sessions", &first_pairs)),
        next,
        rows,
        status: status_word.clone(),
        q: search.clone(),
        sort: sort_param.clone(),
        statuses: SessionStatus::ALL,
    };
    render(StatusCode::OK, &page)
}

/// `GET /staff/peering/sessions/{id}/delete`: what deleting the session
/// means (it stays as history), with the button that sends `deleted`.
pub async fn delete_form(
    _: Staff,
    ctx: Ctx,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let (s, customer) = ctx
        .app
        .db
        .run(move |c| -> Result<_, AppError> {
            let s = peering_sessions::find(c, id)?.ok_or(AppError::NotFound)?;
            let customer = customers::find(c, s.customer_id)?
                .map(|cu| cu.name)
                .unwrap_or_default();
            Ok((s, customer))
        })
        .await?;
    let mut page = ConfirmPage::new(
        ctx.chrome(),
        format!("Delete the session of {customer}?"),
        "/staff/peering/sessions",
    );
    page.intro = format!(
        "AS{} {} with route server AS{} {} ({}, requested by {}).",
        s.member_asn, s.member_ip, s.rs_asn, s.rs_ip, s.status, s.requested_by
    );
    if s.status() == SessionStatus::Deleted || !s.status().can_become(SessionStatus::Deleted) {
        page.blockers.push(crate::web::pages::Blocker {
            text: format!("This session is {} already.", s.status),
            href: None,
        });
    } else {
        page.losses = vec![
            "the session in the route-server configuration (the feed leaves it out from now on)".into(),
            "the member's live session: the Peering API shows it as deleted; a new one has to be requested".into(),
            "nothing of its history: it stays in this list with the status deleted, and the audit log records who deleted it".into(),
        ];
        page.action = format!("/staff/peering/sessions/{id}/status");
        page.hidden = vec![("status".into(), SessionStatus::Deleted.as_str().into())];
        page.button = "Delete session".into();
    }
    render(StatusCode::OK, &page)
}

#[derive(serde::Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
    /// The list (with its filters) to come back to.
    back: Option<String>,
}

pub async fn set_status(
    _: Staff,
    ctx: Ctx,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> Result<HttpResponse, AppError> {
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
            match to {
                SessionStatus::Deleted => format!(
                    "Session {} of AS{} is deleted; it stays in this list as history.",
                    s.member_ip, s.member_asn
                ),
                _ => format!("Session {} of AS{} is now {to}.", s.member_ip, s.member_asn),
            },
        ),
        Err(AdminError::Invalid(m)) => ctx.flash("error", fields::sentence(&m)),
        Err(e) => return Err(fields::admin_error(e)),
    }
    let back = super::super::safe_next(form.back.as_deref());
    Ok(redirect(if back.starts_with("/staff/peering/sessions") {
        &back
    } else {
        "/staff/peering/sessions"
    }))
}
