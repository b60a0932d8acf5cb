//! `PORTAL_LOG_FORMAT`: human-readable lines (the default) or one JSON
//! object per line, for a log shipper.
use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl LogFormat {
    /// `text` or `json` (any case); unset or blank is `text`.
    pub fn parse(value: Option<&str>) -> Result<LogFormat, String> {
        match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("text") => Ok(LogFormat::Text),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => Err(format!("is {other:?}: use text or json")),
        }
    }

    /// From `PORTAL_LOG_FORMAT` in the process environment, for the
    /// commands that start before the configuration is read.
    pub fn from_env() -> anyhow::Result<LogFormat> {
        let v = std::env::var("PORTAL_LOG_FORMAT").ok();
        LogFormat::parse(v.as_deref())
            .map_err(|p| anyhow::anyhow!("configuration: PORTAL_LOG_FORMAT {p}"))
    }
}

/// Installs the global subscriber (once; later calls do nothing): the
/// filter of `RUST_LOG` (default `info`), to standard error. In JSON each
/// line carries the event's fields and the current span's, among them the
/// `request_id` of the request being served.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        assert_eq!(LogFormat::parse(None), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some(" ")), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some("JSON")), Ok(LogFormat::Json));
        assert_eq!(LogFormat::parse(Some("text")), Ok(LogFormat::Text));
        assert!(LogFormat::parse(Some("yaml")).unwrap_err().contains("yaml"));
    }
}
