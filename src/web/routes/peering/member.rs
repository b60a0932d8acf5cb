//! A member's own peering data: their connections on the peering LANs and
//! their route-server sessions from the Peering API.
use super::super::super::ctx::{Chrome, Ctx};
use super::super::super::error::AppError;
use super::super::auth::render;
use crate::db::connections::{self, Connection};
use crate::db::lans::{self, RouteServer};
use crate::db::peering_sessions::{self, PeeringSession};
use crate::web::guard::Authenticated;
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use std::collections::HashMap;

pub struct ConnectionView {
    pub connection: Connection,
    pub lan: String,
    pub vlan_id: i32,
}

#[derive(askama::Template)]
#[template(path = "member/peering.html")]
pub struct MemberPeeringPage {
    pub chrome: Chrome,
    pub customer: Option<String>,
    pub connections: Vec<ConnectionView>,
    pub route_servers: Vec<RouteServer>,
    pub sessions: Vec<PeeringSession>,
}

pub async fn page(Authenticated(v): Authenticated, ctx: Ctx) -> Result<HttpResponse, AppError> {
    let customer = v.current_customer().cloned();
    let cid = customer.as_ref().map(|c| c.id);
    let (connections, route_servers, sessions) = ctx
        .app
        .db
        .run(move |c| -> Result<_, AppError> {
            let Some(cid) = cid else {
                return Ok((Vec::new(), Vec::new(), Vec::new()));
            };
            let lans: HashMap<i64, (String, i32)> = lans::lans(c)?
                .into_iter()
                .map(|l| (l.id, (l.name, l.vlan_id)))
                .collect();
            let mine = connections::of_customer(c, cid)?;
            let rs = lans::route_servers(c)?
                .into_iter()
                .filter(|r| mine.iter().any(|m| m.lan_id == r.lan_id))
                .collect();
            let views = mine
                .into_iter()
                .map(|connection| {
                    let (lan, vlan_id) = lans.get(&connection.lan_id).cloned().unwrap_or_default();
                    ConnectionView {
                        connection,
                        lan,
                        vlan_id,
                    }
                })
                .collect();
            Ok((views, rs, peering_sessions::of_customer(c, cid)?))
        })
        .await?;
    let page = MemberPeeringPage {
        chrome: ctx.chrome(),
        customer: customer.map(|c| c.name),
        connections,
        route_servers,
        sessions,
    };
    render(StatusCode::OK, &page)
}
