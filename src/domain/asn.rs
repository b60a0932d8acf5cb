//! Autonomous System Numbers.
use std::fmt;
use std::str::FromStr;

/// A public or private 32-bit ASN in 1..=4294967295.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::BigInt)]
#[serde(transparent)]
pub struct Asn(i64);

impl<DB> diesel::deserialize::FromSql<diesel::sql_types::BigInt, DB> for Asn
where
    DB: diesel::backend::Backend,
    i64: diesel::deserialize::FromSql<diesel::sql_types::BigInt, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
        let v = i64::from_sql(bytes)?;
        Asn::new(v).ok_or_else(|| format!("stored ASN {v} is out of range").into())
    }
}

impl<DB> diesel::serialize::ToSql<diesel::sql_types::BigInt, DB> for Asn
where
    DB: diesel::backend::Backend,
    i64: diesel::serialize::ToSql<diesel::sql_types::BigInt, DB>,
{
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, DB>,
    ) -> diesel::serialize::Result {
        self.0.to_sql(out)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an ASN: use a number from 1 to 4294967295, without the AS prefix")]
pub struct AsnError(pub String);

impl Asn {
    /// From a number as stored or received; `None` unless in 1..=4294967295.
    pub fn new(value: i64) -> Option<Asn> {
        (1..=i64::from(u32::MAX))
            .contains(&value)
            .then_some(Asn(value))
    }
    pub fn get(self) -> u32 {
        // In range by construction.
        u32::try_from(self.0).unwrap_or(u32::MAX)
    }
    /// For storage: the database column is a 64-bit integer.
    pub fn as_i64(self) -> i64 {
        self.0
    }
}

impl FromStr for Asn {
    type Err = AsnError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let digits = t
            .strip_prefix("AS")
            .or_else(|| t.strip_prefix("as"))
            .unwrap_or(t);
        digits
            .parse::<i64>()
            .ok()
            .and_then(Asn::new)
            .ok_or_else(|| AsnError(s.to_string()))
    }
}

impl fmt::Display for Asn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_valid_range_only() {
        assert_eq!("1".parse::<Asn>().map(Asn::get), Ok(1));
        assert_eq!("4294967295".parse::<Asn>().map(Asn::get), Ok(4294967295));
        assert_eq!("AS63311".parse::<Asn>().map(Asn::get), Ok(63311));
        for bad in ["0", "-1", "4294967296", "", "abc", "1.5"] {
            assert!(bad.parse::<Asn>().is_err(), "{bad}");
        }
        assert_eq!(Asn::new(0), None);
        assert_eq!(Asn::new(4294967296), None);
    }
}
