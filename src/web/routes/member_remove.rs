//! `GET /member/users/{aid}/remove`: a member's admin confirms taking a
//! colleague's access away (SPEC §3); the button posts to the same path.
//! Same scope as the removal: the current customer's links only, never a
//! superuser's, never one's own.
use super::super::ctx::Ctx;
use super::super::error::AppError;
use super::super::pages::ConfirmPage;
use super::auth::render;
use super::parse_id;
use crate::db::affiliations;
use crate::domain::CreatedBy;
use crate::web::guard::CustAdmin;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

pub async fn confirm(
    CustAdmin {
        viewer: v,
        customer,
    }: CustAdmin,
    ctx: Ctx,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (me, customer) = (v.user.id, customer.clone());
    let aid = parse_id(&path)?;
    let (link, user) = ctx
        .app
        .db
        .run(move |c| affiliations::with_user(c, aid).map_err(AppError::from))
        .await?
        .filter(|(a, _)| a.customer_id == customer.id)
        .ok_or(AppError::NotFound)?;
    if user.superuser || user.id == me {
        return Err(AppError::Forbidden);
    }
    let mut page = ConfirmPage::new(
        ctx.chrome(),
        format!("Remove {} from {}?", user.username, customer.name),
        "/member/users",
    );
    page.intro = format!(
        "{} ({}) loses access to {} at their next click. Their account stays, with access to any other network they belong to.",
        user.name, user.email, customer.name
    );
    page.losses.push(format!(
        "their access to {} ({})",
        customer.name,
        crate::web::words::privilege(link.privilege)
    ));
    if link.created_by == CreatedBy::PeeringDb {
        page.losses.push(
            "Login with PeeringDB will not give it back until you lift the block this makes (under \"Kept out of Login with PeeringDB\" on the users page)"
                .to_string(),
        );
    }
    page.action = format!("/member/users/{aid}/remove");
    page.button = "Remove access".into();
    render(StatusCode::OK, &page)
}
