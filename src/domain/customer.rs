//! What makes a customer eligible for PeeringDB login (SPEC §2 rule 7).
use super::{Asn, CustomerStatus, CustomerType};
use chrono::NaiveDate;

/// SPEC §1: cancelled is a date left that is set and is today or earlier.
pub fn is_cancelled(date_left: Option<NaiveDate>, today: NaiveDate) -> bool {
    date_left.is_some_and(|d| d <= today)
}

/// The facts about a customer that the login rules look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerFacts {
    pub id: i64,
    pub name: String,
    pub shortname: String,
    pub asn: Asn,
    pub kind: CustomerType,
    pub status: CustomerStatus,
    pub date_left: Option<NaiveDate>,
    pub peeringdb_oauth: bool,
}

/// Why a customer may not be linked by PeeringDB OAuth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ineligible {
    Type(CustomerType),
    Status(CustomerStatus),
    Cancelled,
    OptedOut,
}

impl Ineligible {
    pub fn reason(self) -> String {
        match self {
            Ineligible::Type(t) => format!("customer type is {t} (only full and probono qualify)"),
            Ineligible::Status(s) => format!("customer status is {s} (only normal qualifies)"),
            Ineligible::Cancelled => "customer has left the IXP (date left has passed)".into(),
            Ineligible::OptedOut => "customer has opted out of login via PeeringDB".into(),
        }
    }
}

impl CustomerFacts {
    /// Cancelled: a date left that is today or earlier.
    pub fn is_cancelled(&self, today: NaiveDate) -> bool {
        is_cancelled(self.date_left, today)
    }

    /// Rule 7: type full or probono, status normal, not cancelled, not opted out.
    pub fn eligibility(&self, today: NaiveDate) -> Result<(), Ineligible> {
        if !matches!(self.kind, CustomerType::Full | CustomerType::ProBono) {
            return Err(Ineligible::Type(self.kind));
        }
        if self.status != CustomerStatus::Normal {
            return Err(Ineligible::Status(self.status));
        }
        if self.is_cancelled(today) {
            return Err(Ineligible::Cancelled);
        }
        if !self.peeringdb_oauth {
            return Err(Ineligible::OptedOut);
        }
        Ok(())
    }
}
