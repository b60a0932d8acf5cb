//! IXP staff: the customer list, the add and edit forms, the customer view.
use super::super::ctx::{Chrome, Ctx};
use super::super::error::AppError;
use super::super::form::CsrfForm;
use super::super::pages::ConfirmPage;
use super::auth::render;
use super::fields::{self, FieldErrors};
use super::{parse_id, redirect};
use crate::admin;
use crate::db::customers::{self, CustomerFilter, CustomerSort};
use crate::db::models::{Affiliation, Customer, CustomerFields, LoginRecord, User, today};
use crate::db::{affiliations, logins, users};
use crate::domain::{Asn, CustomerStatus, CustomerType};
use crate::web::csv;
use crate::web::guard::Staff;
use crate::web::sort::{Head, Sort, Spec};
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
    sort: Option<String>,
}

/// The orders of the list: `?sort=asn`, `?sort=-joined`, ….
pub const SORT: Spec = Spec {
    keys: &[
        ("name", false),
        ("shortname", false),
        ("asn", false),
        ("type", false),
        ("status", false),
        ("joined", true),
    ],
    default: Sort {
        key: "name",
        desc: false,
    },
};

fn db_sort(s: Sort) -> CustomerSort {
    match s.key {
        "shortname" => CustomerSort::Shortname,
        "asn" => CustomerSort::Asn,
        "type" => CustomerSort::Type,
        "status" => CustomerSort::Status,
        "joined" => CustomerSort::Joined,
        _ => CustomerSort::Name,
    }
}

pub struct CustomerRow {
    pub customer: Customer,
    pub users: i64,
    pub cancelled: bool,
    /// Whether Login with PeeringDB may link its people, and why not.
    pub login: crate::web::words::PeeringDbLogin,
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
    pub heads: Vec<Head>,
    /// "120 customers".
    pub count: String,
    /// The CSV export of the same filters and order.
    pub csv: String,
    pub sort: String,
    pub filtered: bool,
}

/// The list's query as understood: unknown values are ignored.
struct Parsed {
    filter: CustomerFilter,
    sort: Sort,
    page: i64,
    /// The values echoed in forms and links.
    search: String,
    kind: String,
    status: String,
    cancelled: String,
}

fn parse(q: ListQuery) -> Parsed {
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
    Parsed {
        filter: CustomerFilter {
            search: (!search.is_empty()).then(|| search.clone()),
            kind,
            status,
            cancelled,
        },
        sort: SORT.parse(q.sort.as_deref()),
        page,
        search,
        kind: kind.map(|k| k.as_str().to_string()).unwrap_or_default(),
        status: status.map(|s| s.as_str().to_string()).unwrap_or_default(),
        cancelled: match cancelled {
            Some(true) => "yes",
            Some(false) => "no",
            None => "",
        }
        .to_string(),
    }
}

/// The users of each customer, in chunks within the bind-parameter limits.
fn user_counts(
    c: &mut crate::db::DbConnection,
    list: &[Customer],
) -> Result<HashMap<i64, i64>, AppError> {
    let ids: Vec<i64> = list.iter().map(|c| c.id).collect();
    let mut counts = HashMap::new();
    for chunk in ids.chunks(900) {
        counts.extend(affiliations::counts_by_customer(c, chunk)?);
    }
    Ok(counts)
}

fn rows_of(list: Vec<Customer>, counts: &HashMap<i64, i64>) -> Vec<CustomerRow> {
    let day = today();
    list.into_iter()
        .map(|customer| CustomerRow {
            users: counts.get(&customer.id).copied().unwrap_or(0),
            cancelled: customer.is_cancelled(day),
            login: crate::web::words::peeringdb_login(&customer, day),
            customer,
        })
        .collect()
}

pub async fn list(_: Staff, ctx: Ctx, q: web::Query<ListQuery>) -> Result<HttpResponse, AppError> {
    let p = parse(q.into_inner());
    let (filter, sort, page) = (p.filter.clone(), p.sort, p.page);
    let (rows, more, total) = ctx
        .app
        .db
        .run(move |c| -> Result<_, AppError> {
            let (list, more) = customers::list(
                c,
                &filter,
                db_sort(sort),
                sort.desc,
                (page - 1) * PAGE_SIZE,
                PAGE_SIZE,
            )?;
            let counts = user_counts(c, &list)?;
            let total = customers::count_matching(c, &filter)?;
            Ok((rows_of(list, &counts), more, total))
        })
        .await?;
    let sort_param = SORT.param(sort);
    let filters = [
        ("q", p.search.as_str()),
        ("type", p.kind.as_str()),
        ("status", p.status.as_str()),
        ("cancelled", p.cancelled.as_str()),
    ];
    let page_link = |n: i64| {
        let n = n.to_string();
        let mut pairs = filters.to_vec();
        pairs.push(("sort", &sort_param));
        pairs.push(("page", if n == "1" { "" } else { &n }));
        fields::link("/staff/customers", &pairs)
    };
    let mut csv_pairs = filters.to_vec();
    csv_pairs.push(("sort", &sort_param));
    let page = ListPage {
        chrome: ctx.chrome(),
        prev: (page > 1).then(|| page_link(page - 1)),
        next: more.then(|| page_link(page + 1)),
        heads: SORT.heads(
            "/staff/customers",
            &filters,
            sort,
            &[
                ("Name", Some("name")),
                ("Shortname", Some("shortname")),
                ("ASN", Some("asn")),
                ("Type", Some("type")),
                ("Status", Some("status")),
                ("Joined", Some("joined")),
                ("Users", None),
                ("PeeringDB login", None),
            ],
        ),
        count: crate::web::sort::count(total, "customer", "customers", false),
        csv: fields::link("/staff/customers.csv", &csv_pairs),
        filtered: filters.iter().any(|(_, v)| !v.is_empty()),
        sort: sort_param.clone(),
        rows,
        q: p.search.clone(),
        kind: p.kind.clone(),
        status: p.status.clone(),
        cancelled: p.cancelled.clone(),
        types: CustomerType::ALL,
        statuses: CustomerStatus::ALL,
    };
    render(StatusCode::OK, &page)
}

/// `GET /staff/customers.csv`: every customer the list's filters match, in
/// its order.
pub async fn export(
    _: Staff,
    ctx: Ctx,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let p = parse(q.into_inner());
    let (filter, sort) = (p.filter, p.sort);
    let body = ctx
        .app
        .db
        .run(move |c| -> Result<_, AppError> {
            let (list, _) =
                customers::list(c, &filter, db_sort(sort), sort.desc, 0, i64::from(i32::MAX))?;
            let counts = user_counts(c, &list)?;
            let rows: Vec<Vec<String>> = rows_of(list, &counts)
                .into_iter()
                .map(|r| {
                    let cu = r.customer;
                    vec![
                        csv::cell(&cu.name),
                        csv::cell(&cu.shortname),
                        cu.autsys.to_string(),
                        cu.cust_type.as_str().to_string(),
                        cu.status.as_str().to_string(),
                        cu.date_joined.map(|d| d.to_string()).unwrap_or_default(),
                        cu.date_left.map(|d| d.to_string()).unwrap_or_default(),
                        if r.cancelled { "yes" } else { "no" }.to_string(),
                        r.users.to_string(),
                        if cu.peeringdb_oauth { "yes" } else { "no" }.to_string(),
                        if r.login.class == "yes" {
                            "possible".to_string()
                        } else {
                            format!("not possible: {}", r.login.reason)
                        },
                    ]
                })
                .collect();
            csv::write(
                &[
                    "name",
                    "shortname",
                    "asn",
                    "type",
                    "status",
                    "date_joined",
                    "date_left",
                    "cancelled",
                    "users",
                    "peeringdb_oauth",
                    "peeringdb_login",
                ],
                &rows,
            )
            .map_err(AppError::internal)
        })
        .await?;
    Ok(csv::download("customers", body))
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

pub async fn new_form(_: Staff, ctx: Ctx) -> Result<HttpResponse, AppError> {
    let page = form_page(&ctx, None, CustomerInput::blank(), FieldErrors::default());
    render(StatusCode::OK, &page)
}

/// The status and page of a form sent back with errors.
fn invalid(page: &FormPage) -> Result<HttpResponse, AppError> {
    render(StatusCode::BAD_REQUEST, page)
}

pub async fn create(
    _: Staff,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<CustomerInput>,
) -> Result<HttpResponse, AppError> {
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

pub async fn edit_form(
    _: Staff,
    ctx: Ctx,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let customer = load(&ctx, parse_id(&path)?).await?;
    let form = CustomerInput::from_customer(&customer);
    let page = form_page(&ctx, Some(customer), form, FieldErrors::default());
    render(StatusCode::OK, &page)
}

pub async fn update(
    _: Staff,
    ctx: Ctx,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<CustomerInput>,
) -> Result<HttpResponse, AppError> {
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
    /// Whether Login with PeeringDB may link its people, and why not.
    pub login: crate::web::words::PeeringDbLogin,
    pub users: Vec<(Affiliation, User)>,
    pub logins: Vec<LoginRow>,
    /// Connections on the peering LANs, with the LAN's name.
    pub connections: Vec<(crate::db::connections::Connection, String)>,
    /// Route-server sessions from the Peering API, newest first.
    pub sessions: Vec<crate::db::peering_sessions::PeeringSession>,
    /// PeeringDB identities kept from this customer (SPEC §6.2).
    pub block_rows: crate::web::blocks::BlockRows,
}

pub async fn view(_: Staff, ctx: Ctx, path: web::Path<String>) -> Result<HttpResponse, AppError> {
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
        login: crate::web::words::peeringdb_login(&customer, today()),
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
    _: Staff,
    ctx: Ctx,
    path: web::Path<(String, String)>,
    _: CsrfForm<super::auth::Empty>,
) -> Result<HttpResponse, AppError> {
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

/// `GET /staff/customers/{id}/delete`: what deleting the customer takes
/// with it, or what is in the way (its users, connections, sessions).
pub async fn delete_form(
    _: Staff,
    ctx: Ctx,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let (customer, impact) = ctx
        .app
        .db
        .run(move |c| admin::peering::impact::customer_impact(c, id).map_err(fields::admin_error))
        .await?
        .ok_or(AppError::NotFound)?;
    let mut page = ConfirmPage::new(
        ctx.chrome(),
        format!("Delete customer {}?", customer.name),
        format!("/staff/customers/{id}"),
    )
    .impact(
        &impact,
        "Remove its users' links (on each user's page), delete its connections (which needs their sessions deleted first), then come back. A customer that leaves the exchange can also stay, with a date left: it then counts as cancelled.",
    );
    page.intro = "The customer goes from the portal and the IX-F export. This cannot be undone; its audit entries stay.".into();
    page.action = format!("/staff/customers/{id}/delete");
    page.button = "Delete customer".into();
    render(StatusCode::OK, &page)
}

pub async fn delete(
    _: Staff,
    ctx: Ctx,
    path: web::Path<String>,
    _: CsrfForm<super::auth::Empty>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let actor = ctx.actor();
    let result = ctx
        .app
        .db
        .run(move |c| Ok::<_, AppError>(admin::peering::delete_customer(c, &actor, id)))
        .await?;
    match result {
        Ok(customer) => {
            ctx.flash("success", format!("Customer {} deleted.", customer.name));
            Ok(redirect("/staff/customers"))
        }
        Err(admin::AdminError::Invalid(m)) => {
            ctx.flash("error", fields::sentence(&m));
            Ok(redirect(&format!("/staff/customers/{id}/delete")))
        }
        Err(e) => Err(fields::admin_error(e)),
    }
}
