//! API keys: a custadmin's keys for their current customer at
//! `/member/api-keys`, staff keys at `/staff/api-keys`. A new key is shown
//! once, on the page that answers its creation.
use super::super::super::ctx::{Chrome, Ctx};
use super::super::super::error::AppError;
use super::super::super::form::CsrfForm;
use super::super::auth::render;
use super::super::fields::{self, FieldErrors};
use super::super::{parse_id, redirect};
use crate::admin::api_keys;
use crate::db::api_tokens::{self, ApiToken};
use crate::db::models::Customer;
use crate::web::guard::{CustAdmin, Staff};
use crate::web::pages::ConfirmPage;
use crate::web::sort::{Head, Sort, Spec};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

#[derive(askama::Template)]
#[template(path = "member/api_keys.html")]
pub struct KeysPage {
    pub chrome: Chrome,
    /// `None` on the staff page.
    pub customer: Option<Customer>,
    pub keys: Vec<ApiToken>,
    pub new_key: Option<String>,
    pub name: String,
    pub errors: FieldErrors,
    pub base: &'static str,
    pub heads: Vec<Head>,
    /// "3 keys, 2 active".
    pub count: String,
}

/// The orders of the list (it is short: sorted here, not in SQL).
pub const SORT: Spec = Spec {
    keys: &[("name", false), ("created", true), ("used", true)],
    default: Sort {
        key: "created",
        desc: true,
    },
};

#[derive(serde::Deserialize)]
pub struct ListQuery {
    sort: Option<String>,
}

fn sort_keys(keys: &mut [ApiToken], s: Sort) {
    match s.key {
        "name" => keys.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then(a.id.cmp(&b.id))
        }),
        // Never used: last, either way.
        "used" => keys.sort_by(|a, b| match (a.last_used_at, b.last_used_at) {
            (Some(x), Some(y)) => {
                if s.desc {
                    y.cmp(&x)
                } else {
                    x.cmp(&y)
                }
            }
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => b.id.cmp(&a.id),
        }),
        _ => keys.sort_by_key(|k| (k.created_at, k.id)),
    }
    if s.desc && s.key != "used" {
        keys.reverse();
    }
}

#[derive(serde::Deserialize)]
pub struct NameForm {
    #[serde(default)]
    name: String,
}

/// Whose keys: the staff's, or the current customer's (as the route's
/// guard found it).
pub enum Owner {
    /// Holds the proof that the staff guard ran.
    Staff(#[allow(dead_code)] Staff),
    Member(CustAdmin),
}

impl Owner {
    fn is_staff(&self) -> bool {
        matches!(self, Owner::Staff(_))
    }
    fn customer(&self) -> Option<Customer> {
        match self {
            Owner::Staff(_) => None,
            Owner::Member(m) => Some(m.customer.clone()),
        }
    }
}

async fn page(
    ctx: &Ctx,
    owner: &Owner,
    new_key: Option<String>,
    name: String,
    errors: FieldErrors,
    status: StatusCode,
    sort: Sort,
) -> Result<HttpResponse, AppError> {
    let staff = owner.is_staff();
    let customer = owner.customer();
    let cid = customer.as_ref().map(|c| c.id);
    let mut keys = ctx
        .app
        .db
        .run(move |c| -> Result<_, AppError> {
            Ok(match cid {
                Some(id) => api_tokens::keys_of_customer(c, id)?,
                None => api_tokens::staff_keys(c)?,
            })
        })
        .await?;
    sort_keys(&mut keys, sort);
    let base = if staff {
        "/staff/api-keys"
    } else {
        "/member/api-keys"
    };
    let active = keys.iter().filter(|k| k.revoked_at.is_none()).count();
    let page = KeysPage {
        chrome: ctx.chrome(),
        heads: SORT.heads(
            base,
            &[],
            sort,
            &[
                ("Name", Some("name")),
                ("Created", Some("created")),
                ("By", None),
                ("Last used", Some("used")),
                ("State", None),
                ("Actions", None),
            ],
        ),
        count: format!(
            "{}, {active} active",
            crate::web::sort::count(keys.len() as i64, "key", "keys", false)
        ),
        customer,
        keys,
        new_key,
        name,
        errors,
        base,
    };
    render(status, &page)
}

async fn list(ctx: Ctx, owner: Owner, q: ListQuery) -> Result<HttpResponse, AppError> {
    page(
        &ctx,
        &owner,
        None,
        String::new(),
        FieldErrors::default(),
        StatusCode::OK,
        SORT.parse(q.sort.as_deref()),
    )
    .await
}

async fn create(ctx: Ctx, owner: Owner, form: NameForm) -> Result<HttpResponse, AppError> {
    let customer = owner.customer();
    let actor = ctx.actor();
    let name = form.name.clone();
    let result = ctx
        .app
        .db
        .run(move |c| Ok::<_, AppError>(api_keys::create(c, &actor, customer.as_ref(), &name)))
        .await?;
    match result {
        Ok((_, key)) => {
            page(
                &ctx,
                &owner,
                Some(key),
                String::new(),
                FieldErrors::default(),
                StatusCode::OK,
                SORT.default,
            )
            .await
        }
        Err(e) => {
            let errors = fields::from_admin(e)?;
            page(
                &ctx,
                &owner,
                None,
                form.name,
                errors,
                StatusCode::BAD_REQUEST,
                SORT.default,
            )
            .await
        }
    }
}

async fn revoke(ctx: Ctx, owner: Owner, id: i64) -> Result<HttpResponse, AppError> {
    let staff = owner.is_staff();
    let customer = owner.customer();
    let actor = ctx.actor();
    let base = if staff {
        "/staff/api-keys"
    } else {
        "/member/api-keys"
    };
    let key = ctx
        .app
        .db
        .run(move |c| Ok::<_, AppError>(api_keys::revoke(c, &actor, customer.as_ref(), id)))
        .await?
        .map_err(fields::admin_error)?;
    ctx.flash("success", format!("The API key {:?} is revoked.", key.name));
    Ok(redirect(base))
}

pub async fn member_list(
    ctx: Ctx,
    m: CustAdmin,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    list(ctx, Owner::Member(m), q.into_inner()).await
}
pub async fn staff_list(
    ctx: Ctx,
    s: Staff,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    list(ctx, Owner::Staff(s), q.into_inner()).await
}

/// `GET …/api-keys/{id}/revoke`: what revoking the key means.
async fn revoke_form(ctx: Ctx, owner: Owner, id: i64) -> Result<HttpResponse, AppError> {
    let staff = owner.is_staff();
    let customer = owner.customer();
    let cid = customer.as_ref().map(|c| c.id);
    let key = ctx
        .app
        .db
        .run(move |c| api_tokens::find(c, id).map_err(AppError::from))
        .await?
        // Only a key of this page's list: the customer's, or a staff key.
        .filter(|k| match cid {
            Some(cid) => k.customer_id == Some(cid) && k.kind == api_tokens::KIND_API_KEY,
            None => k.kind == api_tokens::KIND_STAFF_KEY,
        })
        .ok_or(AppError::NotFound)?;
    let base = if staff {
        "/staff/api-keys"
    } else {
        "/member/api-keys"
    };
    let mut page = ConfirmPage::new(
        ctx.chrome(),
        format!("Revoke the API key {:?}?", key.name),
        base,
    );
    if key.revoked_at.is_some() {
        page.blockers.push(crate::web::pages::Blocker {
            text: "This key is revoked already.".into(),
            href: None,
        });
    } else {
        page.intro = format!(
            "Made by {} on {}, {}.",
            key.created_by,
            key.created_at.format("%Y-%m-%d"),
            match key.last_used_at {
                Some(t) => format!("last used {}", t.format("%Y-%m-%d %H:%M")),
                None => "never used".into(),
            }
        );
        page.losses = vec![
            "the key: every tool that uses it is refused from now on".into(),
            "nothing else: it stays in the list as revoked, and you can create a new key".into(),
        ];
        page.action = format!("{base}/{}/revoke", key.id);
        page.button = "Revoke key".into();
    }
    render(StatusCode::OK, &page)
}

pub async fn member_revoke_form(
    ctx: Ctx,
    m: CustAdmin,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    revoke_form(ctx, Owner::Member(m), id).await
}
pub async fn staff_revoke_form(
    ctx: Ctx,
    s: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    revoke_form(ctx, Owner::Staff(s), id).await
}
pub async fn member_create(
    ctx: Ctx,
    m: CustAdmin,
    CsrfForm(f): CsrfForm<NameForm>,
) -> Result<HttpResponse, AppError> {
    create(ctx, Owner::Member(m), f).await
}
pub async fn staff_create(
    ctx: Ctx,
    s: Staff,
    CsrfForm(f): CsrfForm<NameForm>,
) -> Result<HttpResponse, AppError> {
    create(ctx, Owner::Staff(s), f).await
}

#[derive(serde::Deserialize)]
pub struct Empty {}

pub async fn member_revoke(
    ctx: Ctx,
    m: CustAdmin,
    path: web::Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    revoke(ctx, Owner::Member(m), id).await
}
pub async fn staff_revoke(
    ctx: Ctx,
    s: Staff,
    path: web::Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    revoke(ctx, Owner::Staff(s), id).await
}
