//! The life of a route-server session requested through the Peering API.
use std::fmt;
use std::str::FromStr;

/// `pending` → `approved` | `rejected`; `approved` → `provisioned`;
/// `provisioned` ↔ `established` ↔ `down`; anything but `deleted` →
/// `deleted` (kept as history).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionStatus {
    Pending,
    Approved,
    Rejected,
    Provisioned,
    Established,
    Down,
    Deleted,
}

impl SessionStatus {
    pub const ALL: &'static [SessionStatus] = &[
        SessionStatus::Pending,
        SessionStatus::Approved,
        SessionStatus::Rejected,
        SessionStatus::Provisioned,
        SessionStatus::Established,
        SessionStatus::Down,
        SessionStatus::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Pending => "pending",
            SessionStatus::Approved => "approved",
            SessionStatus::Rejected => "rejected",
            SessionStatus::Provisioned => "provisioned",
            SessionStatus::Established => "established",
            SessionStatus::Down => "down",
            SessionStatus::Deleted => "deleted",
        }
    }

    /// The statuses staff may move a session to from this one.
    pub fn next(self) -> &'static [SessionStatus] {
        use SessionStatus::*;
        match self {
            Pending => &[Approved, Rejected, Deleted],
            Approved => &[Provisioned, Rejected, Deleted],
            Rejected => &[Approved, Deleted],
            Provisioned => &[Established, Down, Deleted],
            Established => &[Down, Deleted],
            Down => &[Established, Provisioned, Deleted],
            Deleted => &[],
        }
    }

    pub fn can_become(self, to: SessionStatus) -> bool {
        self.next().contains(&to)
    }

    /// Sessions the route-server configuration should carry.
    pub fn is_configured(self) -> bool {
        matches!(
            self,
            SessionStatus::Approved
                | SessionStatus::Provisioned
                | SessionStatus::Established
                | SessionStatus::Down
        )
    }
}

impl FromStr for SessionStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SessionStatus::ALL
            .iter()
            .copied()
            .find(|v| v.as_str() == s.trim())
            .ok_or_else(|| format!("{s:?} is not a session status"))
    }
}

impl fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions() {
        use SessionStatus::*;
        assert!(Pending.can_become(Approved));
        assert!(Approved.can_become(Provisioned));
        assert!(Provisioned.can_become(Established));
        assert!(Established.can_become(Down));
        assert!(!Pending.can_become(Established));
        assert!(!Deleted.can_become(Pending));
        for s in SessionStatus::ALL {
            assert_eq!(s.as_str().parse::<SessionStatus>(), Ok(*s));
            assert!(!s.can_become(Pending), "nothing goes back to pending");
        }
        assert!("nope".parse::<SessionStatus>().is_err());
    }
}
