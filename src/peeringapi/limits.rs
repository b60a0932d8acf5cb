//! Rate limits of the Peering API, per client address (the draft: "On each
//! call, there should be rate limits"). The counters live in the database,
//! so that every instance on one PostgreSQL counts together (SPEC §5):
//! one row per (bucket and address, minute), incremented atomically.
//!
//! An IPv6 client is counted per /64, the block one host usually holds.
//!
//! The thresholds are the constants below unless `PEERING_API_RATE_AUTH`
//! or `PEERING_API_RATE_SESSIONS` (requests per minute, a positive
//! integer) say otherwise in the environment or `.env`: for an exchange
//! whose members' tools need more, and for the fuzzing run of CI.
use crate::db::DbConnection;
use chrono::{NaiveDateTime, Timelike};
use diesel::prelude::*;
use diesel::result::Error;
use std::net::IpAddr;

/// `/auth` requests that reach PeeringDB or start a flow (`POST /auth`,
/// `GET /auth?code=…`, `GET /auth/start`), per address and minute. The
/// discovery document (`GET /auth` without a code) is not counted.
pub const AUTH_PER_MINUTE: i64 = 30;
/// `POST /sessions` requests that reach the session checks (well-formed,
/// from a caller who may act for the ASNs), per address and minute; each
/// may carry up to 100 sessions.
pub const SESSIONS_PER_MINUTE: i64 = 120;
/// The length of a counting window.
pub const WINDOW_SECS: i64 = 60;

diesel::table! {
    peering_api_rate (bucket, window_start) {
        bucket -> Text,
        window_start -> Timestamp,
        hits -> BigInt,
    }
}

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Auth,
    Sessions,
}

impl Bucket {
    pub fn name(self) -> &'static str {
        match self {
            Bucket::Auth => "auth",
            Bucket::Sessions => "sessions",
        }
    }
    /// The variable that overrides the default threshold.
    pub fn variable(self) -> &'static str {
        match self {
            Bucket::Auth => "PEERING_API_RATE_AUTH",
            Bucket::Sessions => "PEERING_API_RATE_SESSIONS",
        }
    }
    pub fn default_limit(self) -> i64 {
        match self {
            Bucket::Auth => AUTH_PER_MINUTE,
            Bucket::Sessions => SESSIONS_PER_MINUTE,
        }
    }
    /// The threshold: the variable's value where it is a positive integer,
    /// else the default.
    pub fn limit(self) -> i64 {
        parse_limit(std::env::var(self.variable()).ok().as_deref()).unwrap_or(self.default_limit())
    }
}

/// A threshold as an operator writes it: a positive whole number.
pub fn parse_limit(value: Option<&str>) -> Option<i64> {
    value
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|n| *n > 0)
}

/// The answer to one counted request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Refused; the window ends in this many seconds (at least 1).
    Limited {
        retry_after: u64,
    },
}

/// The counted unit of a client address: the address, or its /64.
pub fn client_key(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        // "unknown" and the like: one shared bucket, cut to a sane length.
        Err(_) => address.chars().take(64).collect(),
    }
}

/// The start of the window `at` falls in.
pub fn window_of(at: NaiveDateTime) -> NaiveDateTime {
    let secs = at.and_utc().timestamp();
    let start = secs - secs.rem_euclid(WINDOW_SECS);
    chrono::DateTime::from_timestamp(start, 0)
        .map(|d| d.naive_utc())
        .unwrap_or_else(|| at.with_nanosecond(0).unwrap_or(at))
}

/// Counts one request of `address` in `bucket` at `at`. The second value
/// is true for the first request of a window (a good moment to purge).
pub fn hit(
    conn: &mut DbConnection,
    bucket: Bucket,
    address: &str,
    at: NaiveDateTime,
) -> Result<(Verdict, bool), Error> {
    use peering_api_rate::dsl as r;
    let start = window_of(at);
    let key = format!("{}:{}", bucket.name(), client_key(address));
    let hits: i64 = crate::on_backend!(conn, |c| diesel::insert_into(r::peering_api_rate)
        .values((
            r::bucket.eq(&key),
            r::window_start.eq(start),
            r::hits.eq(1i64)
        ))
        .on_conflict((r::bucket, r::window_start))
        .do_update()
        .set(r::hits.eq(r::hits + 1i64))
        .returning(r::hits)
        .get_result(c))?;
    let fresh = hits == 1;
    if fresh {
        diesel::delete(
            r::peering_api_rate
                .filter(r::window_start.lt(start - chrono::Duration::seconds(2 * WINDOW_SECS))),
        )
        .execute(conn)?;
    }
    if hits > bucket.limit() {
        let end = start + chrono::Duration::seconds(WINDOW_SECS);
        let left = (end - at).num_milliseconds();
        // Round up: a client that waits this long is in the next window.
        let secs = u64::try_from((left + 999) / 1000).unwrap_or(1).max(1);
        return Ok((Verdict::Limited { retry_after: secs }, fresh));
    }
    Ok((Verdict::Allowed, fresh))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_count_per_host_or_64() {
        assert_eq!(client_key("192.0.2.7"), "192.0.2.7");
        assert_eq!(client_key("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
        assert_eq!(
            client_key("2001:db8:1:2::9"),
            client_key("2001:db8:1:2:ffff::1")
        );
        assert_eq!(client_key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(client_key("unknown"), "unknown");
    }

    #[test]
    fn thresholds_read_positive_numbers_only() {
        assert_eq!(parse_limit(Some(" 500 ")), Some(500));
        for bad in [None, Some(""), Some("0"), Some("-3"), Some("many")] {
            assert_eq!(parse_limit(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn windows_are_whole_minutes() {
        let at = chrono::DateTime::from_timestamp(1_800_000_123, 456_000_000)
            .unwrap()
            .naive_utc();
        let w = window_of(at);
        assert_eq!(w.and_utc().timestamp() % 60, 0);
        assert!(w <= at && at - w < chrono::Duration::seconds(60));
        assert_eq!(window_of(w), w);
    }
}
