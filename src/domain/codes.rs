//! The small enumerations of SPEC §1, stored as integers and shown as words.
use std::fmt;
use std::str::FromStr;

/// Declares an enum with its stored code and its word, and the conversions.
macro_rules! coded_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($variant:ident = $code:literal, $word:literal, $label:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
        #[derive(diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Integer)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Integer, DB> for $name
        where
            DB: diesel::backend::Backend,
            i32: diesel::deserialize::FromSql<diesel::sql_types::Integer, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let code = i32::from_sql(bytes)?;
                $name::from_code(code).ok_or_else(|| format!("stored {} code {code} is unknown", $what).into())
            }
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Integer, DB> for $name
        where
            DB: diesel::backend::Backend,
            i32: diesel::serialize::ToSql<diesel::sql_types::Integer, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, DB>) -> diesel::serialize::Result {
                match self { $($name::$variant => <i32 as diesel::serialize::ToSql<diesel::sql_types::Integer, DB>>::to_sql(&$code, out)),+ }
            }
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn code(self) -> i32 { match self { $($name::$variant => $code),+ } }
            pub fn from_code(code: i32) -> Option<$name> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $word),+ } }
            /// For people: a capitalised word.
            pub fn label(self) -> &'static str { match self { $($name::$variant => $label),+ } }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let t = s.trim();
                $(if t.eq_ignore_ascii_case($word) || t == stringify!($code) { return Ok($name::$variant); })+
                Err(format!(
                    "{:?} is not a {}: use one of {}",
                    s,
                    $what,
                    [$($word),+].join(", ")
                ))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.pad(self.as_str()) }
        }
    };
}

coded_enum!(
    /// Customer type (SPEC §1).
    CustomerType, "customer type" {
        Full = 1, "full", "Full";
        Associate = 2, "associate", "Associate";
        Internal = 3, "internal", "Internal";
        ProBono = 4, "probono", "Pro-bono";
    }
);

coded_enum!(
    /// Customer status (SPEC §1).
    CustomerStatus, "customer status" {
        Normal = 1, "normal", "Normal";
        NotConnected = 2, "notconnected", "Not connected";
        Suspended = 3, "suspended", "Suspended";
    }
);

coded_enum!(
    /// Privilege of an affiliation. `superuser` is a user flag, not a privilege.
    Privilege, "privilege" {
        CustUser = 1, "custuser", "Custuser (read-only)";
        CustAdmin = 2, "custadmin", "Custadmin";
    }
);

impl Privilege {
    /// `AUTH_PEERINGDB_PRIVS`: `2` is custadmin, any other value custuser.
    pub fn from_oauth_setting(value: &str) -> Privilege {
        if value.trim() == "2" {
            Privilege::CustAdmin
        } else {
            Privilege::CustUser
        }
    }
}

/// How an affiliation was made.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "lowercase")]
pub enum CreatedBy {
    PeeringDb,
    Admin,
    Cli,
}

impl CreatedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            CreatedBy::PeeringDb => "peeringdb",
            CreatedBy::Admin => "admin",
            CreatedBy::Cli => "cli",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            CreatedBy::PeeringDb => "PeeringDB",
            CreatedBy::Admin => "admin",
            CreatedBy::Cli => "CLI",
        }
    }
    pub fn parse(s: &str) -> Option<CreatedBy> {
        match s {
            "peeringdb" => Some(CreatedBy::PeeringDb),
            "admin" => Some(CreatedBy::Admin),
            "cli" => Some(CreatedBy::Cli),
            _ => None,
        }
    }
}

impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for CreatedBy
where
    DB: diesel::backend::Backend,
    String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
        let s = String::from_sql(bytes)?;
        CreatedBy::parse(&s).ok_or_else(|| format!("stored created_by {s:?} is unknown").into())
    }
}

impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for CreatedBy
where
    DB: diesel::backend::Backend,
    str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
{
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, DB>,
    ) -> diesel::serialize::Result {
        <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(self.as_str(), out)
    }
}

/// How a person signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginMethod {
    Password,
    PeeringDb,
}

impl LoginMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            LoginMethod::Password => "password",
            LoginMethod::PeeringDb => "peeringdb",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for t in CustomerType::ALL {
            assert_eq!(CustomerType::from_code(t.code()), Some(*t));
            assert_eq!(t.as_str().parse::<CustomerType>(), Ok(*t));
        }
        for s in CustomerStatus::ALL {
            assert_eq!(CustomerStatus::from_code(s.code()), Some(*s));
        }
        assert!("gold".parse::<CustomerType>().is_err());
        assert_eq!("probono".parse::<CustomerType>(), Ok(CustomerType::ProBono));
        assert_eq!(Privilege::from_oauth_setting("2"), Privilege::CustAdmin);
        assert_eq!(Privilege::from_oauth_setting("3"), Privilege::CustUser);
        assert_eq!(Privilege::from_oauth_setting("x"), Privilege::CustUser);
    }
}
