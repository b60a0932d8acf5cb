//! `GET /auth/login/peeringdb` and its callback (SPEC §2).
use super::super::ctx::Ctx;
use super::super::error::AppError;
use super::super::session::{self, PDB_STATE, PDB_VERIFIER};
use super::{already_signed_in, redirect};
use crate::auth::token::constant_time_eq;
use crate::db::models::{now, today};
use crate::peeringdb::apply::{process_login, refresh_context};
use crate::peeringdb::{Plan, Policy, msg_added, msg_network, msg_removed};
use actix_web::{HttpResponse, web};

/// Does the person need the exchange's support address after this login?
fn needs_support(plan: &Plan) -> bool {
    plan.refusal.is_some()
        || !plan.remove.is_empty()
        || plan.networks.iter().any(|n| n.linked.is_err())
}

/// The most network lines shown after a login (the flash messages ride in
/// the session cookie); the rest are summed up.
const MAX_NETWORK_LINES: usize = 12;

/// SPEC §2: removals with their real reason, then each of the person's own
/// PeeringDB networks that is a customer here, linked or not and why, and
/// the support address when something went wrong.
fn explain(ctx: &Ctx, plan: &Plan, support: Option<&str>) {
    for r in &plan.remove {
        ctx.flash("warning", msg_removed(&r.customer_name, r.cause));
    }
    let shown = plan.networks.iter().filter(|n| n.linked != Ok(true));
    for n in shown.clone().take(MAX_NETWORK_LINES) {
        let level = if n.linked.is_ok() { "info" } else { "warning" };
        ctx.flash(level, msg_network(n));
    }
    let more = shown.count().saturating_sub(MAX_NETWORK_LINES);
    if more > 0 {
        ctx.flash(
            "info",
            format!(
                "… and {more} more of your networks; staff can see every decision in the audit log."
            ),
        );
    }
    if needs_support(plan) {
        match support {
            Some(email) => ctx.flash(
                "info",
                format!(
                    "Questions about your access? Write to the exchange's support team at {email}."
                ),
            ),
            None => ctx.flash(
                "info",
                "Questions about your access? Contact the exchange's support team.",
            ),
        }
    }
}

/// Ends the attempt on the login page with a message; nothing was changed.
fn fail(ctx: &Ctx, message: &str) -> HttpResponse {
    ctx.flash("error", message);
    redirect("/login")
}

const MSG_STATE: &str = "Sign-in with PeeringDB could not be verified: it expired or was not started from this page. Please try again.";
const MSG_PROVIDER: &str = "PeeringDB could not be reached or did not answer as expected, so you are not signed in. Please try again in a moment.";

pub async fn start(ctx: Ctx) -> Result<HttpResponse, AppError> {
    if let Some(r) = already_signed_in(&ctx) {
        return Ok(r);
    }
    let Some(client) = ctx.app.peeringdb.as_ref() else {
        return Err(AppError::NotFound);
    };
    let (url, state, verifier) = client.authorize();
    ctx.session
        .insert(PDB_STATE, state)
        .map_err(AppError::internal)?;
    ctx.session
        .insert(PDB_VERIFIER, verifier)
        .map_err(AppError::internal)?;
    Ok(redirect(url.as_str()))
}

#[derive(serde::Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

pub async fn callback(
    ctx: Ctx,
    req: actix_web::HttpRequest,
    q: web::Query<Callback>,
) -> Result<HttpResponse, AppError> {
    if let Some(r) = already_signed_in(&ctx) {
        return Ok(r);
    }
    let Some(client) = ctx.app.peeringdb.clone() else {
        return Err(AppError::NotFound);
    };
    // The state and verifier are single use: taken out before anything else.
    let expected: Option<String> = ctx.session.get(PDB_STATE).ok().flatten();
    let verifier: Option<String> = ctx.session.get(PDB_VERIFIER).ok().flatten();
    ctx.session.remove(PDB_STATE);
    ctx.session.remove(PDB_VERIFIER);
    let q = q.into_inner();
    if let Some(error) = q.error.as_deref() {
        tracing::info!(error = %crate::web::log_safe(&error.chars().take(64).collect::<String>()), "PeeringDB answered the authorization with an error");
        let reason = if error == "access_denied" {
            "access_denied"
        } else {
            "error"
        };
        crate::observability::metrics::peeringdb_login("declined", reason);
        let msg = if error == "access_denied" {
            "You declined the sign-in on PeeringDB, so you are not signed in."
        } else {
            "PeeringDB refused the sign-in request, so you are not signed in. Please try again or contact our support team."
        };
        return Ok(fail(&ctx, msg));
    }
    let (Some(expected), Some(verifier), Some(state)) = (expected, verifier, q.state) else {
        tracing::warn!("PeeringDB callback without a state in the session or the request");
        crate::observability::metrics::peeringdb_login("invalid_callback", "state");
        return Ok(fail(&ctx, MSG_STATE));
    };
    if !constant_time_eq(expected.as_bytes(), state.as_bytes()) {
        tracing::warn!("PeeringDB callback with a wrong state");
        crate::observability::metrics::peeringdb_login("invalid_callback", "state");
        return Ok(fail(&ctx, MSG_STATE));
    }
    let Some(code) = q.code.filter(|c| !c.is_empty() && c.len() <= 1024) else {
        tracing::warn!("PeeringDB callback without a code");
        crate::observability::metrics::peeringdb_login("invalid_callback", "code");
        return Ok(fail(&ctx, MSG_PROVIDER));
    };
    let fetched = match client.fetch_profile(&code, &verifier).await {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(error = %e, "Login with PeeringDB failed at the provider");
            crate::observability::metrics::peeringdb_login(
                "provider_error",
                crate::observability::metrics::provider_error_kind(&e),
            );
            return Ok(fail(&ctx, MSG_PROVIDER));
        }
    };
    let pdb = ctx
        .app
        .config
        .peeringdb
        .as_ref()
        .ok_or(AppError::NotFound)?;
    let policy = Policy {
        privilege: pdb.privilege,
        require_mfa: pdb.require_mfa,
        today: today(),
        now: now(),
        max_link_age: ctx.app.config.links.max_age,
    };
    let address = ctx.address.clone();
    let profile = fetched.profile;
    let pdb_id = profile.id;
    let sealed = fetched
        .refresh_token
        .as_deref()
        .and_then(|t| ctx.app.secrets.seal(&refresh_context(pdb_id), t));
    let mfa = profile.has_mfa();
    let (applied, support, has_totp) = ctx
        .app
        .db
        .run(move |c| {
            let applied = process_login(c, &profile, &policy, &address, sealed.as_deref())?;
            let has_totp = match applied.user {
                Some((uid, _)) => crate::db::two_factor::is_enabled(c, uid)?,
                None => false,
            };
            // The support address, only where the person is told of a problem.
            let support = if needs_support(&applied.plan) {
                crate::db::lans::ixp(c)?
                    .map(|i| i.support_email)
                    .filter(|e| !e.trim().is_empty())
            } else {
                None
            };
            Ok::<_, AppError>((applied, support, has_totp))
        })
        .await?;
    if let Some(refusal) = applied.plan.refusal {
        tracing::info!(
            peeringdb_id = pdb_id,
            reason = refusal.code(),
            "Login with PeeringDB refused"
        );
        crate::observability::metrics::peeringdb_login("refused", refusal.code());
        let r = fail(&ctx, refusal.message());
        explain(&ctx, &applied.plan, support.as_deref());
        return Ok(r);
    }
    let Some((uid, epoch)) = applied.user else {
        crate::observability::metrics::peeringdb_login("refused", "no_match");
        return Ok(fail(&ctx, crate::peeringdb::MSG_NO_MATCH));
    };
    for a in &applied.plan.add {
        ctx.flash("success", msg_added(&a.customer_name));
    }
    explain(&ctx, &applied.plan, support.as_deref());
    // SPEC §7: PeeringDB counts as two factors only when its `amr` says
    // `mfa`; a user with TOTP is otherwise asked for the code too.
    if has_totp && !mfa {
        tracing::info!(
            peeringdb_id = pdb_id,
            "PeeringDB login without mfa: asking for the TOTP code"
        );
        crate::observability::metrics::peeringdb_login("second_factor", "none");
        return super::two_factor::ask_for_code(
            &ctx,
            &session::Pending {
                user_id: uid,
                username: applied.username.clone().unwrap_or_default(),
                since: chrono::Utc::now().timestamp(),
                wrong: 0,
                next: "/".into(),
                peeringdb: true,
            },
        );
    }
    tracing::info!(peeringdb_id = pdb_id, user = ?applied.username, "signed in with PeeringDB");
    crate::observability::metrics::peeringdb_login("success", "none");
    session::sign_in(
        &ctx.session,
        &session::SignIn {
            user_id: uid,
            epoch,
            address: &ctx.address,
            user_agent: &ctx.user_agent,
            two_factor: mfa,
        },
    )?;
    // This browser now holds a device cookie of the account (SPEC §8).
    let mut r = redirect("/");
    r.add_cookie(&crate::web::device::remember(&ctx, &req, uid).await?)
        .map_err(AppError::internal)?;
    Ok(r)
}
