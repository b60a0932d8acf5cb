//! `GET /participants.json` and `GET /api/v1/member-export/ixf/1.0`: the
//! IX-F member export, for anyone (`Access-Control-Allow-Origin: *`);
//! contact emails only for signed-in staff and staff API keys.
use super::super::super::ctx::Ctx;
use super::super::super::error::AppError;
use crate::db::connections;
use crate::db::lans;
use crate::db::models::{now, today};
use crate::db::{affiliations, customers};
use crate::ixf::{self, ExportData};
use actix_web::HttpResponse;
use actix_web::http::header;
use std::collections::HashMap;

fn json_error(status: actix_web::http::StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .json(serde_json::json!({"errors": [{"name": "export", "errors": [message]}]}))
}

pub async fn export(ctx: Ctx, req: actix_web::HttpRequest) -> Result<HttpResponse, AppError> {
    let mut staff = ctx.viewer.as_ref().is_some_and(|v| v.is_superuser());
    if req.headers().contains_key(header::AUTHORIZATION) {
        // A staff API key also sees contact emails (a member's key does
        // not: they are other members' personal addresses, SPEC §8); a bad
        // token is an error, not a silent anonymous answer.
        match super::api_input::authenticate(&req, &ctx.app).await {
            Ok(t) if t.kind == crate::db::api_tokens::KIND_STAFF_KEY => staff = true,
            Ok(_) => {}
            Err(e) => {
                let mut r = actix_web::ResponseError::error_response(&e);
                r.headers_mut().insert(
                    header::ACCESS_CONTROL_ALLOW_ORIGIN,
                    header::HeaderValue::from_static("*"),
                );
                return Ok(r);
            }
        }
    }
    let doc = ctx
        .app
        .db
        .run(move |c| -> Result<_, AppError> {
            let Some(ixp) = lans::ixp(c)? else {
                return Ok(None);
            };
            if ixp.ixf_id.is_none() {
                return Ok(None);
            }
            let lans = lans::lans(c)?;
            let customers = customers::all(c)?;
            let connections = connections::all(c)?;
            let day = today();
            let contacts = if staff {
                let mut map: HashMap<i64, Vec<String>> = HashMap::new();
                for cu in customers.iter().filter(|cu| ixf::is_active(cu, day)) {
                    let mut emails: Vec<String> = affiliations::of_customer(c, cu.id)?
                        .into_iter()
                        .filter(|(_, u)| !u.disabled)
                        .map(|(_, u)| u.email)
                        .filter(|e| !e.is_empty())
                        .collect();
                    emails.sort();
                    emails.dedup();
                    map.insert(cu.id, emails);
                }
                Some(map)
            } else {
                None
            };
            Ok(Some(ixf::export(&ExportData {
                ixp: &ixp,
                lans: &lans,
                customers: &customers,
                connections: &connections,
                contacts: contacts.as_ref(),
                now: now(),
                today: day,
            })))
        })
        .await?;
    let Some(doc) = doc else {
        return Ok(json_error(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "The IX-F export is not set up: staff must set the IXP record with its IX-F id (ixp-portal ixp set --ixf-id …).",
        ));
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .insert_header((header::VARY, "Cookie, Authorization"))
        .insert_header((
            header::CACHE_CONTROL,
            if staff {
                "private, no-store"
            } else {
                "public, max-age=300"
            },
        ))
        .json(doc))
}
