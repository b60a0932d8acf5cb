//! Running it in production (issue 14): Prometheus metrics, request ids
//! and the log format, readiness and the clean stop of `serve`.
pub mod http;
pub mod lifecycle;
pub mod logs;
pub mod metrics;

pub use lifecycle::Lifecycle;
