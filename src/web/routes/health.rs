use super::super::App;
use actix_web::{HttpResponse, web};
use diesel::connection::SimpleConnection;

/// 200 with `{"status":"ok"}` when the database answers, 503 otherwise.
pub async fn healthz(app: web::Data<App>) -> HttpResponse {
    let backend = app.db.url().backend_name();
    let ok = app
        .db
        .run(|c| {
            c.batch_execute("SELECT 1")
                .map_err(crate::db::DbError::from)
        })
        .await
        .is_ok();
    let body = serde_json::json!({
        "status": if ok { "ok" } else { "unavailable" },
        "database": backend,
        "version": env!("CARGO_PKG_VERSION"),
    });
    if ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
