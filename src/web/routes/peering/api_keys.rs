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
}

#[derive(serde::Deserialize)]
pub struct NameForm {
    #[serde(default)]
    name: String,
}

/// Whose keys: the current customer's (custadmin), or the staff's.
fn scope(ctx: &Ctx, staff: bool) -> Result<Option<Customer>, AppError> {
    if staff {
        ctx.require_superuser()?;
        Ok(None)
    } else {
        let (_, c) = ctx.require_custadmin()?;
        Ok(Some(c.clone()))
    }
}

async fn page(
    ctx: &Ctx,
    staff: bool,
    new_key: Option<String>,
    name: String,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let customer = scope(ctx, staff)?;
    let cid = customer.as_ref().map(|c| c.id);
    let keys = ctx
        .app
        .db
        .run(move |c| -> Result<_, AppError> {
            Ok(match cid {
                Some(id) => api_tokens::keys_of_customer(c, id)?,
                None => api_tokens::staff_keys(c)?,
            })
        })
        .await?;
    let page = KeysPage {
        chrome: ctx.chrome(),
        customer,
        keys,
        new_key,
        name,
        errors,
        base: if staff {
            "/staff/api-keys"
        } else {
            "/member/api-keys"
        },
    };
    render(status, &page)
}

async fn list(ctx: Ctx, staff: bool) -> Result<HttpResponse, AppError> {
    page(
        &ctx,
        staff,
        None,
        String::new(),
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn create(ctx: Ctx, staff: bool, form: NameForm) -> Result<HttpResponse, AppError> {
    let customer = scope(&ctx, staff)?;
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
                staff,
                Some(key),
                String::new(),
                FieldErrors::default(),
                StatusCode::OK,
            )
            .await
        }
        Err(e) => {
            let errors = fields::from_admin(e)?;
            page(
                &ctx,
                staff,
                None,
                form.name,
                errors,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    }
}

async fn revoke(ctx: Ctx, staff: bool, id: i64) -> Result<HttpResponse, AppError> {
    let customer = scope(&ctx, staff)?;
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

pub async fn member_list(ctx: Ctx) -> Result<HttpResponse, AppError> {
    list(ctx, false).await
}
pub async fn staff_list(ctx: Ctx) -> Result<HttpResponse, AppError> {
    list(ctx, true).await
}
pub async fn member_create(
    ctx: Ctx,
    CsrfForm(f): CsrfForm<NameForm>,
) -> Result<HttpResponse, AppError> {
    create(ctx, false, f).await
}
pub async fn staff_create(
    ctx: Ctx,
    CsrfForm(f): CsrfForm<NameForm>,
) -> Result<HttpResponse, AppError> {
    create(ctx, true, f).await
}

#[derive(serde::Deserialize)]
pub struct Empty {}

pub async fn member_revoke(
    ctx: Ctx,
    path: web::Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    revoke(ctx, false, id).await
}
pub async fn staff_revoke(
    ctx: Ctx,
    path: web::Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    revoke(ctx, true, id).await
}
