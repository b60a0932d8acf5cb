//! A PeeringDB OAuth simulator: the authorization page (pick who you are
//! from a profiles file), the token endpoint and `/profile/v1`, behaving like
//! PeeringDB: codes bound to client, redirect URI and PKCE challenge, single
//! use and short-lived; credentials only in the form body; profiles filtered
//! by the granted scopes. Tests drive it in-process and can inject faults.
use crate::auth::token::{constant_time_eq, random_token};
use actix_web::{HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub const CODE_LIFETIME: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub client_id: String,
    pub client_secret: String,
    /// Accepted redirect URIs; empty accepts any http(s) URI.
    pub redirect_uris: Vec<String>,
}

/// Faults a test can switch on.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub token_status: Option<u16>,
    pub token_garbage: bool,
    pub token_delay: Option<Duration>,
    pub profile_status: Option<u16>,
    pub profile_garbage: bool,
    pub profile_delay: Option<Duration>,
    /// Served as the profile body instead of the chosen profile.
    pub profile_raw: Option<String>,
    /// Refuse every refresh token (`invalid_grant`), as PeeringDB does for
    /// one that expired or was revoked.
    pub refresh_refused: bool,
    /// Issue no refresh token with an authorization code.
    pub no_refresh_tokens: bool,
    /// Served as the token endpoint's body (a valid JSON of any size, say).
    pub token_raw: Option<String>,
}

struct Grant {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    scopes: Vec<String>,
    profile: usize,
    issued: Instant,
}

struct Token {
    scopes: Vec<String>,
    profile: usize,
}

pub struct SimState {
    config: SimConfig,
    profiles: Mutex<Vec<Value>>,
    codes: Mutex<HashMap<String, Grant>>,
    tokens: Mutex<HashMap<String, Token>>,
    /// Refresh tokens: single use, each use issues a new one (rotation).
    refresh: Mutex<HashMap<String, Token>>,
    refresh_grants: std::sync::atomic::AtomicUsize,
    faults: Mutex<Faults>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A handle on a running simulator's state.
#[derive(Clone)]
pub struct Simulator(Arc<SimState>);

impl Simulator {
    pub fn new(config: SimConfig, profiles: Vec<Value>) -> Simulator {
        Simulator(Arc::new(SimState {
            config,
            profiles: Mutex::new(profiles),
            codes: Mutex::new(HashMap::new()),
            tokens: Mutex::new(HashMap::new()),
            refresh: Mutex::new(HashMap::new()),
            refresh_grants: std::sync::atomic::AtomicUsize::new(0),
            faults: Mutex::new(Faults::default()),
        }))
    }
    pub fn set_profiles(&self, profiles: Vec<Value>) {
        *lock(&self.0.profiles) = profiles;
    }
    pub fn set_profile(&self, index: usize, profile: Value) {
        let mut p = lock(&self.0.profiles);
        if index < p.len() {
            p[index] = profile;
        }
    }
    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.0.faults) = faults;
    }
    /// How many refresh-token grants the token endpoint has answered
    /// (refused ones included).
    pub fn refresh_grants(&self) -> usize {
        self.0
            .refresh_grants
            .load(std::sync::atomic::Ordering::SeqCst)
    }
    /// The refresh tokens that are still valid.
    pub fn live_refresh_tokens(&self) -> Vec<String> {
        lock(&self.0.refresh).keys().cloned().collect()
    }

    /// Binds (port 0 picks a free port) and builds the server.
    pub fn start(&self, bind: SocketAddr) -> anyhow::Result<crate::web::Running> {
        let listener =
            TcpListener::bind(bind).map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;
        let addr = listener.local_addr()?;
        let data = web::Data::from(self.0.clone());
        let server = HttpServer::new(move || {
            actix_web::App::new()
                .app_data(data.clone())
                .route("/oauth2/authorize/", web::get().to(authorize))
                .route("/oauth2/token/", web::post().to(token))
                .route("/profile/v1", web::get().to(profile))
        })
        .workers(2)
        .listen(listener)?
        .shutdown_timeout(1)
        .run();
        Ok(crate::web::Running { addr, server })
    }
}

fn oauth_error(status: u16, error: &str, description: &str) -> HttpResponse {
    HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST),
    )
    .json(serde_json::json!({"error": error, "error_description": description}))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn with_params(base: &str, params: &[(&str, &str)]) -> Option<String> {
    let mut url = url::Url::parse(base).ok()?;
    url.query_pairs_mut().extend_pairs(params);
    Some(url.to_string())
}

async fn authorize(
    state: web::Data<SimState>,
    q: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    if get("response_type") != "code" {
        return HttpResponse::BadRequest().body("response_type must be code");
    }
    if get("client_id") != state.config.client_id {
        return HttpResponse::BadRequest().body("unknown client_id");
    }
    let redirect = get("redirect_uri");
    let redirect_ok = if state.config.redirect_uris.is_empty() {
        redirect.starts_with("http://") || redirect.starts_with("https://")
    } else {
        state.config.redirect_uris.iter().any(|r| r == redirect)
    };
    if !redirect_ok {
        return HttpResponse::BadRequest().body("redirect_uri is not registered for this client");
    }
    if get("code_challenge_method") != "S256" || get("code_challenge").is_empty() {
        return HttpResponse::BadRequest().body("PKCE with S256 is required");
    }
    let st = get("state");
    if q.contains_key("deny") {
        return match with_params(redirect, &[("error", "access_denied"), ("state", st)]) {
            Some(to) => HttpResponse::Found()
                .insert_header(("Location", to))
                .finish(),
            None => HttpResponse::BadRequest().finish(),
        };
    }
    let count = lock(&state.profiles).len();
    if let Some(index) = q
        .get("user")
        .and_then(|u| u.parse::<usize>().ok())
        .filter(|i| *i < count)
    {
        let code = random_token();
        lock(&state.codes).insert(
            code.clone(),
            Grant {
                client_id: get("client_id").to_string(),
                redirect_uri: redirect.to_string(),
                challenge: get("code_challenge").to_string(),
                scopes: get("scope")
                    .split_whitespace()
                    .map(str::to_string)
                    .collect(),
                profile: index,
                issued: Instant::now(),
            },
        );
        return match with_params(redirect, &[("code", &code), ("state", st)]) {
            Some(to) => HttpResponse::Found()
                .insert_header(("Location", to))
                .finish(),
            None => HttpResponse::BadRequest().finish(),
        };
    }
    // The page where a developer picks who they are.
    let mut rows = String::new();
    // The page where a developer picks who they are (the only place that
    // needs the profiles themselves).
    let profiles = lock(&state.profiles).clone();
    for (i, p) in profiles.iter().enumerate() {
        let name = p.get("name").and_then(Value::as_str).unwrap_or("(no name)");
        let nets: Vec<String> = p
            .get("networks")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|n| {
                        format!(
                            "AS{}",
                            n.get("asn").map(|v| v.to_string()).unwrap_or_default()
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let note = p.get("_note").and_then(Value::as_str).unwrap_or("");
        let mut params: Vec<(&str, &str)> =
            q.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let idx = i.to_string();
        params.push(("user", &idx));
        let link = format!(
            "/oauth2/authorize/?{}",
            serde_urlencoded::to_string(&params).unwrap_or_default()
        );
        rows.push_str(&format!(
            "<li><a class=\"pick\" id=\"pick-{i}\" href=\"{}\">{}</a><br><small>{} · {}</small></li>",
            esc(&link),
            esc(name),
            esc(&nets.join(", ")),
            esc(note)
        ));
    }
    let mut deny: Vec<(&str, &str)> = q.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    deny.push(("deny", "1"));
    let deny = format!(
        "/oauth2/authorize/?{}",
        serde_urlencoded::to_string(&deny).unwrap_or_default()
    );
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(format!(
        "<!doctype html><html><head><meta charset=utf-8><title>PeeringDB simulator</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:640px;margin:2rem auto;padding:0 1rem}}\
         li{{margin:.8rem 0}} a.pick{{font-weight:600}} .app{{background:#eef3fb;padding:.8rem;border-radius:6px}}</style></head>\
         <body><h1>PeeringDB simulator</h1><p class=app>The application <b>{}</b> asks for: {}.</p>\
         <p>Sign in as:</p><ul>{rows}</ul><p><a id=deny href=\"{}\">Deny access</a></p></body></html>",
        esc(get("client_id")),
        esc(get("scope")),
        esc(&deny)
    ))
}

fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

async fn token(state: web::Data<SimState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let faults = lock(&state.faults).clone();
    if let Some(d) = faults.token_delay {
        tokio::time::sleep(d).await;
    }
    if let Some(status) = faults.token_status {
        return oauth_error(status, "server_error", "injected fault");
    }
    if faults.token_garbage {
        return HttpResponse::Ok()
            .content_type("application/json")
            .body("<html>not json");
    }
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    // Like PeeringDB: client credentials in the body; HTTP Basic is refused.
    if req.headers().contains_key("authorization") && !form.contains_key("client_secret") {
        return oauth_error(401, "invalid_client", "use client_secret_post");
    }
    if get("client_id") != state.config.client_id
        || !constant_time_eq(
            get("client_secret").as_bytes(),
            state.config.client_secret.as_bytes(),
        )
    {
        return oauth_error(401, "invalid_client", "bad client credentials");
    }
    if let Some(raw) = faults.token_raw {
        return HttpResponse::Ok()
            .content_type("application/json")
            .body(raw);
    }
    if get("grant_type") == "refresh_token" {
        state
            .refresh_grants
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if faults.refresh_refused {
            lock(&state.refresh).clear();
            return oauth_error(400, "invalid_grant", "refresh token expired or revoked");
        }
        // Single use: the token is spent and a new one issued (rotation).
        let Some(old) = lock(&state.refresh).remove(get("refresh_token")) else {
            return oauth_error(400, "invalid_grant", "unknown or used refresh token");
        };
        return issue(&state, old.scopes, old.profile, true);
    }
    if get("grant_type") != "authorization_code" {
        return oauth_error(
            400,
            "unsupported_grant_type",
            "authorization_code or refresh_token",
        );
    }
    let Some(grant) = lock(&state.codes).remove(get("code")) else {
        return oauth_error(400, "invalid_grant", "unknown or used code");
    };
    if grant.issued.elapsed() > CODE_LIFETIME {
        return oauth_error(400, "invalid_grant", "code expired");
    }
    if grant.client_id != get("client_id") || grant.redirect_uri != get("redirect_uri") {
        return oauth_error(
            400,
            "invalid_grant",
            "code issued to another client or redirect URI",
        );
    }
    if !constant_time_eq(
        s256(get("code_verifier")).as_bytes(),
        grant.challenge.as_bytes(),
    ) {
        return oauth_error(400, "invalid_grant", "PKCE verification failed");
    }
    issue(
        &state,
        grant.scopes,
        grant.profile,
        !faults.no_refresh_tokens,
    )
}

/// A token response: an access token and, when asked, a refresh token.
fn issue(state: &SimState, scopes: Vec<String>, profile: usize, refresh: bool) -> HttpResponse {
    let access = random_token();
    let scope = scopes.join(" ");
    let mut body = serde_json::json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": 36000,
        "scope": scope,
    });
    if refresh {
        let r = random_token();
        lock(&state.refresh).insert(
            r.clone(),
            Token {
                scopes: scopes.clone(),
                profile,
            },
        );
        body["refresh_token"] = Value::String(r);
    }
    lock(&state.tokens).insert(access, Token { scopes, profile });
    HttpResponse::Ok().json(body)
}

/// The profile as the granted scopes show it.
fn filtered(profile: &Value, scopes: &[String]) -> Value {
    let Some(obj) = profile.as_object() else {
        return profile.clone();
    };
    let has = |s: &str| scopes.iter().any(|x| x == s);
    let mut out = serde_json::Map::new();
    for (k, v) in obj {
        let keep = match k.as_str() {
            "id" => true,
            "name" | "given_name" | "family_name" | "verified_user" => has("profile"),
            "email" | "verified_email" => has("email"),
            "networks" => has("networks"),
            "amr" => has("amr"),
            k if k.starts_with('_') => false,
            _ => has("profile"),
        };
        if keep {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

async fn profile(state: web::Data<SimState>, req: HttpRequest) -> HttpResponse {
    let faults = lock(&state.faults).clone();
    if let Some(d) = faults.profile_delay {
        tokio::time::sleep(d).await;
    }
    if let Some(status) = faults.profile_status {
        return oauth_error(status, "server_error", "injected fault");
    }
    if faults.profile_garbage {
        return HttpResponse::Ok()
            .content_type("application/json")
            .body("{\"id\": 3, \"name\":");
    }
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let grant = lock(&state.tokens)
        .get(bearer)
        .map(|t| (t.scopes.clone(), t.profile));
    let Some((scopes, index)) = grant else {
        return oauth_error(401, "invalid_token", "unknown bearer token");
    };
    if let Some(raw) = faults.profile_raw {
        return HttpResponse::Ok()
            .content_type("application/json")
            .body(raw);
    }
    let p = lock(&state.profiles)
        .get(index)
        .cloned()
        .unwrap_or(Value::Null);
    HttpResponse::Ok().json(filtered(&p, &scopes))
}

/// `ixp-portal fake-peeringdb`.
pub fn run_cli(
    bind: &str,
    client_id: &str,
    client_secret: &str,
    profiles: &std::path::Path,
) -> anyhow::Result<()> {
    let bind: SocketAddr = bind
        .parse()
        .map_err(|_| anyhow::anyhow!("--bind {bind:?} is not an address such as 127.0.0.1:8081"))?;
    let text = std::fs::read_to_string(profiles)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", profiles.display()))?;
    let list: Vec<Value> = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a JSON array of profiles: {e}",
            profiles.display()
        )
    })?;
    let sim = Simulator::new(
        SimConfig {
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
            redirect_uris: Vec::new(),
        },
        list,
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let running = sim.start(bind)?;
        tracing::info!(address = %running.addr, "PeeringDB simulator listening");
        println!(
            "PeeringDB simulator on http://{}  (client id {client_id:?})",
            running.addr
        );
        running.server.await?;
        Ok(())
    })
}
