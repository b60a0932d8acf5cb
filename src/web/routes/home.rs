//! The dashboard, the own profile and the customer switcher.
use super::super::ctx::Ctx;
use super::super::error::AppError;
use super::super::form::CsrfForm;
use super::super::pages::{DashboardPage, ProfilePage};
use super::redirect;
use crate::db::{customers, logins, users};
use actix_web::HttpResponse;

pub async fn dashboard(ctx: Ctx) -> Result<DashboardPage, AppError> {
    let v = ctx.require_user()?;
    let stats = if v.is_superuser() {
        ctx.app
            .db
            .run(|c| -> Result<_, AppError> {
                let (u, o) = users::counts(c)?;
                Ok((customers::count(c)?, u, o))
            })
            .await?
    } else {
        (0, 0, 0)
    };
    let cid = v.current_customer().map(|c| c.id);
    let staff = v.is_superuser();
    let (connections, sessions, pending_sessions) = ctx
        .app
        .db
        .run(move |c| -> Result<_, AppError> {
            let (n, list) = match cid {
                Some(id) => (
                    crate::db::connections::of_customer(c, id)?.len(),
                    crate::db::peering_sessions::of_customer(c, id)?
                        .into_iter()
                        .filter(|s| s.status() != crate::domain::SessionStatus::Deleted)
                        .collect(),
                ),
                None => (0, Vec::new()),
            };
            let pending = if staff {
                crate::db::peering_sessions::recent(
                    c,
                    Some(crate::domain::SessionStatus::Pending),
                    1000,
                )?
                .len()
            } else {
                0
            };
            Ok((n, list, pending))
        })
        .await?;
    Ok(DashboardPage {
        connections,
        sessions,
        pending_sessions,
        chrome: ctx.chrome(),
        name: v.user.name.clone(),
        customer: v.current_customer().cloned(),
        privilege: v
            .current()
            .map(|(a, _)| a.privilege.label().to_string())
            .unwrap_or_default(),
        superuser: v.is_superuser(),
        stats,
    })
}

pub async fn profile(ctx: Ctx) -> Result<ProfilePage, AppError> {
    let v = ctx.require_user()?;
    let id = v.user.id;
    let logins = ctx
        .app
        .db
        .run(move |c| logins::of_user(c, id, 50).map_err(AppError::from))
        .await?;
    Ok(ProfilePage {
        chrome: ctx.chrome(),
        user: v.user.clone(),
        links: v.links.clone(),
        logins,
    })
}

#[derive(serde::Deserialize)]
pub struct SwitchForm {
    customer_id: String,
}

/// Switch the current customer: only to one the user is linked to.
pub async fn switch_customer(
    ctx: Ctx,
    CsrfForm(form): CsrfForm<SwitchForm>,
) -> Result<HttpResponse, AppError> {
    let v = ctx.require_user()?;
    let wanted: i64 = form
        .customer_id
        .trim()
        .parse()
        .map_err(|_| AppError::NotFound)?;
    let Some((_, customer)) = v.links.iter().find(|(_, c)| c.id == wanted) else {
        return Err(AppError::NotFound);
    };
    let (uid, name) = (v.user.id, customer.name.clone());
    ctx.app
        .db
        .run(move |c| users::set_current_customer(c, uid, Some(wanted)).map_err(AppError::from))
        .await?;
    ctx.flash("info", format!("You are now working in {name}."));
    Ok(redirect("/"))
}
