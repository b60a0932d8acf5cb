//! IXP staff: the IXP record, peering LANs, route servers and connections.
use super::super::super::ctx::{Chrome, Ctx};
use super::super::super::error::AppError;
use super::super::super::form::CsrfForm;
use super::super::super::pages::ConfirmPage;
use super::super::auth::render;
use super::super::fields::{self, FieldErrors};
use super::super::table::{RouteDef, get, post};
use super::super::{parse_id, redirect};
use crate::admin::AdminError;
use crate::admin::peering::{self, ConnectionInput, IxpInput, LanInput, RouteServerInput};
use crate::db::connections::{self, Connection};
use crate::db::customers;
use crate::db::lans::{self, Ixp, Lan, RouteServer};
use crate::db::models::Customer;
use crate::web::guard::Scope;
use crate::web::guard::Staff;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use std::collections::HashMap;

/// The staff's peering pages, for `routes::table`.
pub fn routes(t: &mut Vec<RouteDef>) {
    t.extend([
        get("/staff/peering", Scope::Staff, overview),
        post("/staff/peering/ixp", Scope::Staff, save_ixp),
        get("/staff/peering/lans/new", Scope::Staff, lan_new),
        post("/staff/peering/lans/new", Scope::Staff, lan_create),
        get("/staff/peering/lans/{id}", Scope::Staff, lan_edit),
        post("/staff/peering/lans/{id}", Scope::Staff, lan_update),
        get(
            "/staff/peering/lans/{id}/delete",
            Scope::Staff,
            lan_delete_form,
        ),
        post("/staff/peering/lans/{id}/delete", Scope::Staff, lan_delete),
        get("/staff/peering/routeservers/new", Scope::Staff, rs_new),
        post("/staff/peering/routeservers/new", Scope::Staff, rs_create),
        get("/staff/peering/routeservers/{id}", Scope::Staff, rs_edit),
        post("/staff/peering/routeservers/{id}", Scope::Staff, rs_update),
        get(
            "/staff/peering/routeservers/{id}/delete",
            Scope::Staff,
            rs_delete_form,
        ),
        post(
            "/staff/peering/routeservers/{id}/delete",
            Scope::Staff,
            rs_delete,
        ),
        get("/staff/peering/connections/new", Scope::Staff, conn_new),
        post("/staff/peering/connections/new", Scope::Staff, conn_create),
        get("/staff/peering/connections/{id}", Scope::Staff, conn_edit),
        post("/staff/peering/connections/{id}", Scope::Staff, conn_update),
        get(
            "/staff/peering/connections/{id}/delete",
            Scope::Staff,
            conn_delete_form,
        ),
        post(
            "/staff/peering/connections/{id}/delete",
            Scope::Staff,
            conn_delete,
        ),
    ]);
}

/// An admin error as form errors, or a refusal shown as a notice.
fn form_errors(ctx: &Ctx, e: AdminError) -> Result<Option<FieldErrors>, AppError> {
    match e {
        AdminError::Invalid(m) => {
            ctx.flash("error", fields::sentence(&m));
            Ok(None)
        }
        other => fields::from_admin(other).map(Some),
    }
}

pub struct ConnectionRow {
    pub connection: Connection,
    pub customer: String,
    pub customer_id: i64,
    pub lan: String,
}

#[derive(askama::Template)]
#[template(path = "staff/peering.html")]
pub struct Overview {
    pub chrome: Chrome,
    pub ixp: IxpInput,
    pub ixp_set: bool,
    pub errors: FieldErrors,
    pub lans: Vec<Lan>,
    pub route_servers: Vec<(RouteServer, String)>,
    pub connections: Vec<ConnectionRow>,
}

struct Data {
    ixp: Option<Ixp>,
    lans: Vec<Lan>,
    route_servers: Vec<RouteServer>,
    connections: Vec<Connection>,
    customers: Vec<Customer>,
}

async fn load_all(ctx: &Ctx) -> Result<Data, AppError> {
    ctx.app
        .db
        .run(|c| -> Result<_, AppError> {
            Ok(Data {
                ixp: lans::ixp(c)?,
                lans: lans::lans(c)?,
                route_servers: lans::route_servers(c)?,
                connections: connections::all(c)?,
                customers: customers::all(c)?,
            })
        })
        .await
}

fn overview_page(ctx: &Ctx, d: Data, form: Option<IxpInput>, errors: FieldErrors) -> Overview {
    let lan_names: HashMap<i64, String> = d.lans.iter().map(|l| (l.id, l.name.clone())).collect();
    let cust: HashMap<i64, String> = d.customers.iter().map(|c| (c.id, c.name.clone())).collect();
    let ixp = form.unwrap_or_else(|| match &d.ixp {
        Some(i) => IxpInput {
            name: i.name.clone(),
            shortname: i.shortname.clone(),
            ixf_id: i.ixf_id.map(|v| v.to_string()).unwrap_or_default(),
            peeringdb_ix_id: i.peeringdb_ix_id.map(|v| v.to_string()).unwrap_or_default(),
            country: i.country.clone(),
            support_email: i.support_email.clone(),
        },
        None => IxpInput::default(),
    });
    Overview {
        chrome: ctx.chrome(),
        ixp,
        ixp_set: d.ixp.is_some(),
        errors,
        route_servers: d
            .route_servers
            .into_iter()
            .map(|r| {
                let l = lan_names.get(&r.lan_id).cloned().unwrap_or_default();
                (r, l)
            })
            .collect(),
        connections: d
            .connections
            .into_iter()
            .map(|c| ConnectionRow {
                customer: cust.get(&c.customer_id).cloned().unwrap_or_default(),
                customer_id: c.customer_id,
                lan: lan_names.get(&c.lan_id).cloned().unwrap_or_default(),
                connection: c,
            })
            .collect(),
        lans: d.lans,
    }
}

pub async fn overview(_: Staff, ctx: Ctx) -> Result<HttpResponse, AppError> {
    let d = load_all(&ctx).await?;
    render(
        StatusCode::OK,
        &overview_page(&ctx, d, None, FieldErrors::default()),
    )
}

pub async fn save_ixp(
    _: Staff,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<IxpInput>,
) -> Result<HttpResponse, AppError> {
    let (actor, input) = (ctx.actor(), form.clone());
    let result = ctx
        .app
        .db
        .run(move |c| Ok::<_, AppError>(peering::set_ixp(c, &actor, &input)))
        .await?;
    match result {
        Ok(()) => {
            ctx.flash("success", "The IXP record is saved.");
            Ok(redirect("/staff/peering"))
        }
        Err(e) => {
            let errors = fields::from_admin(e)?;
            let d = load_all(&ctx).await?;
            render(
                StatusCode::BAD_REQUEST,
                &overview_page(&ctx, d, Some(form), errors),
            )
        }
    }
}

// --- peering LANs ---

#[derive(askama::Template)]
#[template(path = "staff/peering_lan.html")]
pub struct LanPage {
    pub chrome: Chrome,
    pub id: Option<i64>,
    pub form: LanInput,
    pub errors: FieldErrors,
}

fn lan_page(ctx: &Ctx, id: Option<i64>, form: LanInput, errors: FieldErrors) -> LanPage {
    LanPage {
        chrome: ctx.chrome(),
        id,
        form,
        errors,
    }
}

pub async fn lan_new(_: Staff, ctx: Ctx) -> Result<HttpResponse, AppError> {
    render(
        StatusCode::OK,
        &lan_page(&ctx, None, LanInput::default(), FieldErrors::default()),
    )
}

pub async fn lan_edit(
    _: Staff,
    ctx: Ctx,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let lan = ctx
        .app
        .db
        .run(move |c| lans::lan(c, id).map_err(AppError::from))
        .await?
        .ok_or(AppError::NotFound)?;
    render(
        StatusCode::OK,
        &lan_page(
            &ctx,
            Some(id),
            LanInput::from_lan(&lan),
            FieldErrors::default(),
        ),
    )
}

async fn lan_save(ctx: Ctx, id: Option<i64>, form: LanInput) -> Result<HttpResponse, AppError> {
    let (actor, input) = (ctx.actor(), form.clone());
    let result = ctx
        .app
        .db
        .run(move |c| Ok::<_, AppError>(peering::save_lan(c, &actor, id, &input)))
        .await?;
    match result {
        Ok(_) => {
            ctx.flash(
                "success",
                format!("Peering LAN {} saved.", form.name.trim()),
            );
            Ok(redirect("/staff/peering"))
        }
        Err(e) => match form_errors(&ctx, e)? {
            Some(errors) => render(StatusCode::BAD_REQUEST, &lan_page(&ctx, id, form, errors)),
            None => Ok(redirect("/staff/peering")),
        },
    }
}

pub async fn lan_create(
    ctx: Ctx,
    CsrfForm(form): CsrfForm<LanInput>,
) -> Result<HttpResponse, AppError> {
    lan_save(ctx, None, form).await
}

pub async fn lan_update(
    ctx: Ctx,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<LanInput>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    lan_save(ctx, Some(id), form).await
}

#[derive(serde::Deserialize)]
pub struct Empty {}

/// A delete: done (back to the overview), or refused with the reason on
/// its confirmation page (`back`), which names what is in the way.
async fn delete_with(
    ctx: Ctx,
    what: &'static str,
    f: fn(&mut crate::db::DbConnection, &str, i64) -> Result<(), AdminError>,
    id: i64,
    back: String,
) -> Result<HttpResponse, AppError> {
    let actor = ctx.actor();
    let result = ctx
        .app
        .db
        .run(move |c| Ok::<_, AppError>(f(c, &actor, id)))
        .await?;
    match result {
        Ok(()) => ctx.flash("success", format!("The {what} is deleted.")),
        Err(AdminError::NotFound(_)) => return Err(AppError::NotFound),
        Err(AdminError::Invalid(m)) => {
            ctx.flash("error", fields::sentence(&m));
            return Ok(redirect(&back));
        }
        Err(e) => return Err(fields::admin_error(e)),
    }
    Ok(redirect("/staff/peering"))
}

/// Loads a record and what deleting it means (`admin::peering::impact`).
type ImpactOf<T> =
    fn(&mut crate::db::DbConnection, i64) -> Result<Option<(T, peering::Impact)>, AdminError>;

/// The confirmation page of a delete (SPEC §3).
async fn delete_form<T: Send + 'static>(
    ctx: Ctx,
    id: i64,
    load: ImpactOf<T>,
    page: fn(&T) -> (String, String, String),
    remedy: &'static str,
    action: String,
) -> Result<HttpResponse, AppError> {
    let (record, impact) = ctx
        .app
        .db
        .run(move |c| load(c, id).map_err(fields::admin_error))
        .await?
        .ok_or(AppError::NotFound)?;
    let (title, intro, button) = page(&record);
    let mut confirm =
        ConfirmPage::new(ctx.chrome(), title, "/staff/peering").impact(&impact, remedy);
    confirm.intro = intro;
    confirm.button = button;
    confirm.action = action;
    render(StatusCode::OK, &confirm)
}

pub async fn lan_delete_form(ctx: Ctx, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    delete_form(
        ctx,
        id,
        peering::impact::lan_impact,
        |l: &Lan| {
            (
                format!("Delete peering LAN {}?", l.name),
                "The LAN goes from the portal, the IX-F export and the Peering API's locations. This cannot be undone.".into(),
                "Delete peering LAN".into(),
            )
        },
        "Delete or edit the route servers and connections listed (or move them to another LAN), then come back.",
        format!("/staff/peering/lans/{id}/delete"),
    )
    .await
}

pub async fn lan_delete(
    ctx: Ctx,
    path: web::Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let back = format!("/staff/peering/lans/{id}/delete");
    delete_with(ctx, "peering LAN", peering::delete_lan, id, back).await
}

// --- route servers ---

#[derive(askama::Template)]
#[template(path = "staff/peering_rs.html")]
pub struct RsPage {
    pub chrome: Chrome,
    pub id: Option<i64>,
    pub form: RouteServerInput,
    pub errors: FieldErrors,
    pub lans: Vec<Lan>,
}

async fn rs_page(
    ctx: &Ctx,
    id: Option<i64>,
    form: RouteServerInput,
    errors: FieldErrors,
) -> Result<RsPage, AppError> {
    let lans = ctx
        .app
        .db
        .run(|c| lans::lans(c).map_err(AppError::from))
        .await?;
    Ok(RsPage {
        chrome: ctx.chrome(),
        id,
        form,
        errors,
        lans,
    })
}

pub async fn rs_new(_: Staff, ctx: Ctx) -> Result<HttpResponse, AppError> {
    let page = rs_page(
        &ctx,
        None,
        RouteServerInput::default(),
        FieldErrors::default(),
    )
    .await?;
    render(StatusCode::OK, &page)
}

pub async fn rs_edit(
    _: Staff,
    ctx: Ctx,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let rs = ctx
        .app
        .db
        .run(move |c| lans::route_server(c, id).map_err(AppError::from))
        .await?
        .ok_or(AppError::NotFound)?;
    let form = RouteServerInput {
        lan_id: rs.lan_id.to_string(),
        name: rs.name,
        asn: rs.asn.to_string(),
        ipv4_address: rs.ipv4_address.unwrap_or_default(),
        ipv6_address: rs.ipv6_address.unwrap_or_default(),
    };
    let page = rs_page(&ctx, Some(id), form, FieldErrors::default()).await?;
    render(StatusCode::OK, &page)
}

async fn rs_save(
    ctx: Ctx,
    id: Option<i64>,
    form: RouteServerInput,
) -> Result<HttpResponse, AppError> {
    let (actor, input) = (ctx.actor(), form.clone());
    let result = ctx
        .app
        .db
        .run(move |c| Ok::<_, AppError>(peering::save_route_server(c, &actor, id, &input)))
        .await?;
    match result {
        Ok(_) => {
            ctx.flash(
                "success",
                format!("Route server {} saved.", form.name.trim()),
            );
            Ok(redirect("/staff/peering"))
        }
        Err(e) => match form_errors(&ctx, e)? {
            Some(errors) => {
                let page = rs_page(&ctx, id, form, errors).await?;
                render(StatusCode::BAD_REQUEST, &page)
            }
            None => Ok(redirect("/staff/peering")),
        },
    }
}

pub async fn rs_create(
    ctx: Ctx,
    CsrfForm(form): CsrfForm<RouteServerInput>,
) -> Result<HttpResponse, AppError> {
    rs_save(ctx, None, form).await
}

pub async fn rs_update(
    ctx: Ctx,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<RouteServerInput>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    rs_save(ctx, Some(id), form).await
}

pub async fn rs_delete(
    ctx: Ctx,
    path: web::Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let back = format!("/staff/peering/routeservers/{id}/delete");
    delete_with(ctx, "route server", peering::delete_route_server, id, back).await
}

pub async fn rs_delete_form(ctx: Ctx, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    delete_form(
        ctx,
        id,
        peering::impact::route_server_impact,
        |r: &RouteServer| {
            (
                format!("Delete route server {}?", r.name),
                "The route server goes from the portal, the Peering API and the route-server configuration feed. This cannot be undone.".into(),
                "Delete route server".into(),
            )
        },
        "Its live sessions are still configured or waiting for approval. Delete each on the sessions page (a deleted session stays as history and leaves the configuration), then come back.",
        format!("/staff/peering/routeservers/{id}/delete"),
    )
    .await
}

// --- connections ---

#[derive(askama::Template)]
#[template(path = "staff/peering_connection.html")]
pub struct ConnPage {
    pub chrome: Chrome,
    pub id: Option<i64>,
    pub form: ConnectionInput,
    pub errors: FieldErrors,
    pub lans: Vec<Lan>,
    pub customers: Vec<Customer>,
}

impl ConnPage {
    pub fn rs_checked(&self) -> bool {
        self.form.rs_client()
    }
}

async fn conn_page(
    ctx: &Ctx,
    id: Option<i64>,
    form: ConnectionInput,
    errors: FieldErrors,
) -> Result<ConnPage, AppError> {
    let (lans, customers) = ctx
        .app
        .db
        .run(|c| -> Result<_, AppError> { Ok((lans::lans(c)?, customers::all(c)?)) })
        .await?;
    Ok(ConnPage {
        chrome: ctx.chrome(),
        id,
        form,
        errors,
        lans,
        customers,
    })
}

#[derive(serde::Deserialize)]
pub struct NewConnQuery {
    customer: Option<String>,
}

pub async fn conn_new(
    _: Staff,
    ctx: Ctx,
    q: web::Query<NewConnQuery>,
) -> Result<HttpResponse, AppError> {
    let form = ConnectionInput {
        customer_id: fields::non_empty(&q.customer).unwrap_or_default(),
        rs_client: Some("on".into()),
        ..Default::default()
    };
    let page = conn_page(&ctx, None, form, FieldErrors::default()).await?;
    render(StatusCode::OK, &page)
}

pub async fn conn_edit(
    _: Staff,
    ctx: Ctx,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let cn = ctx
        .app
        .db
        .run(move |c| connections::find(c, id).map_err(AppError::from))
        .await?
        .ok_or(AppError::NotFound)?;
    let page = conn_page(
        &ctx,
        Some(id),
        ConnectionInput::from_connection(&cn),
        FieldErrors::default(),
    )
    .await?;
    render(StatusCode::OK, &page)
}

async fn conn_save(
    ctx: Ctx,
    id: Option<i64>,
    form: ConnectionInput,
) -> Result<HttpResponse, AppError> {
    let (actor, input) = (ctx.actor(), form.clone());
    let result = ctx
        .app
        .db
        .run(move |c| Ok::<_, AppError>(peering::save_connection(c, &actor, id, &input)))
        .await?;
    match result {
        Ok(_) => {
            ctx.flash("success", "The connection is saved.");
            Ok(redirect("/staff/peering"))
        }
        Err(e) => match form_errors(&ctx, e)? {
            Some(errors) => {
                let page = conn_page(&ctx, id, form, errors).await?;
                render(StatusCode::BAD_REQUEST, &page)
            }
            None => Ok(redirect("/staff/peering")),
        },
    }
}

pub async fn conn_create(
    ctx: Ctx,
    CsrfForm(form): CsrfForm<ConnectionInput>,
) -> Result<HttpResponse, AppError> {
    conn_save(ctx, None, form).await
}

pub async fn conn_update(
    ctx: Ctx,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<ConnectionInput>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    conn_save(ctx, Some(id), form).await
}

pub async fn conn_delete(
    ctx: Ctx,
    path: web::Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let back = format!("/staff/peering/connections/{id}/delete");
    delete_with(ctx, "connection", peering::delete_connection, id, back).await
}

pub async fn conn_delete_form(ctx: Ctx, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    delete_form(
        ctx,
        id,
        peering::impact::connection_impact,
        |_: &Connection| {
            (
                "Delete this connection?".into(),
                "The member's addresses on this LAN become free, and the route servers stop expecting them. This cannot be undone.".into(),
                "Delete connection".into(),
            )
        },
        "Its live sessions are still configured or waiting for approval. Delete each on the sessions page (a deleted session stays as history), then come back.",
        format!("/staff/peering/connections/{id}/delete"),
    )
    .await
}
