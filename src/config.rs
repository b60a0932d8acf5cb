//! Configuration from the environment (and `.env`), parsed once into typed
//! values. Names follow SPEC §2 and §4; an error names the variable.
use crate::db::DatabaseUrl;
use crate::domain::Privilege;
use std::net::SocketAddr;
use std::path::PathBuf;
use url::Url;

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub app_url: Url,
    pub database: DatabaseUrl,
    pub data_dir: PathBuf,
    /// `SESSION_KEY`; when unset a key is generated once into the data directory.
    pub session_key: Option<Vec<u8>>,
    /// `PORTAL_SECRET_KEY`: the key of secrets at rest (refresh tokens);
    /// when unset, derived from the session key.
    pub secret_key: Option<Vec<u8>>,
    /// How PeeringDB-made links are kept confirmed (SPEC §6).
    pub links: LinkPolicy,
    /// `PORTAL_SESSION_IDLE`, `PORTAL_SESSION_MAX` (SPEC §7).
    pub sessions: crate::web::session::Limits,
    /// `AUTH_2FA_ENFORCE`: who must have a second factor.
    pub two_factor_enforce: Enforce2fa,
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub peeringdb: Option<PeeringDbConfig>,
    /// `PEERING_API_AUTO_APPROVE` (default true): a Peering API session
    /// request that passes every check is approved at once; otherwise it
    /// waits as `pending` for staff.
    pub peering_auto_approve: bool,
    /// Operations (issue 14): `PORTAL_TRUSTED_PROXIES`, `PORTAL_METRICS_BIND`,
    /// `PORTAL_METRICS_ALLOW`, `PORTAL_LOG_FORMAT`, `PORTAL_DRAIN_DELAY`.
    pub ops: OpsConfig,
}

/// How the portal runs behind proxies and under monitoring (issue 14).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpsConfig {
    /// `PORTAL_TRUSTED_PROXIES` (SPEC §5): peers whose `X-Forwarded-For`
    /// is believed. Default none.
    pub trusted_proxies: crate::web::proxy::Networks,
    /// `PORTAL_METRICS_BIND`: a listener of its own for `/metrics`.
    pub metrics_bind: Option<SocketAddr>,
    /// `PORTAL_METRICS_ALLOW`: direct peers that may read `/metrics` on
    /// the main listener. Default none.
    pub metrics_allow: crate::web::proxy::Networks,
    /// `PORTAL_LOG_FORMAT`: `text` (default) or `json`.
    pub log_format: crate::observability::logs::LogFormat,
    /// `PORTAL_DRAIN_DELAY`: seconds between SIGTERM (from when `/readyz`
    /// answers 503) and the listeners closing. Default 0.
    pub drain_delay: u64,
}

impl OpsConfig {
    fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<OpsConfig, ConfigError> {
        let networks = |var: &'static str| {
            crate::web::proxy::Networks::parse(&get(var).unwrap_or_default())
                .map_err(|p| err(var, p))
        };
        let metrics_bind = match get("PORTAL_METRICS_BIND") {
            None => None,
            Some(v) => Some(v.trim().parse().map_err(|_| {
                err(
                    "PORTAL_METRICS_BIND",
                    format!("is {v:?}: use an address and port such as 127.0.0.1:9464"),
                )
            })?),
        };
        let log_format =
            crate::observability::logs::LogFormat::parse(get("PORTAL_LOG_FORMAT").as_deref())
                .map_err(|p| err("PORTAL_LOG_FORMAT", p))?;
        let drain_delay = match get("PORTAL_DRAIN_DELAY") {
            None => 0,
            Some(v) => match v.trim().parse::<u64>() {
                Ok(n) if n <= 300 => n,
                _ => {
                    return Err(err(
                        "PORTAL_DRAIN_DELAY",
                        format!("is {v:?}: give a number of seconds from 0 to 300"),
                    ));
                }
            },
        };
        Ok(OpsConfig {
            trusted_proxies: networks("PORTAL_TRUSTED_PROXIES")?,
            metrics_bind,
            metrics_allow: networks("PORTAL_METRICS_ALLOW")?,
            log_format,
            drain_delay,
        })
    }
}

/// SPEC §6: how often PeeringDB-made links are re-checked, and how long
/// one may go unconfirmed. All in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkPolicy {
    /// `AUTH_PEERINGDB_RECHECK_INTERVAL`: how often the re-check runs.
    pub recheck_interval: i64,
    /// `AUTH_PEERINGDB_RECHECK_AFTER`: a user is due when their oldest
    /// PeeringDB-made link was confirmed longer ago than this.
    pub recheck_after: i64,
    /// `AUTH_PEERINGDB_LINK_MAX_AGE`: unconfirmed longer, a link goes.
    pub max_age: i64,
}

impl Default for LinkPolicy {
    fn default() -> Self {
        LinkPolicy {
            recheck_interval: 3600,
            recheck_after: 86_400,
            max_age: 2_592_000,
        }
    }
}

/// `AUTH_2FA_ENFORCE`: whose password sign-ins need a second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Enforce2fa {
    #[default]
    None,
    Superuser,
    All,
}

impl Enforce2fa {
    /// Must this user have a second factor?
    pub fn applies_to(self, superuser: bool) -> bool {
        match self {
            Enforce2fa::None => false,
            Enforce2fa::Superuser => superuser,
            Enforce2fa::All => true,
        }
    }
}

/// A number of seconds, at least 1.
fn parse_seconds(
    var: &'static str,
    value: Option<String>,
    default: i64,
) -> Result<i64, ConfigError> {
    match value {
        None => Ok(default),
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if (1..=10 * 365 * 86_400).contains(&n) => Ok(n),
            _ => Err(err(
                var,
                format!("is {v:?}: give a number of seconds from 1 to 315360000"),
            )),
        },
    }
}

#[derive(Clone)]
pub struct PeeringDbConfig {
    pub client_id: String,
    pub client_secret: String,
    pub redirect: Url,
    pub base_url: Url,
    pub privilege: Privilege,
    pub require_mfa: bool,
}

impl std::fmt::Debug for PeeringDbConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeeringDbConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("redirect", &self.redirect.as_str())
            .field("base_url", &self.base_url.as_str())
            .field("privilege", &self.privilege)
            .field("require_mfa", &self.require_mfa)
            .finish()
    }
}

/// A configuration error that names the variable and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration: {var} {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

fn err(var: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        problem: problem.into(),
    }
}

pub const DEFAULT_PEERINGDB: &str = "https://auth.peeringdb.com";
pub const CALLBACK_PATH: &str = "/auth/login/peeringdb/callback";

/// Reads a boolean the way operators write them.
fn parse_bool(var: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        other => Err(err(var, format!("is {other:?}: use true or false"))),
    }
}

fn parse_url(var: &'static str, value: &str) -> Result<Url, ConfigError> {
    let url =
        Url::parse(value.trim()).map_err(|e| err(var, format!("is not a URL ({e}): {value:?}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(err(
            var,
            format!("must be an http:// or https:// URL, not {value:?}"),
        ));
    }
    Ok(url)
}

impl Config {
    /// From the process environment, after loading `./.env` (which never
    /// overrides a variable already set); a malformed `.env` is an error.
    pub fn from_env() -> Result<Config, ConfigError> {
        crate::envfile::load(std::path::Path::new("."))?;
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// From any lookup, so that tests need not touch the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let bind_s = get("PORTAL_BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        let bind = bind_s.trim().parse().map_err(|_| {
            err(
                "PORTAL_BIND",
                format!("is {bind_s:?}: use an address and port such as 127.0.0.1:8080"),
            )
        })?;
        let app_url = parse_url(
            "APP_URL",
            &get("APP_URL").unwrap_or_else(|| "http://127.0.0.1:8080".into()),
        )?;
        let data_dir = PathBuf::from(get("PORTAL_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database = match get("DATABASE_URL") {
            Some(u) => DatabaseUrl::parse(&u).map_err(|p| err("DATABASE_URL", p))?,
            None => DatabaseUrl::Sqlite(data_dir.join("portal.sqlite")),
        };
        let session_key = match get("SESSION_KEY") {
            Some(k) if k.len() < 64 => {
                return Err(err(
                    "SESSION_KEY",
                    format!(
                        "is {} characters long: use at least 64 random characters (for example `openssl rand -hex 32`)",
                        k.len()
                    ),
                ));
            }
            Some(k) => Some(k.into_bytes()),
            None => None,
        };
        let secret_key = match get("PORTAL_SECRET_KEY") {
            Some(k) if k.trim().len() < 32 => {
                return Err(err(
                    "PORTAL_SECRET_KEY",
                    format!(
                        "is {} characters long: use at least 32 random characters (for example `openssl rand -hex 32`)",
                        k.trim().len()
                    ),
                ));
            }
            Some(k) => Some(k.trim().as_bytes().to_vec()),
            None => None,
        };
        let defaults = LinkPolicy::default();
        let links = LinkPolicy {
            recheck_interval: parse_seconds(
                "AUTH_PEERINGDB_RECHECK_INTERVAL",
                get("AUTH_PEERINGDB_RECHECK_INTERVAL"),
                defaults.recheck_interval,
            )?,
            recheck_after: parse_seconds(
                "AUTH_PEERINGDB_RECHECK_AFTER",
                get("AUTH_PEERINGDB_RECHECK_AFTER"),
                defaults.recheck_after,
            )?,
            max_age: parse_seconds(
                "AUTH_PEERINGDB_LINK_MAX_AGE",
                get("AUTH_PEERINGDB_LINK_MAX_AGE"),
                defaults.max_age,
            )?,
        };
        let session_defaults = crate::web::session::Limits::default();
        let sessions = crate::web::session::Limits {
            idle: parse_seconds(
                "PORTAL_SESSION_IDLE",
                get("PORTAL_SESSION_IDLE"),
                session_defaults.idle,
            )?,
            max: parse_seconds(
                "PORTAL_SESSION_MAX",
                get("PORTAL_SESSION_MAX"),
                session_defaults.max,
            )?,
        };
        let two_factor_enforce = match get("AUTH_2FA_ENFORCE")
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("none") => Enforce2fa::None,
            Some("superuser") => Enforce2fa::Superuser,
            Some("all") => Enforce2fa::All,
            Some(other) => {
                return Err(err(
                    "AUTH_2FA_ENFORCE",
                    format!("is {other:?}: use none, superuser or all"),
                ));
            }
        };
        let smtp_url = get("SMTP_URL");
        if let Some(u) = &smtp_url
            && !(u.starts_with("smtp://") || u.starts_with("smtps://"))
        {
            return Err(err("SMTP_URL", "must start with smtp:// or smtps://"));
        }
        let mail_from = get("MAIL_FROM").unwrap_or_else(|| {
            format!(
                "IXP portal <noreply@{}>",
                app_url.host_str().unwrap_or("localhost")
            )
        });
        let enabled = parse_bool(
            "AUTH_PEERINGDB_ENABLED",
            &get("AUTH_PEERINGDB_ENABLED").unwrap_or_default(),
        )?;
        let peeringdb = if enabled {
            let client_id = get("PEERINGDB_OAUTH_CLIENT_ID").ok_or_else(|| {
                err("PEERINGDB_OAUTH_CLIENT_ID", "is not set, but AUTH_PEERINGDB_ENABLED=true needs it: register an OAuth application on PeeringDB and set its client id")
            })?;
            let client_secret = get("PEERINGDB_OAUTH_CLIENT_SECRET").ok_or_else(|| {
                err("PEERINGDB_OAUTH_CLIENT_SECRET", "is not set, but AUTH_PEERINGDB_ENABLED=true needs it: set the secret of the OAuth application registered on PeeringDB")
            })?;
            let redirect = match get("PEERINGDB_OAUTH_REDIRECT") {
                Some(r) => parse_url("PEERINGDB_OAUTH_REDIRECT", &r)?,
                None => Url::parse(&link_under(&app_url, CALLBACK_PATH))
                    .map_err(|e| err("APP_URL", format!("cannot carry the callback path: {e}")))?,
            };
            let base_url = parse_url(
                "PEERINGDB_OAUTH_BASE_URL",
                &get("PEERINGDB_OAUTH_BASE_URL").unwrap_or_else(|| DEFAULT_PEERINGDB.into()),
            )?;
            Some(PeeringDbConfig {
                client_id: client_id.trim().to_string(),
                client_secret: client_secret.trim().to_string(),
                redirect,
                base_url,
                privilege: Privilege::from_oauth_setting(
                    &get("AUTH_PEERINGDB_PRIVS").unwrap_or_default(),
                ),
                require_mfa: parse_bool(
                    "AUTH_PEERINGDB_REQUIRE_MFA",
                    &get("AUTH_PEERINGDB_REQUIRE_MFA").unwrap_or_default(),
                )?,
            })
        } else {
            None
        };
        let peering_auto_approve = match get("PEERING_API_AUTO_APPROVE") {
            Some(v) if !v.trim().is_empty() => parse_bool("PEERING_API_AUTO_APPROVE", &v)?,
            _ => true,
        };
        let ops = OpsConfig::from_lookup(get)?;
        Ok(Config {
            ops,
            peering_auto_approve,
            bind,
            app_url,
            database,
            data_dir,
            session_key,
            secret_key,
            links,
            sessions,
            two_factor_enforce,
            smtp_url,
            mail_from,
            peeringdb,
        })
    }

    pub fn https(&self) -> bool {
        self.app_url.scheme() == "https"
    }

    /// An absolute URL of this portal for a path such as `/password/reset/…`.
    pub fn url_for(&self, path: &str) -> String {
        link_under(&self.app_url, path)
    }
}

/// `path` under the portal's `APP_URL`, keeping the path it has (a portal
/// at `https://ix.example/portal` links to `https://ix.example/portal/…`;
/// `Url::join` would drop `/portal`).
fn link_under(app_url: &Url, path: &str) -> String {
    format!("{}{}", app_url.as_str().trim_end_matches('/'), path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let c = cfg(&[]).expect("defaults are valid");
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.app_url.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(
            c.database,
            DatabaseUrl::Sqlite("./data/portal.sqlite".into())
        );
        assert!(c.peeringdb.is_none());
    }

    #[test]
    fn enabled_without_credentials_names_the_variable() {
        let e = cfg(&[("AUTH_PEERINGDB_ENABLED", "true")]).unwrap_err();
        assert_eq!(e.var, "PEERINGDB_OAUTH_CLIENT_ID");
        let e = cfg(&[
            ("AUTH_PEERINGDB_ENABLED", "true"),
            ("PEERINGDB_OAUTH_CLIENT_ID", "x"),
        ])
        .unwrap_err();
        assert_eq!(e.var, "PEERINGDB_OAUTH_CLIENT_SECRET");
    }

    #[test]
    fn peeringdb_settings() {
        let c = cfg(&[
            ("AUTH_PEERINGDB_ENABLED", "true"),
            ("PEERINGDB_OAUTH_CLIENT_ID", "id"),
            ("PEERINGDB_OAUTH_CLIENT_SECRET", "secret"),
            ("APP_URL", "https://portal.example.net"),
            ("AUTH_PEERINGDB_PRIVS", "2"),
        ])
        .unwrap();
        let p = c.peeringdb.unwrap();
        assert_eq!(
            p.redirect.as_str(),
            "https://portal.example.net/auth/login/peeringdb/callback"
        );
        assert_eq!(p.base_url.as_str(), "https://auth.peeringdb.com/");
        assert_eq!(p.privilege, Privilege::CustAdmin);
        assert!(!p.require_mfa);
        assert!(!format!("{p:?}").contains("secret\""));
    }

    #[test]
    fn bad_values_name_the_variable() {
        assert_eq!(
            cfg(&[("PORTAL_BIND", "nope")]).unwrap_err().var,
            "PORTAL_BIND"
        );
        assert_eq!(cfg(&[("APP_URL", "ftp://x")]).unwrap_err().var, "APP_URL");
        assert_eq!(
            cfg(&[("SESSION_KEY", "short")]).unwrap_err().var,
            "SESSION_KEY"
        );
        assert_eq!(
            cfg(&[("DATABASE_URL", "mysql://x")]).unwrap_err().var,
            "DATABASE_URL"
        );
        assert_eq!(
            cfg(&[("AUTH_PEERINGDB_ENABLED", "maybe")]).unwrap_err().var,
            "AUTH_PEERINGDB_ENABLED"
        );
        assert_eq!(
            cfg(&[("PORTAL_SECRET_KEY", "short")]).unwrap_err().var,
            "PORTAL_SECRET_KEY"
        );
        assert_eq!(
            cfg(&[("AUTH_2FA_ENFORCE", "some")]).unwrap_err().var,
            "AUTH_2FA_ENFORCE"
        );
        for var in [
            "PORTAL_SESSION_IDLE",
            "PORTAL_SESSION_MAX",
            "AUTH_PEERINGDB_RECHECK_INTERVAL",
            "AUTH_PEERINGDB_RECHECK_AFTER",
            "AUTH_PEERINGDB_LINK_MAX_AGE",
        ] {
            assert_eq!(cfg(&[(var, "0")]).unwrap_err().var, var);
            assert_eq!(cfg(&[(var, "soon")]).unwrap_err().var, var);
        }
    }

    #[test]
    fn ops_settings() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.ops, OpsConfig::default());
        assert!(c.ops.trusted_proxies.is_empty() && c.ops.metrics_allow.is_empty());
        assert_eq!(c.ops.metrics_bind, None);
        let c = cfg(&[
            ("PORTAL_TRUSTED_PROXIES", "127.0.0.1/32, ::1, 10.0.0.0/8"),
            ("PORTAL_METRICS_BIND", "127.0.0.1:9464"),
            ("PORTAL_METRICS_ALLOW", "192.0.2.10"),
            ("PORTAL_LOG_FORMAT", "json"),
            ("PORTAL_DRAIN_DELAY", "5"),
        ])
        .unwrap();
        assert!(c.ops.trusted_proxies.contains("10.9.8.7".parse().unwrap()));
        assert!(c.ops.trusted_proxies.contains("::1".parse().unwrap()));
        assert_eq!(c.ops.metrics_bind, Some("127.0.0.1:9464".parse().unwrap()));
        assert!(c.ops.metrics_allow.contains("192.0.2.10".parse().unwrap()));
        assert!(!c.ops.metrics_allow.contains("192.0.2.11".parse().unwrap()));
        assert_eq!(
            c.ops.log_format,
            crate::observability::logs::LogFormat::Json
        );
        assert_eq!(c.ops.drain_delay, 5);
        for (var, bad) in [
            ("PORTAL_TRUSTED_PROXIES", "10.0.0.0/8, nginx"),
            ("PORTAL_METRICS_BIND", "9464"),
            ("PORTAL_METRICS_ALLOW", "10.0.0.0/40"),
            ("PORTAL_LOG_FORMAT", "logfmt"),
            ("PORTAL_DRAIN_DELAY", "301"),
            ("PORTAL_DRAIN_DELAY", "soon"),
        ] {
            assert_eq!(cfg(&[(var, bad)]).unwrap_err().var, var, "{var}={bad}");
        }
    }

    #[test]
    fn link_policy() {
        assert_eq!(cfg(&[]).unwrap().links, LinkPolicy::default());
        let c = cfg(&[
            ("AUTH_PEERINGDB_RECHECK_INTERVAL", "60"),
            ("AUTH_PEERINGDB_RECHECK_AFTER", "3600"),
            ("AUTH_PEERINGDB_LINK_MAX_AGE", "86400"),
        ])
        .unwrap();
        assert_eq!(
            c.links,
            LinkPolicy {
                recheck_interval: 60,
                recheck_after: 3600,
                max_age: 86400
            }
        );
    }
}
