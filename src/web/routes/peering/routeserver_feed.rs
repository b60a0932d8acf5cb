//! The route-server configuration feed for staff tools.
use super::super::super::App;
use super::api_input::{ApiResult, caller, ok};
use crate::db::api_tokens;
use crate::db::lans;
use crate::db::peering_sessions;
use crate::domain::SessionStatus;
use crate::peeringapi::ApiError;
use actix_web::{HttpRequest, web};
use serde_json::{Value, json};
use std::collections::HashMap;

/// `GET /api/v1/routeservers/{id}/sessions.json` (staff key): the sessions
/// a route server's configuration should carry (approved, provisioned,
/// established, down), for the tool that builds it.
pub async fn route_server_sessions(
    req: HttpRequest,
    app: web::Data<App>,
    path: web::Path<String>,
) -> ApiResult {
    let token = caller(&req, &app).await?;
    if token.kind != api_tokens::KIND_STAFF_KEY {
        return Err(ApiError::forbidden(
            "authorization",
            "this endpoint needs a staff API key",
        ));
    }
    let id = path
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|i| *i > 0)
        .ok_or_else(|| ApiError::not_found("id", "no such route server"))?;
    let body = app
        .db
        .run(move |c| -> Result<_, ApiError> {
            let rs = lans::route_server(c, id)?
                .ok_or_else(|| ApiError::not_found("id", "no such route server"))?;
            let configured: Vec<SessionStatus> = SessionStatus::ALL
                .iter()
                .copied()
                .filter(|s| s.is_configured())
                .collect();
            let sessions = peering_sessions::of_route_server(c, id, &configured)?;
            let customers: HashMap<i64, crate::db::models::Customer> =
                crate::db::customers::all(c)?
                    .into_iter()
                    .map(|cu| (cu.id, cu))
                    .collect();
            let conns: HashMap<i64, crate::db::connections::Connection> =
                crate::db::connections::of_lan(c, rs.lan_id)?
                    .into_iter()
                    .map(|cn| (cn.id, cn))
                    .collect();
            let list: Vec<Value> = sessions
                .iter()
                .map(|s| {
                    let cu = customers.get(&s.customer_id);
                    let cn = conns.get(&s.connection_id);
                    json!({
                        "session_id": s.session_id,
                        "status": s.status,
                        "family": s.family,
                        "peer_asn": s.member_asn,
                        "peer_ip": s.member_ip,
                        "local_ip": s.rs_ip,
                        "customer": cu.map(|c| c.shortname.clone()),
                        "name": cu.map(|c| c.name.clone()),
                        "as_set": cn.and_then(|c| c.as_set.clone()),
                        "max_prefixes": cn.and_then(|c| if s.family == 4 { c.max_prefixes_v4 } else { c.max_prefixes_v6 }),
                    })
                })
                .collect();
            Ok(json!({
                "route_server": {
                    "id": rs.id, "name": rs.name, "asn": rs.asn,
                    "ipv4_address": rs.ipv4_address, "ipv6_address": rs.ipv6_address,
                },
                "sessions": list,
            }))
        })
        .await?;
    Ok(ok(body))
}
