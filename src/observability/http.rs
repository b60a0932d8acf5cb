//! Per request: a request id (in a tracing span around the request, so in
//! every log line it causes, and in the `X-Request-Id` response header) and
//! the HTTP metrics by route pattern and status.
use actix_web::Error;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use std::future::Future;
use tracing::Instrument;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// A request id: taken from a well-formed incoming `X-Request-Id` (1 to 64
/// characters of `A-Z a-z 0-9 - _`, so that it can be logged and echoed
/// as is), otherwise made up (128 random bits, hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    pub const MAX_LEN: usize = 64;

    pub fn parse(s: &str) -> Option<RequestId> {
        let ok = !s.is_empty()
            && s.len() <= Self::MAX_LEN
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| RequestId(s.to_string()))
    }

    pub fn random() -> RequestId {
        RequestId(hex::encode(crate::auth::token::random_bytes(16)))
    }

    /// The incoming header's, if well-formed; a new one otherwise.
    pub fn of(req: &ServiceRequest) -> RequestId {
        req.headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(RequestId::parse)
            .unwrap_or_else(RequestId::random)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The method as a metric label: the standard ones, else `OTHER` (a label
/// must not take any value a client sends).
fn method_label(m: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// The outermost middleware (`wrap_fn`): runs the request in a span with
/// its id, sets `X-Request-Id` on the answer and counts it under its route
/// pattern (`/staff/users/{id}`, never the path, which carries ids and
/// tokens; `unmatched` for paths no route knows).
pub fn observe<S>(
    req: ServiceRequest,
    srv: &S,
) -> impl Future<Output = Result<ServiceResponse, Error>> + use<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse, Error = Error>,
{
    let id = RequestId::of(&req);
    let method = method_label(req.method());
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
    let span = tracing::info_span!("request", request_id = %id.as_str());
    let started = std::time::Instant::now();
    let fut = {
        let _entered = span.enter();
        srv.call(req)
    };
    async move {
        // Handlers' errors arrive as responses; an error here comes from a
        // middleware and becomes its response further out (no header then).
        let mut res = match fut.await {
            Ok(res) => res,
            Err(e) => {
                let status = e.as_response_error().status_code().as_u16();
                super::metrics::http_request(
                    method,
                    &route,
                    status,
                    started.elapsed().as_secs_f64(),
                );
                return Err(e);
            }
        };
        if let Ok(v) = HeaderValue::from_str(id.as_str()) {
            res.headers_mut()
                .insert(HeaderName::from_static(REQUEST_ID_HEADER), v);
        }
        super::metrics::http_request(
            method,
            &route,
            res.status().as_u16(),
            started.elapsed().as_secs_f64(),
        );
        Ok(res)
    }
    .instrument(span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids() {
        assert!(RequestId::parse("abc-DEF_123").is_some());
        assert!(RequestId::parse(&"a".repeat(64)).is_some());
        assert!(RequestId::parse(&"a".repeat(65)).is_none());
        for bad in ["", "a b", "a\nb", "a;b", "ä", "a/b", "a.b"] {
            assert!(RequestId::parse(bad).is_none(), "{bad:?}");
        }
        let r = RequestId::random();
        assert_eq!(r.as_str().len(), 32);
        assert_eq!(RequestId::parse(r.as_str()), Some(r.clone()));
        assert_ne!(RequestId::random(), r);
    }
}
