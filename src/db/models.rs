//! Rows as the database holds them, with typed values where SPEC §1 has them.
use super::schema::*;
use crate::domain::{Asn, CreatedBy, CustomerFacts, CustomerStatus, CustomerType, Privilege};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = customers)]
pub struct Customer {
    pub id: i64,
    pub name: String,
    pub shortname: String,
    pub autsys: Asn,
    pub cust_type: CustomerType,
    pub status: CustomerStatus,
    pub date_joined: Option<NaiveDate>,
    pub date_left: Option<NaiveDate>,
    pub peeringdb_oauth: bool,
    #[diesel(deserialize_as = super::stamp::Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = super::stamp::Stamp)]
    pub updated_at: NaiveDateTime,
}

impl Customer {
    pub fn facts(&self) -> CustomerFacts {
        CustomerFacts {
            id: self.id,
            name: self.name.clone(),
            shortname: self.shortname.clone(),
            asn: self.autsys,
            kind: self.cust_type,
            status: self.status,
            date_left: self.date_left,
            peeringdb_oauth: self.peeringdb_oauth,
        }
    }
    pub fn is_cancelled(&self, today: NaiveDate) -> bool {
        crate::domain::is_cancelled(self.date_left, today)
    }
}

/// The editable fields of a customer, already parsed.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = customers, treat_none_as_null = true)]
pub struct CustomerFields {
    pub name: String,
    pub shortname: String,
    pub autsys: Asn,
    pub cust_type: CustomerType,
    pub status: CustomerStatus,
    pub date_joined: Option<NaiveDate>,
    pub date_left: Option<NaiveDate>,
    pub peeringdb_oauth: bool,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub email: String,
    pub password_hash: String,
    pub peeringdb_id: Option<i64>,
    pub creator: String,
    pub disabled: bool,
    pub superuser: bool,
    pub current_customer_id: Option<i64>,
    pub session_epoch: i32,
    #[diesel(deserialize_as = super::stamp::OptStamp)]
    pub last_login_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = super::stamp::Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = super::stamp::Stamp)]
    pub updated_at: NaiveDateTime,
}

/// The OAuth column: did PeeringDB OAuth create the user of `creator`?
fn made_by_oauth(creator: &str) -> bool {
    creator == crate::domain::OAUTH_CREATOR
}

impl User {
    /// The OAuth column: did PeeringDB OAuth create this user?
    pub fn oauth(&self) -> bool {
        made_by_oauth(&self.creator)
    }
}

/// A user as the staff user list and its CSV export show them: what they
/// print, and no more. The list reads 50 of these per view; the password
/// hash, the session epoch and the time of the last change were a third of
/// the work of reading each row (issue 12), and a page never needs the hash.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct ListedUser {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub email: String,
    pub peeringdb_id: Option<i64>,
    pub creator: String,
    pub disabled: bool,
    pub superuser: bool,
    pub current_customer_id: Option<i64>,
    #[diesel(deserialize_as = super::stamp::OptStamp)]
    pub last_login_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = super::stamp::Stamp)]
    pub created_at: NaiveDateTime,
}

impl ListedUser {
    /// The OAuth column, as [`User::oauth`].
    pub fn oauth(&self) -> bool {
        made_by_oauth(&self.creator)
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub peeringdb_id: Option<i64>,
    pub creator: &'a str,
    pub disabled: bool,
    pub superuser: bool,
    pub current_customer_id: Option<i64>,
    pub session_epoch: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = affiliations)]
pub struct Affiliation {
    pub id: i64,
    pub user_id: i64,
    pub customer_id: i64,
    pub privilege: Privilege,
    pub created_by: CreatedBy,
    #[diesel(deserialize_as = super::stamp::Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = super::stamp::Stamp)]
    pub updated_at: NaiveDateTime,
    #[diesel(deserialize_as = super::stamp::OptStamp)]
    pub last_login_at: Option<NaiveDateTime>,
    pub last_login_from: Option<String>,
    pub last_login_via: Option<String>,
    /// When PeeringDB last confirmed a PeeringDB-made link (SPEC §6.3).
    #[diesel(deserialize_as = super::stamp::OptStamp)]
    pub confirmed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = login_records)]
pub struct LoginRecord {
    pub id: i64,
    pub user_id: i64,
    pub customer_id: Option<i64>,
    #[diesel(deserialize_as = super::stamp::Stamp)]
    pub at: NaiveDateTime,
    pub address: String,
    pub method: String,
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    pub id: i64,
    #[diesel(deserialize_as = super::stamp::Stamp)]
    pub at: NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub details: String,
}

/// Now, in UTC, as stored.
pub fn now() -> NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// Today, in UTC: the date that decides whether a customer is cancelled.
pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}
