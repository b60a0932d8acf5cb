//! Why a PeeringDB-made link is refused or removed (SPEC §2, §6), in the
//! words of the audit log and in plain words for the person concerned.
use super::{Asn, CustomerStatus, CustomerType, Ineligible};

/// Who removed a PeeringDB-made link by hand, which makes the removal stick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockedBy {
    /// IXP staff (the pages or the CLI).
    Staff,
    /// An admin (custadmin) of the customer.
    Custadmin,
}

impl BlockedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            BlockedBy::Staff => "staff",
            BlockedBy::Custadmin => "custadmin",
        }
    }
    pub fn parse(s: &str) -> Option<BlockedBy> {
        match s {
            "staff" => Some(BlockedBy::Staff),
            "custadmin" => Some(BlockedBy::Custadmin),
            _ => None,
        }
    }
    /// "removed by …", for people.
    pub fn removed_by(self) -> &'static str {
        match self {
            BlockedBy::Staff => "removed by the exchange's staff",
            BlockedBy::Custadmin => "removed by your network's administrator",
        }
    }
}

/// Why a customer is not (or no longer) linked to a PeeringDB user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The ASN is no longer among the person's PeeringDB networks.
    LeftProfile(Asn),
    /// The customer is not eligible (SPEC §2 rule 7).
    Ineligible(Ineligible),
    /// Staff or the customer's admin removed the link (SPEC §6.2).
    Blocked(BlockedBy),
    /// PeeringDB has not confirmed the link for this long (SPEC §6.4).
    Unconfirmed { max_age_seconds: i64 },
}

/// "30 days", "12 hours", "90 seconds".
pub fn human_duration(seconds: i64) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if seconds >= 86_400 && seconds % 86_400 == 0 {
        plural(seconds / 86_400, "day")
    } else if seconds >= 3_600 && seconds % 3_600 == 0 {
        plural(seconds / 3_600, "hour")
    } else if seconds >= 60 && seconds % 60 == 0 {
        plural(seconds / 60, "minute")
    } else {
        plural(seconds, "second")
    }
}

impl Cause {
    /// For the audit log.
    pub fn audit(self) -> String {
        match self {
            Cause::LeftProfile(asn) => {
                format!("AS{asn} is no longer among the user's PeeringDB networks")
            }
            Cause::Ineligible(why) => why.reason(),
            Cause::Blocked(by) => format!("blocked: the link was {}", by.removed_by()),
            Cause::Unconfirmed { .. } => self.plain(),
        }
    }

    /// For the person: completes "… has been removed: " or "not linked: ".
    pub fn plain(self) -> String {
        match self {
            Cause::LeftProfile(_) => {
                "you are no longer affiliated with this network on PeeringDB".into()
            }
            Cause::Ineligible(why) => why.plain(),
            Cause::Blocked(by) => by.removed_by().into(),
            Cause::Unconfirmed { max_age_seconds } => format!(
                "not confirmed by PeeringDB for {}: sign in with PeeringDB to restore it",
                human_duration(max_age_seconds)
            ),
        }
    }
}

impl Ineligible {
    /// In plain words, for the person whose network it is.
    pub fn plain(self) -> String {
        match self {
            Ineligible::Type(CustomerType::Associate) => "it is an associate member of the exchange; only full and pro-bono members can sign in with PeeringDB".into(),
            Ineligible::Type(CustomerType::Internal) => "it is one of the exchange's internal networks; only full and pro-bono members can sign in with PeeringDB".into(),
            Ineligible::Type(t) => format!("its membership type ({t}) cannot sign in with PeeringDB"),
            Ineligible::Status(CustomerStatus::Suspended) => "it is suspended at the exchange".into(),
            Ineligible::Status(CustomerStatus::NotConnected) => "it is not connected to the exchange".into(),
            Ineligible::Status(s) => format!("its membership status ({s}) cannot sign in with PeeringDB"),
            Ineligible::Cancelled => "it has left the exchange".into(),
            Ineligible::OptedOut => "it opted out of Login with PeeringDB".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(2_592_000), "30 days");
        assert_eq!(human_duration(86_400), "1 day");
        assert_eq!(human_duration(7_200), "2 hours");
        assert_eq!(human_duration(90), "90 seconds");
        assert_eq!(human_duration(120), "2 minutes");
    }

    #[test]
    fn the_spec_wording_of_an_expired_link() {
        assert_eq!(
            Cause::Unconfirmed {
                max_age_seconds: 2_592_000
            }
            .plain(),
            "not confirmed by PeeringDB for 30 days: sign in with PeeringDB to restore it"
        );
    }

    #[test]
    fn plain_words_name_the_real_reason() {
        assert!(
            Cause::Ineligible(Ineligible::OptedOut)
                .plain()
                .contains("opted out")
        );
        assert!(
            Cause::Ineligible(Ineligible::Status(CustomerStatus::Suspended))
                .plain()
                .contains("suspended")
        );
        assert!(
            Cause::Ineligible(Ineligible::Cancelled)
                .plain()
                .contains("left the exchange")
        );
        assert_eq!(
            Cause::Blocked(BlockedBy::Staff).plain(),
            "removed by the exchange's staff"
        );
        assert_eq!(
            Cause::Blocked(BlockedBy::Custadmin).plain(),
            "removed by your network's administrator"
        );
        assert!(
            !Cause::Ineligible(Ineligible::OptedOut)
                .plain()
                .contains("no longer affiliated")
        );
    }
}
