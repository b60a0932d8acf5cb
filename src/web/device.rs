//! The device cookie of SPEC §8: a browser that signed in to an account
//! holds a random token for it, and when that account is locked out after
//! failed password sign-ins, such a browser still gets its own tries.
//!
//! One cookie holds the tokens of the last few accounts the browser signed
//! in to (a token per account, made by the portal at a successful sign-in,
//! never one the browser brought), dot-separated. The database keeps only
//! each token's SHA-256 with its account, so a token of account A is
//! worth nothing for account B.
use super::ctx::Ctx;
use super::error::AppError;
use crate::auth::token;
use crate::db::login_throttle::{self, DEVICE_DAYS};
use crate::db::models::now;
use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time};

pub const COOKIE: &str = "ixp_portal_device";
/// Tokens of at most this many accounts per browser.
const MAX_TOKENS: usize = 5;
/// The length of `token::random_token()`: 32 bytes in base64url.
const TOKEN_LEN: usize = 43;

/// The well-formed tokens this browser sent, newest first.
pub fn tokens(req: &HttpRequest) -> Vec<String> {
    let Some(c) = req.cookie(COOKIE) else {
        return Vec::new();
    };
    parse(c.value())
}

fn parse(value: &str) -> Vec<String> {
    value
        .split('.')
        .filter(|t| {
            t.len() == TOKEN_LEN
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .take(MAX_TOKENS)
        .map(str::to_string)
        .collect()
}

/// What the database knows the tokens by.
pub fn hashes(tokens: &[String]) -> Vec<String> {
    tokens.iter().map(|t| token::digest(t)).collect()
}

/// The hash of this browser's device token for the user, when it holds a
/// valid one (inside the caller's connection).
pub fn valid_for(
    c: &mut crate::db::DbConnection,
    user_id: i64,
    tokens: &[String],
) -> Result<Option<String>, diesel::result::Error> {
    login_throttle::device_of(c, user_id, &hashes(tokens), now())
}

/// After a successful sign-in: remembers this browser for the user (its
/// token for the user if it holds one, else a new one) and returns the
/// cookie to set, with that token first.
pub async fn remember(
    ctx: &Ctx,
    req: &HttpRequest,
    user_id: i64,
) -> Result<Cookie<'static>, AppError> {
    let held = tokens(req);
    let sent = held.clone();
    let fresh = token::random_token();
    let fresh_hash = token::digest(&fresh);
    let kept = ctx
        .app
        .db
        .run(move |c| -> Result<Option<String>, AppError> {
            let valid = valid_for(c, user_id, &sent)?;
            let hash = valid.clone().unwrap_or(fresh_hash);
            login_throttle::remember_device(c, user_id, &hash, now())?;
            Ok(valid)
        })
        .await?;
    let own = kept
        .and_then(|h| held.iter().find(|t| token::digest(t) == h).cloned())
        .unwrap_or(fresh);
    Ok(cookie(ctx.app.config.https(), &own, &held))
}

/// The cookie: `own` first, then the browser's other tokens.
fn cookie(https: bool, own: &str, held: &[String]) -> Cookie<'static> {
    let value: Vec<&str> = std::iter::once(own)
        .chain(held.iter().map(String::as_str).filter(|t| *t != own))
        .take(MAX_TOKENS)
        .collect();
    Cookie::build(COOKIE, value.join("."))
        .path("/")
        .http_only(true)
        .secure(https)
        .same_site(SameSite::Lax)
        .max_age(time::Duration::days(DEVICE_DAYS))
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_keeps_well_formed_tokens_only() {
        let a = token::random_token();
        let b = token::random_token();
        let v = format!("{a}.garbage.{b}.{}", "x".repeat(44));
        assert_eq!(parse(&v), vec![a.clone(), b.clone()]);
        assert!(parse("").is_empty());
        let many: Vec<String> = (0..9).map(|_| token::random_token()).collect();
        assert_eq!(parse(&many.join(".")).len(), MAX_TOKENS);
    }

    #[test]
    fn cookie_puts_the_account_token_first_and_keeps_a_few() {
        let held: Vec<String> = (0..MAX_TOKENS).map(|_| token::random_token()).collect();
        let own = token::random_token();
        let c = cookie(true, &own, &held);
        let got = parse(c.value());
        assert_eq!(got[0], own);
        assert_eq!(got.len(), MAX_TOKENS);
        assert_eq!(c.http_only(), Some(true));
        assert_eq!(c.secure(), Some(true));
        assert_eq!(c.same_site(), Some(SameSite::Lax));
        // A token held already moves to the front, without a duplicate.
        let c = cookie(false, &held[2], &held);
        let got = parse(c.value());
        assert_eq!(got[0], held[2]);
        assert_eq!(got.iter().filter(|t| **t == held[2]).count(), 1);
        assert_eq!(c.secure(), Some(false));
    }
}
