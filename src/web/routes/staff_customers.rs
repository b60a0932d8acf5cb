//! IXP staff: the customer list, the add and edit forms, the customer view.
use super::super::ctx::{Chrome, Ctx};
use super::super::error::AppError;
use super::super::form::CsrfForm;
use super::auth::render;
use super::fields::{self, FieldErrors};
use super::{parse_id, redirect};
use crate::admin;
use crate::db::customers::{self, CustomerFilter};
use crate::db::models::{Affiliation, Customer, CustomerFields, LoginRecord, User, today};
use crate::db::{affiliations, logins, users};
use crate::domain::{Asn, CustomerStatus, CustomerType};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use std::collections::HashMap;

pub const PAGE_SIZE: i64 = 50;

#[derive(serde::Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    status: Option<String>,
    cancelled: Option<String>,
    page: Option<String>,
}

pub struct CustomerRow {
    pub customer: Customer,
    pub users: i64,
    pub cancelled: bool,
}

#[derive(Template)]
#[template(path = "staff/customers.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub rows: Vec<CustomerRow>,
    pub q: String,
    pub kind: String,
    pub status: String,
    pub cancelled: String,
    pub types: &'static [CustomerType],
    pub statuses: &'static [CustomerStatus],
    pub prev: Option<String>,
    pub next: Option<String>,
}

pub async fn list(ctx: Ctx, q: web::Query<ListQuery>) -> Result<HttpResponse, AppError> {
    ctx.require_superuser()?;
    let q = q.into_inner();
    let search = fields::non_empty(&q.q).unwrap_or_default();
    let kind = fields::non_empty(&q.kind).and_then(|k| k.parse::<CustomerType>().ok());
    let status = fields::non_empty(&q.status).and_then(|s| s.parse::<CustomerStatus>().ok());
    let cancelled = match fields::non_empty(&q.cancelled).as_deref() {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    };
    let page: i64 = fields::non_empty(&q.page)
        .and_then(|p| p.parse().ok())
        .filter(|p| (1..=1_000_000).contains(p))
        .unwrap_or(1);
    let filter = CustomerFilter {
        search: (!search.is_empty()).then(|| search.clone()),
        kind,
        status,
        cancelled,
    };
    let (rows, more) = ctx
        .app
        .db
        .run(move |c| -> Result<_, AppError> {
            let (list, more) = customers::list(c, &filter, (page - 1) * PAGE_SIZE, PAGE_SIZE)?;
            let ids: Vec<i64> = list.iter().map(|c| c.id).collect();
            let counts: HashMap<i64, i64> = affiliations::counts_by_customer(c, &ids)?
                .into_iter()
                .collect();
            let day = today();
            let rows = list
                .into_iter()
                .map(|customer| CustomerRow {
                    users: counts.get(&customer.id).copied().unwrap_or(0),
                    cancelled: customer.is_cancelled(day),
                    customer,
                })
                .collect::<Vec<_>>();
            Ok((rows, more))
        })
        .await?;
    let kind = kind.map(|k| k.as_str().to_string()).unwrap_or_default();
    let status = status.map(|s| s.as_str().to_string()).unwrap_or_default();
    let cancelled = match cancelled {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    }
    .to_string();
    let page_link = |p: i64| {
        let p = p.to_string();
        fields::link(
            "/staff/customers",
            &[
                ("q", &search),
                ("type", &kind),
                ("status", &status),
                ("cancelled", &cancelled),
                ("page", if p == "1" { "" } else { &p }),
            ],
        )
    };
    let page = ListPage {
        chrome: ctx.chrome(),
        prev: (page > 1).then(|| page_link(page - 1)),
        next: more.then(|| page_link(page + 1)),
        rows,
        q: search.clone(),
        kind: kind.clone(),
        status: status.clone(),
        cancelled: cancelled.clone(),
        types: CustomerType::ALL,
        statuses: CustomerStatus::ALL,
    };
    render(StatusCode::OK, &page)
}

/// The customer form as typed: every field a string, the checkbox present
/// when checked.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct CustomerInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub shortname: String,
    #[serde(default)]
    pub asn: String,
    #[serde(default)]
    pub cust_type: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub date_joined: String,
    #[serde(default)]
    pub date_left: String,
    pub peeringdb_oauth: Option<String>,
}

impl CustomerInput {
    fn from_customer(c: &Customer) -> CustomerInput {
        CustomerInput {
            name: c.name.clone(),
            shortname: c.shortname.clone(),
            asn: c.autsys.to_string(),
            cust_type: c.cust_type.as_str().into(),
            status: c.status.as_str().into(),
            date_joined: c.date_joined.map(|d| d.to_string()).unwrap_or_default(),
            date_left: c.date_left.map(|d| d.to_string()).unwrap_or_default(),
            peeringdb_oauth: c.peeringdb_oauth.then(|| "on".into()),
        }
    }

    /// A new customer: full, normal, PeeringDB login allowed.
    fn blank() -> CustomerInput {
        CustomerInput {
            cust_type: CustomerType::Full.as_str().into(),
            status: CustomerStatus::Normal.as_str().into(),
            peeringdb_oauth: Some("on".into()),
            ..Default::default()
        }
    }

    pub fn oauth(&self) -> bool {
        fields::checked(&self.peeringdb_oauth)
    }

    fn parse(&self) -> Result<CustomerFields, FieldErrors> {
        let mut e = FieldErrors::default();
        let name = fields::name(&mut e, "name", &self.name);
        let shortname = match crate::domain::Username::parse(&self.shortname.to_lowercase()) {
            Ok(s) => Some(s.to_string()),
            Err(_) => {
                e.add(
                    "shortname",
                    "Use 1 to 255 lower-case letters, digits, '.', '_' or '-'.",
                );
                None
            }
        };
        let autsys = match self.asn.parse::<Asn>() {
            Ok(a) => Some(a),
            Err(_) => {
                e.add(
                    "asn",
                    "Use a number from 1 to 4294967295, without the AS prefix.",
                );
                None
            }
        };
        let cust_type = self.cust_type.parse::<CustomerType>().ok();
        if cust_type.is_none() {
            e.add("cust_type", "Choose a type.");
        }
        let status = self.status.parse::<CustomerStatus>().ok();
        if status.is_none() {
            e.add("status", "Choose a status.");
        }
        let date_joined = fields::optional_date(&mut e, "date_joined", &self.date_joined);
        let date_left = fields::optional_date(&mut e, "date_left", &self.date_left);
        if let (Some(Some(j)), Some(Some(l))) = (date_joined, date_left)
            && l < j
        {
            e.add(
                "date_left",
                "The date left cannot be before the date joined.",
            );
        }
        match (
            name,
            shortname,
            autsys,
            cust_type,
            status,
            date_joined,
            date_left,
        ) {
            (Some(name), Some(shortname), Some(autsys), Some(t), Some(s), Some(j), Some(l))
                if e.is_empty() =>
            {
                Ok(CustomerFields {
                    name,
                    shortname,
                    autsys,
                    cust_type: t,
                    status: s,
                    date_joined: j,
                    date_left: l,
                    peeringdb_oauth: self.oauth(),
                })
            }
            _ => Err(e),
        }
    }
}

#[derive(Template)]
#[template(path = "staff/customer_form.html")]
pub struct FormPage {
    pub chrome: Chrome,
    /// The customer being edited; `None` when adding one.
    pub editing: Option<Customer>,
    pub form: CustomerInput,
    pub errors: FieldErrors,
    pub types: &'static [CustomerType],
    pub statuses: &'static [CustomerStatus],
}

impl FormPage {
    pub fn action(&self) -> String {
        match &self.editing {
            Some(c) => format!("/staff/customers/{}/edit", c.id),
            None => "/staff/customers/new".into(),
        }
    }
}

fn form_page(
    ctx: &Ctx,
    editing: Option<Customer>,
    form: CustomerInput,
    errors: FieldErrors,
) -> FormPage {
    FormPage {
        chrome: ctx.chrome(),
        editing,
        form,
        errors,
        types: CustomerType::ALL,
        statuses: CustomerStatus::ALL,
    }
}

pub async fn new_form(ctx: Ctx) -> Result<HttpResponse, AppError> {
    ctx.require_superuser()?;
    let page = form_page(&ctx, None, CustomerInput::blank(), FieldErrors::default());
    render(StatusCode::OK, &page)
}

/// The status and page of a form sent back with errors.
fn invalid(page: &FormPage) -> Result<HttpResponse, AppError> {
    render(StatusCode::BAD_REQUEST, page)
}

pub async fn create(
    ctx: Ctx,
    CsrfForm(form): CsrfForm<CustomerInput>,
) -> Result<HttpResponse, AppError> {
    ctx.require_superuser()?;
    let fields = match form.parse() {
        Ok(f) => f,
        Err(errors) => return invalid(&form_page(&ctx, None, form, errors)),
    };
    let actor = ctx.actor();
    let result = ctx
        .app
        .db
        .run(move |c| Ok::<_, AppError>(admin::create_customer(c, &actor, &fields)))
        .await?;
    match result {
        Ok(id) => {
            ctx.flash("success", format!("Customer {} added.", form.name.trim()));
            Ok(redirect(&format!("/staff/customers/{id}")))
        }
        Err(e) => {
            let errors = fields::from_admin(e)?;
            invalid(&form_page(&ctx, None, form, errors))
        }
    }
}

async fn load(ctx: &Ctx, id: i64) -> Result<Customer, AppError> {
    ctx.app
        .db
        .run(move |c| customers::find(c, id).map_err(AppError::from))
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn edit_form(ctx: Ctx, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    ctx.require_superuser()?;
    let customer = load(&ctx, parse_id(&path)?).await?;
    let form = CustomerInput::from_customer(&customer);
    let page = form_page(&ctx, Some(customer), form, FieldErrors::default());
    render(StatusCode::OK, &page)
}

pub async fn update(
    ctx: Ctx,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<CustomerInput>,
) -> Result<HttpResponse, AppError> {
    ctx.require_superuser()?;
    let customer = load(&ctx, parse_id(&path)?).await?;
    let fields = match form.parse() {
        Ok(f) => f,
        Err(errors) => return invalid(&form_page(&ctx, Some(customer), form, errors)),
    };
    let (actor, id) = (ctx.actor(), customer.id);
    let result = ctx
        .app
        .db
        .run(move |c| Ok::<_, AppError>(admin::update_customer(c, &actor, id, &fields)))
        .await?;
    match result {
        Ok(revoked) => {
            ctx.flash("success", format!("Customer {} saved.", form.name.trim()));
            if !revoked.is_empty() {
                ctx.flash(
                    "warning",
                    format!(
                        "It no longer admits Login with PeeringDB, so its PeeringDB-made links were removed at once: {}.",
                        revoked.join("; ")
                    ),
                );
            }
            Ok(redirect(&format!("/staff/customers/{id}")))
        }
        Err(e) => {
            let errors = fields::from_admin(e)?;
            invalid(&form_page(&ctx, Some(customer), form, errors))
        }
    }
}

pub struct LoginRow {
    pub record: LoginRecord,
    pub username: String,
}

#[derive(Template)]
#[template(path = "staff/customer.html")]
pub struct ViewPage {
    pub chrome: Chrome,
    pub customer: Customer,
    pub cancelled: bool,
    pub users: Vec<(Affiliation, User)>,
    pub logins: Vec<LoginRow>,
    /// Connections on the peering LANs, with the LAN's name.
    pub connections: Vec<(crate::db::connections::Connection, String)>,
    /// Route-server sessions from the Peering API, newest first.
    pub sessions: Vec<crate::db::peering_sessions::PeeringSession>,
    /// PeeringDB identities kept from this customer (SPEC §6.2).
    pub block_rows: crate::web::blocks::BlockRows,
}

pub async fn view(ctx: Ctx, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    ctx.require_superuser()?;
    let id = parse_id(&path)?;
    let loaded = ctx
        .app
        .db
        .run(move |c| -> Result<_, AppError> {
            let Some(customer) = customers::find(c, id)? else {
                return Ok(None);
            };
            let members = affiliations::of_customer(c, id)?;
            let records = logins::of_customer(c, id, 25)?;
            let mut ids: Vec<i64> = records.iter().map(|r| r.user_id).collect();
            ids.sort_unstable();
            ids.dedup();
            let names: HashMap<i64, String> = users::by_ids(c, &ids)?
                .into_iter()
                .map(|u| (u.id, u.username))
                .collect();
            let logins = records
                .into_iter()
                .map(|record| LoginRow {
                    username: names.get(&record.user_id).cloned().unwrap_or_default(),
                    record,
                })
                .collect();
            let lan_names: HashMap<i64, String> = crate::db::lans::lans(c)?
                .into_iter()
                .map(|l| (l.id, l.name))
                .collect();
            let conns = crate::db::connections::of_customer(c, id)?
                .into_iter()
                .map(|cn| {
                    let lan = lan_names.get(&cn.lan_id).cloned().unwrap_or_default();
                    (cn, lan)
                })
                .collect();
            let sessions = crate::db::peering_sessions::of_customer(c, id)?;
            let blocks = crate::db::peeringdb_links::blocks_on_named(c, id)?;
            Ok(Some((customer, members, logins, conns, sessions, blocks)))
        })
        .await?;
    let Some((customer, users, logins, connections, sessions, blocks)) = loaded else {
        return Err(AppError::NotFound);
    };
    let page = ViewPage {
        chrome: ctx.chrome(),
        cancelled: customer.is_cancelled(today()),
        customer,
        users,
        logins,
        connections,
        sessions,
        block_rows: crate::web::blocks::on_customer(blocks, false),
    };
    render(StatusCode::OK, &page)
}

/// `POST /staff/customers/{id}/blocks/{peeringdb_id}/lift`: staff let a
/// PeeringDB identity be linked to this customer again (also one whose
/// account is gone).
pub async fn lift_block(
    ctx: Ctx,
    path: web::Path<(String, String)>,
    _: CsrfForm<super::auth::Empty>,
) -> Result<HttpResponse, AppError> {
    ctx.require_superuser()?;
    let (cid, pdb) = (parse_id(&path.0)?, parse_id(&path.1)?);
    let actor = ctx.actor();
    let lifted = ctx
        .app
        .db
        .run(move |c| {
            admin::unblock(c, &actor, cid, pdb, admin::Scope::Staff).map_err(fields::admin_error)
        })
        .await?;
    ctx.flash(
        if lifted { "success" } else { "info" },
        if lifted {
            "Block lifted: the next Login with PeeringDB may link this customer again."
        } else {
            "There was no such block."
        },
    );
    Ok(redirect(&format!("/staff/customers/{cid}")))
}
