//! The dashboard, the own profile and the customer switcher.
use super::super::ctx::Ctx;
use super::super::error::AppError;
use super::super::form::CsrfForm;
use super::super::pages::{DashboardPage, LogoutPage, ProfilePage, Step};
use super::redirect;
use crate::db::{customers, logins, users};
use crate::web::guard::Authenticated;
use actix_web::HttpResponse;

/// The first-run checklist: what a fresh install needs before members can
/// use it. Shown to staff until every step is done.
fn checklist(ixp: bool, lans: bool, customers: bool, peeringdb: bool) -> Vec<Step> {
    vec![
        Step {
            title: "Set the IXP record",
            help: "The exchange's name (shown on every page), its IX-F and PeeringDB ids and the support email members are told to write to.",
            href: Some("/staff/peering#ixp"),
            done: ixp,
        },
        Step {
            title: "Add a peering LAN",
            help: "The VLAN and prefixes members connect to; route servers and connections live on it.",
            href: Some("/staff/peering/lans/new"),
            done: lans,
        },
        Step {
            title: "Add the first member",
            help: "A customer with its ASN: people whose PeeringDB account lists that ASN can then sign in.",
            href: Some("/staff/customers/new"),
            done: customers,
        },
        Step {
            title: "Enable Login with PeeringDB",
            help: "Register an OAuth application on PeeringDB, then start the portal with AUTH_PEERINGDB_ENABLED=true, PEERINGDB_OAUTH_CLIENT_ID and PEERINGDB_OAUTH_CLIENT_SECRET (see the README).",
            href: None,
            done: peeringdb,
        },
    ]
}

pub async fn dashboard(
    Authenticated(v): Authenticated,
    ctx: Ctx,
) -> Result<DashboardPage, AppError> {
    let cid = v.current_customer().map(|c| c.id);
    let staff = v.is_superuser();
    let peeringdb = ctx.app.peeringdb_enabled();
    let (stats, setup, connections, sessions, pending_sessions) = ctx
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
            if !staff {
                return Ok(((0, 0, 0), Vec::new(), n, list, 0));
            }
            let (u, o) = users::counts(c)?;
            let customer_count = customers::count(c)?;
            let steps = checklist(
                crate::db::lans::ixp(c)?.is_some(),
                !crate::db::lans::lans(c)?.is_empty(),
                customer_count > 0,
                peeringdb,
            );
            let pending = crate::db::peering_sessions::count_with_status(
                c,
                crate::domain::SessionStatus::Pending,
            )?;
            Ok(((customer_count, u, o), steps, n, list, pending))
        })
        .await?;
    // The checklist goes once every step is done.
    let setup = if setup.iter().all(|s| s.done) {
        Vec::new()
    } else {
        setup
    };
    Ok(DashboardPage {
        connections,
        sessions,
        pending_sessions,
        setup,
        chrome: ctx.chrome(),
        name: v.user.name.clone(),
        customer: v.current_customer().cloned(),
        privilege: v
            .current()
            .map(|(a, _)| crate::web::words::privilege(a.privilege).to_string())
            .unwrap_or_default(),
        superuser: v.is_superuser(),
        stats,
    })
}

/// `GET /logout`: a page with one button (signing out is a POST).
pub async fn logout_page(ctx: Ctx) -> LogoutPage {
    LogoutPage {
        chrome: ctx.chrome(),
    }
}

pub async fn profile(Authenticated(v): Authenticated, ctx: Ctx) -> Result<ProfilePage, AppError> {
    let id = v.user.id;
    let max_age = chrono::Duration::seconds(ctx.app.config.sessions.max);
    let creator = v.user.creator.clone();
    let (logins, sessions, creator_is_staff, has_totp) = ctx
        .app
        .db
        .run(move |c| {
            Ok::<_, AppError>((
                logins::of_user(c, id, 50)?,
                crate::db::sessions::of_user(c, id, max_age)?,
                users::by_username(c, &creator)?.map(|u| u.superuser),
                crate::db::two_factor::is_enabled(c, id)?,
            ))
        })
        .await?;
    Ok(ProfilePage {
        chrome: ctx.chrome(),
        user: v.user.clone(),
        links: v.links.clone(),
        logins,
        sessions,
        current_sid: crate::web::session::sid(&ctx.session),
        has_totp,
        has_password: crate::auth::password::is_usable(&v.user.password_hash),
        created: crate::web::words::creator(&v.user, creator_is_staff),
    })
}

#[derive(serde::Deserialize)]
pub struct SwitchForm {
    customer_id: String,
}

/// Switch the current customer: only to one the user is linked to.
pub async fn switch_customer(
    Authenticated(v): Authenticated,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<SwitchForm>,
) -> Result<HttpResponse, AppError> {
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
