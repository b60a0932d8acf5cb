//! The OAuth client for PeeringDB: authorization URL with state and PKCE,
//! code exchange (client credentials in the form body), and the profile.
use super::profile::{MAX_PROFILE_BYTES, Profile, ProfileError};
use crate::config::PeeringDbConfig;
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AsyncHttpClient, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointNotSet, EndpointSet, HttpRequest, HttpResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RefreshToken, RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

type OAuthClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// How long any call to PeeringDB may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The most a token or profile response may carry (SPEC §8).
pub const MAX_RESPONSE_BYTES: usize = MAX_PROFILE_BYTES;

#[derive(Clone)]
pub struct PeeringDbClient {
    oauth: OAuthClient,
    http: LimitedHttp,
    profile_url: url::Url,
    scopes: Vec<&'static str>,
}

/// Why the exchange with PeeringDB failed; `Display` is for the log.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("token request failed: {0}")]
    Token(String),
    #[error("profile request failed: {0}")]
    ProfileHttp(String),
    #[error("profile request answered HTTP {0}")]
    ProfileStatus(u16),
    #[error("profile is malformed: {0}")]
    Profile(#[from] ProfileError),
    /// The provider refused the refresh token (`invalid_grant`): it is
    /// expired or revoked, and will never work again.
    #[error("the refresh token was refused (invalid_grant)")]
    RefreshRefused,
}

/// What a token exchange brought: the profile, and the refresh token when
/// the provider issued one.
#[derive(Debug)]
pub struct Fetched {
    pub profile: Profile,
    pub refresh_token: Option<String>,
}

/// What a refresh brought: the rotated refresh token (if any), and the
/// profile or why it could not be read.
#[derive(Debug)]
pub struct Refreshed {
    pub refresh_token: Option<String>,
    pub profile: Result<Profile, ProviderError>,
}

/// Why reading a response body stopped.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the response is larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
    #[error("{0}")]
    Http(String),
}

/// Reads a body up to `MAX_RESPONSE_BYTES`, refusing more before it arrives.
async fn read_limited(mut resp: reqwest::Response) -> Result<Vec<u8>, BodyError> {
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| BodyError::Http(e.without_url().to_string()))?
    {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The HTTP client the OAuth exchanges go through: reqwest (no redirects,
/// a timeout) with the body size limited, which the oauth2 crate's own
/// reqwest client does not do.
#[derive(Clone)]
pub struct LimitedHttp(reqwest::Client);

impl<'c> AsyncHttpClient<'c> for LimitedHttp {
    type Error = BodyError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, BodyError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        let exchange = async move {
            let request: reqwest::Request = request
                .try_into()
                .map_err(|e: reqwest::Error| BodyError::Http(e.without_url().to_string()))?;
            let resp = self
                .0
                .execute(request)
                .await
                .map_err(|e| BodyError::Http(e.without_url().to_string()))?;
            let mut builder = oauth2::http::Response::builder().status(resp.status());
            for (name, value) in resp.headers() {
                builder = builder.header(name, value);
            }
            let body = read_limited(resp).await?;
            builder
                .body(body)
                .map_err(|e| BodyError::Http(e.to_string()))
        };
        // Timed and counted as the `token` endpoint (issue 14).
        let observed = crate::observability::metrics::token_outcome;
        Box::pin(crate::observability::metrics::provider_call(
            "token", exchange, observed,
        ))
    }
}

fn endpoint(base: &url::Url, path: &str) -> Result<url::Url, String> {
    let base = base.as_str().trim_end_matches('/');
    url::Url::parse(&format!("{base}{path}")).map_err(|e| e.to_string())
}

impl PeeringDbClient {
    pub fn new(cfg: &PeeringDbConfig) -> anyhow::Result<PeeringDbClient> {
        Self::with_timeout(cfg, TIMEOUT)
    }

    pub fn with_timeout(
        cfg: &PeeringDbConfig,
        timeout: Duration,
    ) -> anyhow::Result<PeeringDbClient> {
        let auth = endpoint(&cfg.base_url, "/oauth2/authorize/").map_err(anyhow::Error::msg)?;
        let token = endpoint(&cfg.base_url, "/oauth2/token/").map_err(anyhow::Error::msg)?;
        let profile_url = endpoint(&cfg.base_url, "/profile/v1").map_err(anyhow::Error::msg)?;
        let oauth = BasicClient::new(ClientId::new(cfg.client_id.clone()))
            .set_client_secret(ClientSecret::new(cfg.client_secret.clone()))
            .set_auth_uri(AuthUrl::from_url(auth))
            .set_token_uri(TokenUrl::from_url(token))
            .set_redirect_uri(RedirectUrl::from_url(cfg.redirect.clone()))
            // PeeringDB refuses HTTP Basic client authentication.
            .set_auth_type(AuthType::RequestBody);
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .user_agent(concat!("ixp-portal/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let http = LimitedHttp(http);
        // `amr` always: it tells whether PeeringDB's own sign-in used a
        // second factor, which decides whether ours is asked for (SPEC §7).
        let scopes = vec!["profile", "email", "networks", "amr"];
        Ok(PeeringDbClient {
            oauth,
            http,
            profile_url,
            scopes,
        })
    }

    /// The URL to send the browser to, the state and the PKCE verifier to
    /// keep in the session.
    pub fn authorize(&self) -> (url::Url, String, String) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut req = self
            .oauth
            .authorize_url(CsrfToken::new_random)
            .set_pkce_challenge(challenge);
        for s in &self.scopes {
            req = req.add_scope(Scope::new(s.to_string()));
        }
        let (url, state) = req.url();
        (url, state.secret().clone(), verifier.secret().clone())
    }

    /// Exchanges the code and reads the profile; keeps the refresh token.
    pub async fn fetch_profile(
        &self,
        code: &str,
        verifier: &str,
    ) -> Result<Fetched, ProviderError> {
        let token = self
            .oauth
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_string()))
            .request_async(&self.http)
            .await
            .map_err(|e| ProviderError::Token(describe_token_error(&e)))?;
        let profile = self.read_profile(token.access_token().secret()).await?;
        Ok(Fetched {
            profile,
            refresh_token: token.refresh_token().map(|t| t.secret().clone()),
        })
    }

    /// The re-check of SPEC §6.3: a `refresh_token` grant (client
    /// credentials in the body), then the profile. The provider may rotate
    /// the refresh token: the new one comes back even when the profile
    /// request then fails, since the old one is spent.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Refreshed, ProviderError> {
        let token = self
            .oauth
            .exchange_refresh_token(&RefreshToken::new(refresh_token.to_string()))
            .request_async(&self.http)
            .await
            .map_err(|e| match &e {
                RequestTokenError::ServerResponse(r)
                    if *r.error() == BasicErrorResponseType::InvalidGrant =>
                {
                    ProviderError::RefreshRefused
                }
                _ => ProviderError::Token(describe_token_error(&e)),
            })?;
        Ok(Refreshed {
            refresh_token: token.refresh_token().map(|t| t.secret().clone()),
            profile: self.read_profile(token.access_token().secret()).await,
        })
    }

    /// Exchanges a code that a third party obtained for this portal's OAuth
    /// application (the Peering API's `/auth`): the redirect URI it used,
    /// and its PKCE verifier when it used PKCE. Reads the profile.
    pub async fn exchange_code_for(
        &self,
        code: &str,
        redirect_uri: &str,
        verifier: Option<&str>,
    ) -> Result<Profile, ProviderError> {
        let redirect = RedirectUrl::new(redirect_uri.to_string())
            .map_err(|e| ProviderError::Token(format!("redirect_uri: {e}")))?;
        let mut req = self
            .oauth
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .set_redirect_uri(std::borrow::Cow::Owned(redirect));
        if let Some(v) = verifier {
            req = req.set_pkce_verifier(PkceCodeVerifier::new(v.to_string()));
        }
        let token = req
            .request_async(&self.http)
            .await
            .map_err(|e| ProviderError::Token(describe_token_error(&e)))?;
        self.read_profile(token.access_token().secret()).await
    }

    /// Timed and counted as the `profile` endpoint (issue 14).
    async fn read_profile(&self, access_token: &str) -> Result<Profile, ProviderError> {
        let observed = crate::observability::metrics::profile_outcome;
        crate::observability::metrics::provider_call(
            "profile",
            self.read_profile_unobserved(access_token),
            observed,
        )
        .await
    }

    async fn read_profile_unobserved(&self, access_token: &str) -> Result<Profile, ProviderError> {
        let resp = self
            .http
            .0
            .get(self.profile_url.clone())
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(|e| ProviderError::ProfileHttp(e.without_url().to_string()))?;
        if !resp.status().is_success() {
            return Err(ProviderError::ProfileStatus(resp.status().as_u16()));
        }
        let body = read_limited(resp).await.map_err(|e| match e {
            BodyError::TooLarge => ProviderError::Profile(ProfileError::TooLarge),
            BodyError::Http(e) => ProviderError::ProfileHttp(e),
        })?;
        Ok(Profile::parse(&body)?)
    }
}

/// A token error for the log: the kind and status, never the secret.
fn describe_token_error<E: std::error::Error>(e: &E) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}
