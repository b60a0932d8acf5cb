//! `GET /metrics` in the Prometheus text format (the `metrics` facade and
//! its Prometheus exporter). Off the public listener by default: served on
//! `PORTAL_METRICS_BIND`, a listener of its own, and on the main listener
//! only to direct peers in `PORTAL_METRICS_ALLOW` (never to a request that
//! came through a proxy).
//!
//! Every name starts with `ixp_portal_`:
//! - `http_requests_total{method,route,status}`,
//!   `http_request_duration_seconds{method,route}` (histogram); `route` is
//!   the route pattern, or `unmatched`.
//! - `peeringdb_logins_total{outcome,reason}`: outcome `success`,
//!   `second_factor` (a TOTP code is asked next), `refused` (reason: the
//!   refusal code), `provider_error`, `declined` (reason: `access_denied`
//!   or `error`), `invalid_callback` (reason: `state` or `code`).
//! - `peeringdb_requests_total{endpoint,result}` (endpoint `token` or
//!   `profile`, result `ok` or an error kind), `peeringdb_errors_total
//!   {endpoint,kind}`, `peeringdb_request_duration_seconds{endpoint}`.
//! - `recheck_batches_total`, `recheck_users_total`, `recheck_changes_total`,
//!   `recheck_failures_total`, `recheck_tokens_refused_total`,
//!   `recheck_last_batch_timestamp_seconds`.
//! - `db_pool_connections{state="idle"|"in_use"}`, `db_pool_max_connections`
//!   (read when scraped).
//! - `build_info{version}`.
//!
//! There is no mail queue depth: mail is sent (or written to the outbox)
//! when it is made, so there is no queue to measure.
use crate::db::Db;
use crate::peeringdb::client::{BodyError, ProviderError};
use crate::peeringdb::profile::{Profile, ProfileError};
use crate::peeringdb::recheck::Report;
use crate::web::App;
use actix_web::{HttpRequest, HttpResponse, web};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::future::Future;
use std::sync::OnceLock;

pub const HTTP_REQUESTS: &str = "ixp_portal_http_requests_total";
pub const HTTP_DURATION: &str = "ixp_portal_http_request_duration_seconds";
pub const LOGINS: &str = "ixp_portal_peeringdb_logins_total";
pub const PROVIDER_REQUESTS: &str = "ixp_portal_peeringdb_requests_total";
pub const PROVIDER_ERRORS: &str = "ixp_portal_peeringdb_errors_total";
pub const PROVIDER_DURATION: &str = "ixp_portal_peeringdb_request_duration_seconds";
pub const RECHECK_BATCHES: &str = "ixp_portal_recheck_batches_total";
pub const RECHECK_USERS: &str = "ixp_portal_recheck_users_total";
pub const RECHECK_CHANGES: &str = "ixp_portal_recheck_changes_total";
pub const RECHECK_FAILURES: &str = "ixp_portal_recheck_failures_total";
pub const RECHECK_TOKENS_REFUSED: &str = "ixp_portal_recheck_tokens_refused_total";
pub const RECHECK_LAST: &str = "ixp_portal_recheck_last_batch_timestamp_seconds";
pub const POOL_CONNECTIONS: &str = "ixp_portal_db_pool_connections";
pub const POOL_MAX: &str = "ixp_portal_db_pool_max_connections";
pub const BUILD_INFO: &str = "ixp_portal_build_info";

/// Latency buckets, in seconds: pages take milliseconds, PeeringDB up to
/// its 10-second timeout.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder (once; later calls return the same
/// handle). Until then, recording does nothing, as in the CLI commands.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_duration_seconds".into()), BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            if ::metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("another metrics recorder is installed: /metrics stays empty");
                return None;
            }
            describe();
            ::metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            Some(handle)
        })
        .as_ref()
}

/// Moves the samples the histograms took since the last call into their
/// buckets. The recorder keeps each sample until then: without this, a
/// server nobody scrapes held every request's duration (issue 12: 13 MB
/// after 90 s of `examples/bench`'s soak, found with heaptrack, and
/// growing with every request). `serve` calls it every
/// [`crate::allocator::TRIM_EVERY`]; a scrape does the same.
pub fn upkeep() {
    if let Some(Some(handle)) = HANDLE.get() {
        handle.run_upkeep();
    }
}

fn describe() {
    use ::metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by route pattern and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Time to answer an HTTP request"
    );
    describe_counter!(
        LOGINS,
        "Login with PeeringDB callbacks, by outcome and refusal reason"
    );
    describe_counter!(
        PROVIDER_REQUESTS,
        "Requests to PeeringDB, by endpoint and result"
    );
    describe_counter!(
        PROVIDER_ERRORS,
        "Failed requests to PeeringDB, by endpoint and kind"
    );
    describe_histogram!(
        PROVIDER_DURATION,
        Unit::Seconds,
        "Time PeeringDB took to answer"
    );
    describe_counter!(RECHECK_BATCHES, "Re-check batches run by this instance");
    describe_counter!(RECHECK_USERS, "Users re-checked");
    describe_counter!(RECHECK_CHANGES, "Changes the re-checks made (links, users)");
    describe_counter!(
        RECHECK_FAILURES,
        "Users PeeringDB could not be asked about in a re-check"
    );
    describe_counter!(
        RECHECK_TOKENS_REFUSED,
        "Refresh tokens PeeringDB refused in a re-check"
    );
    describe_gauge!(
        RECHECK_LAST,
        Unit::Seconds,
        "When this instance last finished a re-check batch"
    );
    describe_gauge!(
        POOL_CONNECTIONS,
        "Database pool connections, idle or in use"
    );
    describe_gauge!(POOL_MAX, "The most connections the database pool holds");
    describe_gauge!(BUILD_INFO, "The running version");
}

/// One answered HTTP request.
pub fn http_request(method: &'static str, route: &str, status: u16, seconds: f64) {
    ::metrics::counter!(
        HTTP_REQUESTS,
        "method" => method,
        "route" => route.to_string(),
        "status" => status.to_string()
    )
    .increment(1);
    ::metrics::histogram!(HTTP_DURATION, "method" => method, "route" => route.to_string())
        .record(seconds);
}

/// One PeeringDB login callback's outcome; `reason` is `none` where the
/// outcome says it all.
pub fn peeringdb_login(outcome: &'static str, reason: &'static str) {
    ::metrics::counter!(LOGINS, "outcome" => outcome, "reason" => reason).increment(1);
}

/// Times a request to PeeringDB and counts it by how it ended
/// (`outcome` gives the error kind, `None` for success).
pub async fn provider_call<T, E, F>(
    endpoint: &'static str,
    fut: F,
    outcome: fn(&Result<T, E>) -> Option<&'static str>,
) -> Result<T, E>
where
    F: Future<Output = Result<T, E>>,
{
    let started = std::time::Instant::now();
    let r = fut.await;
    ::metrics::histogram!(PROVIDER_DURATION, "endpoint" => endpoint)
        .record(started.elapsed().as_secs_f64());
    match outcome(&r) {
        None => ::metrics::counter!(PROVIDER_REQUESTS, "endpoint" => endpoint, "result" => "ok")
            .increment(1),
        Some(kind) => {
            ::metrics::counter!(PROVIDER_REQUESTS, "endpoint" => endpoint, "result" => kind)
                .increment(1);
            ::metrics::counter!(PROVIDER_ERRORS, "endpoint" => endpoint, "kind" => kind)
                .increment(1);
        }
    }
    r
}

fn status_kind(status: u16) -> &'static str {
    match status {
        400..=499 => "http_4xx",
        500..=599 => "http_5xx",
        _ => "http_other",
    }
}

/// The token endpoint, at the HTTP level (the OAuth client reads the body).
pub fn token_outcome(r: &Result<oauth2::HttpResponse, BodyError>) -> Option<&'static str> {
    match r {
        Ok(resp) if resp.status().is_success() => None,
        Ok(resp) => Some(status_kind(resp.status().as_u16())),
        Err(BodyError::TooLarge) => Some("too_large"),
        Err(BodyError::Http(_)) => Some("transport"),
    }
}

/// The profile endpoint.
pub fn profile_outcome(r: &Result<Profile, ProviderError>) -> Option<&'static str> {
    match r {
        Ok(_) => None,
        Err(ProviderError::ProfileStatus(s)) => Some(status_kind(*s)),
        Err(ProviderError::ProfileHttp(_)) => Some("transport"),
        Err(ProviderError::Profile(ProfileError::TooLarge)) => Some("too_large"),
        Err(ProviderError::Profile(_)) => Some("malformed"),
        Err(ProviderError::Token(_)) => Some("token"),
        Err(ProviderError::RefreshRefused) => Some("refresh_refused"),
    }
}

/// The kind of a provider error, for the login outcome's reason.
pub fn provider_error_kind(e: &ProviderError) -> &'static str {
    match e {
        ProviderError::Token(_) => "token",
        ProviderError::RefreshRefused => "refresh_refused",
        ProviderError::ProfileHttp(_) | ProviderError::ProfileStatus(_) => "profile",
        ProviderError::Profile(_) => "profile_malformed",
    }
}

/// A re-check batch finished.
pub fn recheck_batch(r: &Report) {
    ::metrics::counter!(RECHECK_BATCHES).increment(1);
    ::metrics::counter!(RECHECK_USERS).increment(r.checked as u64);
    ::metrics::counter!(RECHECK_CHANGES).increment(r.changes.len() as u64);
    ::metrics::counter!(RECHECK_FAILURES).increment(r.failed as u64);
    ::metrics::counter!(RECHECK_TOKENS_REFUSED).increment(r.tokens_refused as u64);
    ::metrics::gauge!(RECHECK_LAST).set(chrono::Utc::now().timestamp() as f64);
}

/// The scrape: the pool's state now, then everything recorded.
pub fn render(db: &Db) -> String {
    let Some(handle) = install() else {
        return String::new();
    };
    let state = db.pool_state();
    ::metrics::gauge!(POOL_CONNECTIONS, "state" => "idle").set(f64::from(state.idle_connections));
    ::metrics::gauge!(POOL_CONNECTIONS, "state" => "in_use").set(f64::from(
        state.connections.saturating_sub(state.idle_connections),
    ));
    ::metrics::gauge!(POOL_MAX).set(f64::from(db.max_size()));
    handle.render()
}

fn answer(db: &Db) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .insert_header(("Cache-Control", "no-store"))
        .body(render(db))
}

/// Through a proxy (a forwarding header), never on the main listener.
fn forwarded(req: &HttpRequest) -> bool {
    let h = req.headers();
    h.contains_key("x-forwarded-for") || h.contains_key("forwarded") || h.contains_key("x-real-ip")
}

/// `GET /metrics` on the main listener: only to a direct peer listed in
/// `PORTAL_METRICS_ALLOW` (empty by default), and never through a proxy;
/// anyone else gets 404, as if there were no such page.
pub async fn scrape_main(req: HttpRequest, app: web::Data<App>) -> HttpResponse {
    let allowed = req
        .peer_addr()
        .is_some_and(|p| app.config.ops.metrics_allow.contains(p.ip()))
        && !forwarded(&req);
    if !allowed {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("not found\n");
    }
    answer(&app.db)
}

/// The listener of `PORTAL_METRICS_BIND`: `/metrics` and nothing else.
/// `serve` stops it (no signal handling of its own).
pub fn start_listener(addr: std::net::SocketAddr, db: Db) -> anyhow::Result<crate::web::Running> {
    install();
    let listener = std::net::TcpListener::bind(addr)
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr} (PORTAL_METRICS_BIND): {e}"))?;
    let addr = listener.local_addr()?;
    let db = web::Data::new(db);
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(db.clone())
            .route(
                "/metrics",
                web::get().to(|db: web::Data<Db>| async move { answer(&db) }),
            )
            .default_service(web::to(|| async {
                HttpResponse::NotFound()
                    .content_type("text/plain; charset=utf-8")
                    .body("not found: this listener serves /metrics only\n")
            }))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(5)
    .listen(listener)?
    .run();
    Ok(crate::web::Running { addr, server })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upkeep_keeps_every_sample_in_the_buckets() {
        upkeep(); // before anything is installed: nothing to do
        let handle = install().expect("the recorder of this test binary");
        for i in 0..1000 {
            http_request("GET", "/upkeep-test", 200, f64::from(i % 7) / 1000.0);
        }
        upkeep();
        http_request("GET", "/upkeep-test", 200, 0.002);
        let text = handle.render();
        let count = text
            .lines()
            .find(|l| {
                l.starts_with(&format!("{HTTP_DURATION}_count"))
                    && l.contains("route=\"/upkeep-test\"")
            })
            .unwrap_or_else(|| panic!("the histogram's count:\n{text}"));
        assert!(count.ends_with(" 1001"), "every sample counted: {count}");
    }

    #[test]
    fn outcomes() {
        assert_eq!(
            profile_outcome(&Err(ProviderError::ProfileStatus(503))),
            Some("http_5xx")
        );
        assert_eq!(
            profile_outcome(&Err(ProviderError::Profile(ProfileError::TooLarge))),
            Some("too_large")
        );
        assert_eq!(
            token_outcome(&Err(BodyError::Http("x".into()))),
            Some("transport")
        );
        let ok = oauth2::http::Response::builder()
            .status(200)
            .body(Vec::new())
            .unwrap();
        assert_eq!(token_outcome(&Ok(ok)), None);
        let bad = oauth2::http::Response::builder()
            .status(400)
            .body(Vec::new())
            .unwrap();
        assert_eq!(token_outcome(&Ok(bad)), Some("http_4xx"));
    }
}
