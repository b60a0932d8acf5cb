//! The OAuth client for PeeringDB: authorization URL with state and PKCE,
//! code exchange (client credentials in the form body), and the profile.
use super::profile::{MAX_PROFILE_BYTES, Profile, ProfileError};
use crate::config::PeeringDbConfig;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use std::time::Duration;

type OAuthClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// How long any call to PeeringDB may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct PeeringDbClient {
    oauth: OAuthClient,
    http: reqwest::Client,
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
        let mut scopes = vec!["profile", "email", "networks"];
        if cfg.require_mfa {
            scopes.push("amr");
        }
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

    /// Exchanges the code and reads the profile.
    pub async fn fetch_profile(
        &self,
        code: &str,
        verifier: &str,
    ) -> Result<Profile, ProviderError> {
        let token = self
            .oauth
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_string()))
            .request_async(&self.http)
            .await
            .map_err(|e| ProviderError::Token(describe_token_error(&e)))?;
        self.read_profile(token.access_token().secret()).await
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

    async fn read_profile(&self, access_token: &str) -> Result<Profile, ProviderError> {
        let mut resp = self
            .http
            .get(self.profile_url.clone())
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(|e| ProviderError::ProfileHttp(e.without_url().to_string()))?;
        if !resp.status().is_success() {
            return Err(ProviderError::ProfileStatus(resp.status().as_u16()));
        }
        if resp
            .content_length()
            .is_some_and(|n| n > MAX_PROFILE_BYTES as u64)
        {
            return Err(ProfileError::TooLarge.into());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| ProviderError::ProfileHttp(e.without_url().to_string()))?
        {
            if body.len() + chunk.len() > MAX_PROFILE_BYTES {
                return Err(ProfileError::TooLarge.into());
            }
            body.extend_from_slice(&chunk);
        }
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
