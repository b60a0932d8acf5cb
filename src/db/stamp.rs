//! Reading stored times quickly (issue 12). SQLite keeps a `TIMESTAMP` as
//! text, which diesel writes as `YYYY-MM-DD HH:MM:SS.fffffffff` and reads
//! back through chrono's format-string parser, trying one format after
//! another: about 2 µs a value, and 3 of them per user row made the
//! loading of a page of 51 users cost most of its 310 µs. The models read
//! their times through [`Stamp`] and [`OptStamp`] instead
//! (`#[diesel(deserialize_as = …)]`): the text diesel writes is read
//! directly, and anything else (another layout, a number) goes to diesel's
//! own reader, so nothing that read before reads differently. PostgreSQL
//! sends times in binary and keeps diesel's reader.
use super::MultiBackend;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::sql_types::{Nullable, Timestamp};
use diesel::sqlite::{Sqlite, SqliteType};

/// A stored time (`TIMESTAMP NOT NULL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::deserialize::FromSqlRow)]
pub struct Stamp(pub NaiveDateTime);

/// A stored time that may be absent (`TIMESTAMP`, nullable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::deserialize::FromSqlRow)]
pub struct OptStamp(pub Option<NaiveDateTime>);

impl From<Stamp> for NaiveDateTime {
    fn from(s: Stamp) -> NaiveDateTime {
        s.0
    }
}

impl From<OptStamp> for Option<NaiveDateTime> {
    fn from(s: OptStamp) -> Option<NaiveDateTime> {
        s.0
    }
}

/// `YYYY-MM-DD HH:MM:SS` with an optional `.` and 1 to 9 digits of a
/// second, exactly as diesel writes it; `None` for anything else.
pub fn parse_stored(s: &[u8]) -> Option<NaiveDateTime> {
    fn digits(s: &[u8]) -> Option<u32> {
        s.iter().try_fold(0u32, |n, &b| {
            b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
        })
    }
    let head = s.get(..19)?;
    if head[4] != b'-'
        || head[7] != b'-'
        || head[10] != b' '
        || head[13] != b':'
        || head[16] != b':'
    {
        return None;
    }
    let nanos = match &s[19..] {
        [] => 0,
        [b'.', frac @ ..] if (1..=9).contains(&frac.len()) => {
            digits(frac)? * 10u32.pow(9 - frac.len() as u32)
        }
        _ => return None,
    };
    NaiveDate::from_ymd_opt(
        i32::try_from(digits(&head[0..4])?).ok()?,
        digits(&head[5..7])?,
        digits(&head[8..10])?,
    )?
    .and_hms_nano_opt(
        digits(&head[11..13])?,
        digits(&head[14..16])?,
        digits(&head[17..19])?,
        nanos,
    )
}

impl FromSql<Timestamp, Sqlite> for Stamp {
    fn from_sql(mut value: diesel::sqlite::SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        if value.value_type() == Some(SqliteType::Text)
            && let Some(t) = parse_stored(value.read_text().as_bytes())
        {
            return Ok(Stamp(t));
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Stamp)
    }
}

impl FromSql<Timestamp, Pg> for Stamp {
    fn from_sql(value: diesel::pg::PgValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Stamp)
    }
}

impl FromSql<Timestamp, MultiBackend> for Stamp {
    fn from_sql(value: super::MultiRawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Timestamp>()
    }
}

impl<DB> FromSql<Nullable<Timestamp>, DB> for OptStamp
where
    DB: diesel::backend::Backend,
    Stamp: FromSql<Timestamp, DB>,
{
    fn from_sql(value: DB::RawValue<'_>) -> deserialize::Result<Self> {
        Ok(OptStamp(Some(
            <Stamp as FromSql<Timestamp, DB>>::from_sql(value)?.0,
        )))
    }

    fn from_nullable_sql(value: Option<DB::RawValue<'_>>) -> deserialize::Result<Self> {
        match value {
            Some(v) => Self::from_sql(v),
            None => Ok(OptStamp(None)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::prelude::*;

    /// Whatever the text, the fast reader agrees with diesel's or leaves
    /// the value to it.
    #[test]
    fn reads_what_diesel_reads() {
        let mut c = SqliteConnection::establish(":memory:").expect("in-memory SQLite");
        let now = chrono::Utc::now().naive_utc();
        let texts = [
            "2026-11-27 23:05:01".to_string(),
            "2026-11-27 23:05:01.5".to_string(),
            "2026-11-27 23:05:01.123456".to_string(),
            "2026-11-27 23:05:01.123456789".to_string(),
            "0987-03-04 05:06:07.000000001".to_string(),
            now.format("%F %T%.f").to_string(),
            "2026-11-27T23:05:01".to_string(),
            "2026-11-27 23:05".to_string(),
            "2026-02-30 10:00:00".to_string(),
            "2026-11-27 24:00:00".to_string(),
            "2026-11-27 23:05:01.1234567891".to_string(),
            "2026-11-27 23:05:01.".to_string(),
            "2026-11-27 23:05:01Z".to_string(),
            "+2026-11-27 23:05:0".to_string(),
            "garbage".to_string(),
        ];
        for text in texts {
            let ours: Result<Stamp, _> =
                diesel::select(diesel::dsl::sql::<Timestamp>(&format!("'{text}'")))
                    .get_result(&mut c);
            let theirs: Result<NaiveDateTime, _> =
                diesel::select(diesel::dsl::sql::<Timestamp>(&format!("'{text}'")))
                    .get_result(&mut c);
            match (ours, theirs) {
                (Ok(a), Ok(b)) => assert_eq!(a.0, b, "{text}"),
                (Err(_), Err(_)) => {}
                (a, b) => panic!("{text}: ours {a:?}, diesel's {b:?}"),
            }
        }
        // Numbers (Julian days) are diesel's to read.
        let julian: Stamp = diesel::select(diesel::dsl::sql::<Timestamp>("2461007.5"))
            .get_result(&mut c)
            .expect("a Julian day");
        let theirs: NaiveDateTime = diesel::select(diesel::dsl::sql::<Timestamp>("2461007.5"))
            .get_result(&mut c)
            .expect("a Julian day");
        assert_eq!(julian.0, theirs);
    }

    #[test]
    fn parses_only_the_stored_layout() {
        let t = parse_stored(b"2026-11-27 23:05:01.25").expect("stored layout");
        assert_eq!(t.to_string(), "2026-11-27 23:05:01.250");
        assert_eq!(
            parse_stored(b"2026-11-27 23:05:01"),
            chrono::Timelike::with_nanosecond(&t, 0)
        );
        assert_eq!(parse_stored(b"2026-1x-27 23:05:01"), None);
        assert_eq!(parse_stored(b""), None);
    }
}
