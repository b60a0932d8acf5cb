//! actix-session's `SessionStore` over the portal's database (SPEC §7):
//! the cookie carries only a random key (256 bits, signed); the state lives
//! in the `sessions` table, found by the key's SHA-256, on SQLite and
//! PostgreSQL alike, so that every instance behind a load balancer sees
//! the same sessions and a deleted row ends a session everywhere.
use super::session::{ADDR, CREATED, SID, SIGNED_IN_KEYS, UA, UID};
use crate::auth::token::{digest, random_token};
use crate::db::{Db, DbError, sessions};
use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;
use std::collections::HashMap;

type State = HashMap<String, String>;

#[derive(Clone)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> DbSessionStore {
        DbSessionStore { db }
    }
}

fn ttl_of(ttl: &Duration) -> chrono::Duration {
    chrono::Duration::seconds(ttl.whole_seconds().max(1))
}

/// A value of the state as actix-session keeps it (JSON), decoded.
fn value<T: serde::de::DeserializeOwned>(state: &State, key: &str) -> Option<T> {
    state.get(key).and_then(|v| serde_json::from_str(v).ok())
}

/// The columns kept beside the state, read from it.
struct Columns {
    user_id: Option<i64>,
    sid: String,
    address: String,
    user_agent: String,
    created_at: chrono::NaiveDateTime,
}

impl Columns {
    /// The columns as the table's functions take them.
    fn meta(&self) -> sessions::Meta<'_> {
        sessions::Meta {
            user_id: self.user_id,
            sid: &self.sid,
            address: &self.address,
            user_agent: &self.user_agent,
            created_at: self.created_at,
        }
    }
}

fn columns(state: &State) -> Columns {
    let user_id = value::<i64>(state, UID);
    Columns {
        user_id,
        sid: value::<String>(state, SID).unwrap_or_default(),
        address: value::<String>(state, ADDR).unwrap_or_default(),
        user_agent: value::<String>(state, UA).unwrap_or_default(),
        created_at: value::<i64>(state, CREATED)
            .filter(|_| user_id.is_some())
            .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
            .map(|t| t.naive_utc())
            .unwrap_or_else(crate::db::models::now),
    }
}

fn encode(state: &State) -> Result<String, anyhow::Error> {
    Ok(serde_json::to_string(state)?)
}

impl DbSessionStore {
    async fn insert(
        &self,
        state: State,
        ttl: chrono::Duration,
    ) -> Result<SessionKey, anyhow::Error> {
        let text = encode(&state)?;
        let key = random_token();
        let hash = digest(&key);
        self.db
            .run(move |c| {
                let col = columns(&state);
                sessions::insert(c, &hash, &text, &col.meta(), ttl).map_err(DbError::from)
            })
            .await?;
        SessionKey::try_from(key).map_err(anyhow::Error::from)
    }
}

impl SessionStore for DbSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<State>, LoadError> {
        let hash = digest(key.as_ref());
        // The session's user comes along on the same connection, for
        // `ctx::viewer` (issue 12: one hop less; `web::preload`).
        let with_user = super::preload::wanted();
        // Two indexed reads of one row or a few: `read`, not `run`.
        let found = self
            .db
            .read(move |c| {
                let Some((text, row_user)) = sessions::load_with_user(c, &hash)? else {
                    return Ok(None);
                };
                let state = serde_json::from_str::<State>(&text);
                let user = match (&state, with_user) {
                    (Ok(st), true) => match value::<i64>(st, UID) {
                        // The row's `user_id` is written from the state
                        // (`columns`); should they differ, the state wins.
                        Some(uid) => Some((
                            uid,
                            match row_user {
                                Some(u) if u.id == uid => Some(super::preload::with_links(c, u)?),
                                _ => super::preload::load(c, uid)?,
                            },
                        )),
                        None => None,
                    },
                    _ => None,
                };
                Ok::<_, DbError>(Some((state, user)))
            })
            .await
            .map_err(|e| LoadError::Other(e.into()))?;
        let Some((state, user)) = found else {
            return Ok(None);
        };
        if let Some((uid, parts)) = user {
            super::preload::put(uid, parts);
        }
        state
            .map(Some)
            .map_err(|e| LoadError::Deserialization(e.into()))
    }

    async fn save(&self, state: State, ttl: &Duration) -> Result<SessionKey, SaveError> {
        self.insert(state, ttl_of(ttl))
            .await
            .map_err(SaveError::Other)
    }

    async fn update(
        &self,
        key: SessionKey,
        state: State,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let ttl = ttl_of(ttl);
        let text = encode(&state).map_err(UpdateError::Serialization)?;
        let hash = digest(key.as_ref());
        let st = state.clone();
        let updated = self
            .db
            .run(move |c| {
                let col = columns(&st);
                sessions::update(c, &hash, &text, &col.meta(), ttl).map_err(DbError::from)
            })
            .await
            .map_err(|e| UpdateError::Other(e.into()))?;
        if updated {
            return Ok(key);
        }
        // The session was ended meanwhile (signed out elsewhere, or by
        // staff): it is never brought back. What the request left in it
        // (a notice, say) goes on in a new, signed-out session.
        let mut state = state;
        state.retain(|k, _| !SIGNED_IN_KEYS.contains(&k.as_str()));
        self.insert(state, ttl).await.map_err(UpdateError::Other)
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> Result<(), anyhow::Error> {
        let hash = digest(key.as_ref());
        let ttl = ttl_of(ttl);
        self.db
            .run(move |c| sessions::touch(c, &hash, ttl).map_err(DbError::from))
            .await?;
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        let hash = digest(key.as_ref());
        self.db
            .run(move |c| sessions::delete_by_key(c, &hash).map_err(DbError::from))
            .await?;
        Ok(())
    }
}
