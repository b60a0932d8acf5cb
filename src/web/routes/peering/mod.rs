//! The peering LAN data (staff pages), the IX-F member export and the
//! Automated Peering API.
mod member;
mod staff;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    staff::configure(cfg);
    cfg.route("/member/peering", web::get().to(member::page));
}
