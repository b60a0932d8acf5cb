//! The words the pages use for stored codes: privileges, how users and
//! links were made, whether a customer admits Login with PeeringDB, the
//! steps of a route-server session. IXP Manager's names (custuser,
//! custadmin) stay in the legends and the audit log.
use crate::db::models::{Customer, User};
use crate::domain::{
    CreatedBy, CustomerStatus, CustomerType, Ineligible, Privilege, SessionStatus,
};
use chrono::NaiveDate;
use std::borrow::Borrow;

/// A time to the minute, as the lists show it ("2026-11-27 23:05"):
/// written directly, not through a format string parsed for every row.
pub fn minute(t: impl Time) -> Minute {
    Minute(t.time())
}

/// A time, however many references away (templates hand over `&&T`).
pub trait Time {
    fn time(&self) -> chrono::NaiveDateTime;
}

impl Time for chrono::NaiveDateTime {
    fn time(&self) -> chrono::NaiveDateTime {
        *self
    }
}

impl<T: Time + ?Sized> Time for &T {
    fn time(&self) -> chrono::NaiveDateTime {
        (**self).time()
    }
}

pub struct Minute(chrono::NaiveDateTime);

impl std::fmt::Display for Minute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use chrono::{Datelike, Timelike};
        let t = &self.0;
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute()
        )
    }
}

pub fn privilege(p: impl Borrow<Privilege>) -> &'static str {
    match p.borrow() {
        Privilege::CustUser => "Read-only user",
        Privilege::CustAdmin => "Administrator",
    }
}

/// How a link (affiliation) was made.
pub fn created_by(c: impl Borrow<CreatedBy>) -> &'static str {
    match c.borrow() {
        CreatedBy::PeeringDb => "PeeringDB login",
        CreatedBy::Admin => "IXP staff or an administrator",
        CreatedBy::Cli => "IXP staff (command line)",
    }
}

/// How a user was made, from its `creator`; `creator_is_staff` when the
/// creating account is a superuser (`None`: not known).
pub fn creator(user: &User, creator_is_staff: Option<bool>) -> String {
    if user.oauth() {
        return "Created by PeeringDB login".into();
    }
    match (user.creator.as_str(), creator_is_staff) {
        ("cli", _) => "Added by IXP staff (command line)".into(),
        (who, Some(true)) => format!("Added by IXP staff ({who})"),
        (who, Some(false)) => format!("Added by {who}, an administrator of a member network"),
        (who, None) => format!("Added by {who}"),
    }
}

/// Whether Login with PeeringDB may link people to a customer: a badge
/// class, its short text, and the reason in plain words.
pub struct PeeringDbLogin {
    pub class: &'static str,
    pub text: &'static str,
    pub reason: String,
}

pub fn peeringdb_login(c: &Customer, today: NaiveDate) -> PeeringDbLogin {
    let (class, text) = match c.facts().eligibility(today) {
        Ok(()) => {
            return PeeringDbLogin {
                class: "yes",
                text: "possible",
                reason: "its people can sign in with PeeringDB".into(),
            };
        }
        // SPEC §3 names this badge.
        Err(Ineligible::OptedOut) => ("off", "OAuth disabled"),
        Err(Ineligible::Type(CustomerType::Associate)) => ("no", "not possible: associate"),
        Err(Ineligible::Type(CustomerType::Internal)) => ("no", "not possible: internal"),
        Err(Ineligible::Type(_)) => ("no", "not possible: type"),
        Err(Ineligible::Status(CustomerStatus::Suspended)) => ("no", "not possible: suspended"),
        Err(Ineligible::Status(CustomerStatus::NotConnected)) => {
            ("no", "not possible: not connected")
        }
        Err(Ineligible::Status(_)) => ("no", "not possible: status"),
        Err(Ineligible::Cancelled) => ("no", "not possible: left"),
    };
    let reason = match c.facts().eligibility(today) {
        Err(why) => why.plain(),
        Ok(()) => String::new(),
    };
    PeeringDbLogin {
        class,
        text,
        reason,
    }
}

/// The button that moves a session to `to`.
pub fn session_action(to: impl Borrow<SessionStatus>) -> &'static str {
    match to.borrow() {
        SessionStatus::Pending => "Back to pending",
        SessionStatus::Approved => "Approve",
        SessionStatus::Rejected => "Reject",
        SessionStatus::Provisioned => "Mark provisioned",
        SessionStatus::Established => "Mark established",
        SessionStatus::Down => "Mark down",
        SessionStatus::Deleted => "Delete…",
    }
}

/// The badge class of a session status.
pub fn session_badge(s: &str) -> &'static str {
    match s.parse::<SessionStatus>() {
        Ok(SessionStatus::Pending) => "warn",
        Ok(SessionStatus::Approved | SessionStatus::Provisioned) => "info",
        Ok(SessionStatus::Established) => "yes",
        Ok(SessionStatus::Down) => "bad",
        _ => "no",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_as_strftime_writes_them() {
        let t = chrono::NaiveDate::from_ymd_opt(987, 3, 4)
            .and_then(|d| d.and_hms_opt(5, 6, 59))
            .expect("a valid time");
        for t in [t, crate::db::models::now()] {
            assert_eq!(
                minute(t).to_string(),
                t.format("%Y-%m-%d %H:%M").to_string()
            );
        }
    }

    #[test]
    fn plain_names() {
        assert_eq!(privilege(Privilege::CustUser), "Read-only user");
        assert_eq!(privilege(Privilege::CustAdmin), "Administrator");
        assert_eq!(created_by(CreatedBy::PeeringDb), "PeeringDB login");
        assert_eq!(
            session_action(SessionStatus::Established),
            "Mark established"
        );
        assert_eq!(session_badge("established"), "yes");
    }
}
