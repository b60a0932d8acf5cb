//! API keys for the Peering API (a custadmin's, for their customer) and
//! staff keys (for tools such as the route-server configuration builder).
//! A key is shown once; only its SHA-256 is stored; revocation is final.
use super::AdminError;
use crate::auth::token::{digest, random_token};
use crate::db::api_tokens::{self, ApiToken, KIND_API_KEY, KIND_STAFF_KEY, NewApiToken};
use crate::db::models::{Customer, now};
use crate::db::{DbConnection, audit, write_tx};

/// Creates a key; returns its id and the key itself (to show once).
pub fn create(
    conn: &mut DbConnection,
    actor: &str,
    customer: Option<&Customer>,
    name: &str,
) -> Result<(i64, String), AdminError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AdminError::Field {
            field: "name",
            message: "give the key a name of 1 to 100 characters (what uses it)".into(),
        });
    }
    let key = format!("ixpk_{}", random_token());
    let hash = digest(&key);
    let (kind, customer_id, asns, subject) = match customer {
        Some(c) => (
            KIND_API_KEY,
            Some(c.id),
            c.autsys.to_string(),
            c.shortname.clone(),
        ),
        None => (KIND_STAFF_KEY, None, String::new(), "staff".to_string()),
    };
    let id = write_tx(conn, |c| {
        let id = api_tokens::insert(
            c,
            &NewApiToken {
                token_hash: &hash,
                kind,
                name,
                peeringdb_user_id: None,
                customer_id,
                allowed_asns: &asns,
                other_asns: "",
                created_by: actor,
                created_at: now(),
                expires_at: None,
            },
        )?;
        audit::record(
            c,
            actor,
            "api_key.create",
            &subject,
            &format!("{kind} {id} {name:?}"),
        )?;
        Ok::<_, AdminError>(id)
    })?;
    Ok((id, key))
}

/// Revokes a key of this customer (or a staff key, with `None`).
pub fn revoke(
    conn: &mut DbConnection,
    actor: &str,
    customer: Option<&Customer>,
    id: i64,
) -> Result<ApiToken, AdminError> {
    write_tx(conn, |c| {
        let key = api_tokens::find(c, id)?
            .filter(|k| match customer {
                Some(cu) => k.kind == KIND_API_KEY && k.customer_id == Some(cu.id),
                None => k.kind == KIND_STAFF_KEY,
            })
            .ok_or_else(|| AdminError::NotFound("no such API key".into()))?;
        if key.revoked_at.is_none() {
            api_tokens::revoke(c, id)?;
            audit::record(
                c,
                actor,
                "api_key.revoke",
                &customer
                    .map(|c| c.shortname.clone())
                    .unwrap_or_else(|| "staff".into()),
                &format!("{} {} {:?}", key.kind, key.id, key.name),
            )?;
        }
        api_tokens::find(c, id)?.ok_or_else(|| AdminError::NotFound("no such API key".into()))
    })
}
