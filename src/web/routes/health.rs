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

/// `GET /readyz`, the readiness check (issue 14): 503 while the instance
/// drains (after SIGTERM) or when the database does not answer a
/// `SELECT 1` within two seconds; 200 otherwise. `/healthz` stays the
/// liveness check.
pub async fn readyz(app: web::Data<App>) -> HttpResponse {
    const WITHIN: std::time::Duration = std::time::Duration::from_secs(2);
    let body = |status: &str| {
        serde_json::json!({
            "status": status,
            "database": app.db.url().backend_name(),
            "version": env!("CARGO_PKG_VERSION"),
        })
    };
    if app.lifecycle.is_draining() {
        return HttpResponse::ServiceUnavailable()
            .insert_header(("Cache-Control", "no-store"))
            .json(body("draining"));
    }
    let db = app.db.clone();
    let ping = tokio::task::spawn_blocking(move || {
        let mut c = db.conn_within(WITHIN)?;
        c.batch_execute("SELECT 1")
            .map_err(crate::db::DbError::from)
    });
    let ok = matches!(
        tokio::time::timeout(WITHIN + WITHIN, ping).await,
        Ok(Ok(Ok(())))
    );
    if ok {
        HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(body("ready"))
    } else {
        tracing::warn!("readiness check: the database did not answer");
        HttpResponse::ServiceUnavailable()
            .insert_header(("Cache-Control", "no-store"))
            .json(body("database unavailable"))
    }
}
