//! Peering API bearer tokens: portal tokens made from a PeeringDB
//! authorization code (expiring), and API keys a custadmin makes for their
//! customer (revocable). Only the SHA-256 of a token is stored.
use super::DbConnection;
use super::models::now;
use super::schema::api_tokens;
use crate::domain::Asn;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::Error;

pub const KIND_PEERINGDB: &str = "peeringdb";
pub const KIND_API_KEY: &str = "apikey";
pub const KIND_STAFF_KEY: &str = "staffkey";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: i64,
    pub token_hash: String,
    pub kind: String,
    pub name: String,
    pub peeringdb_user_id: Option<i64>,
    pub customer_id: Option<i64>,
    /// ASNs the holder may act for (comma-separated).
    pub allowed_asns: String,
    /// The holder's other PeeringDB networks, without the session permission.
    pub other_asns: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn parse_asns(s: &str) -> Vec<Asn> {
    s.split(',').filter_map(|a| a.trim().parse().ok()).collect()
}

pub fn join_asns(list: &[Asn]) -> String {
    list.iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

impl ApiToken {
    pub fn allowed(&self) -> Vec<Asn> {
        parse_asns(&self.allowed_asns)
    }
    pub fn others(&self) -> Vec<Asn> {
        parse_asns(&self.other_asns)
    }
    pub fn is_usable(&self, at: NaiveDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > at)
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = api_tokens)]
pub struct NewApiToken<'a> {
    pub token_hash: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub peeringdb_user_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub allowed_asns: &'a str,
    pub other_asns: &'a str,
    pub created_by: &'a str,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, t: &NewApiToken<'_>) -> Result<i64, Error> {
    diesel::insert_into(api_tokens::table)
        .values(t)
        .returning(api_tokens::id)
        .get_result(conn)
}

pub fn by_hash(conn: &mut DbConnection, hash: &str) -> Result<Option<ApiToken>, Error> {
    api_tokens::table
        .filter(api_tokens::token_hash.eq(hash))
        .select(ApiToken::as_select())
        .first(conn)
        .optional()
}

pub fn touch(conn: &mut DbConnection, id: i64) -> Result<usize, Error> {
    diesel::update(api_tokens::table.find(id))
        .set(api_tokens::last_used_at.eq(Some(now())))
        .execute(conn)
}

/// Forces a token past its expiry (for tests and for revoking a login).
pub fn expire(conn: &mut DbConnection, id: i64, at: NaiveDateTime) -> Result<usize, Error> {
    diesel::update(api_tokens::table.find(id))
        .set(api_tokens::expires_at.eq(Some(at)))
        .execute(conn)
}

pub fn keys_of_customer(conn: &mut DbConnection, customer_id: i64) -> Result<Vec<ApiToken>, Error> {
    api_tokens::table
        .filter(api_tokens::customer_id.eq(customer_id))
        .filter(api_tokens::kind.eq(KIND_API_KEY))
        .select(ApiToken::as_select())
        .order(api_tokens::id.desc())
        .load(conn)
}

pub fn revoke(conn: &mut DbConnection, id: i64) -> Result<usize, Error> {
    diesel::update(api_tokens::table.find(id))
        .filter(api_tokens::revoked_at.is_null())
        .set(api_tokens::revoked_at.eq(Some(now())))
        .execute(conn)
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<ApiToken>, Error> {
    api_tokens::table
        .find(id)
        .select(ApiToken::as_select())
        .first(conn)
        .optional()
}

pub fn staff_keys(conn: &mut DbConnection) -> Result<Vec<ApiToken>, Error> {
    api_tokens::table
        .filter(api_tokens::kind.eq(KIND_STAFF_KEY))
        .select(ApiToken::as_select())
        .order(api_tokens::id.desc())
        .load(conn)
}

/// Drops portal tokens from `/auth` that expired before `before` (API keys
/// are kept: their revocation is history the portal shows).
pub fn purge_expired(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize, Error> {
    diesel::delete(
        api_tokens::table
            .filter(api_tokens::kind.eq(KIND_PEERINGDB))
            .filter(api_tokens::expires_at.lt(before)),
    )
    .execute(conn)
}

// The PKCE verifiers of `/auth` flows the portal starts itself
// (`GET /auth/start`, answered at `GET /auth?code=&state=`): the state's
// SHA-256, the SHA-256 of the browser's cookie nonce, and the verifier
// sealed with the portal's secret key. Single use, ten minutes. Declared
// here rather than in `schema.rs`: only the Peering API reads it.
diesel::table! {
    peering_api_auth_states (state_hash) {
        state_hash -> Text,
        browser_hash -> Text,
        verifier -> Text,
        created_at -> Timestamp,
    }
}

/// How long a started `/auth` flow may take.
pub const AUTH_STATE_LIFETIME_SECS: i64 = 600;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = peering_api_auth_states)]
pub struct AuthState {
    pub state_hash: String,
    pub browser_hash: String,
    pub verifier: String,
    pub created_at: NaiveDateTime,
}

/// Stores a started flow, dropping those that expired.
pub fn insert_auth_state(conn: &mut DbConnection, s: &AuthState) -> Result<(), Error> {
    let before = s.created_at - chrono::Duration::seconds(AUTH_STATE_LIFETIME_SECS);
    diesel::delete(
        peering_api_auth_states::table.filter(peering_api_auth_states::created_at.lt(before)),
    )
    .execute(conn)?;
    diesel::insert_into(peering_api_auth_states::table)
        .values(s)
        .execute(conn)?;
    Ok(())
}

pub fn auth_state(conn: &mut DbConnection, state_hash: &str) -> Result<Option<AuthState>, Error> {
    peering_api_auth_states::table
        .find(state_hash)
        .select(AuthState::as_select())
        .first(conn)
        .optional()
}

impl AuthState {
    /// Its code came back already (the row stays until it expires, so that
    /// a replay is told so).
    pub fn used(&self) -> bool {
        self.verifier.is_empty()
    }
}

/// Uses up a started flow (forgetting its verifier): true for the one
/// caller that did.
pub fn take_auth_state(conn: &mut DbConnection, state_hash: &str) -> Result<bool, Error> {
    Ok(diesel::update(
        peering_api_auth_states::table
            .find(state_hash)
            .filter(peering_api_auth_states::verifier.ne("")),
    )
    .set(peering_api_auth_states::verifier.eq(""))
    .execute(conn)?
        == 1)
}
