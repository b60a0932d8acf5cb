//! Typed values, made once at the edge (parse, don't validate).
mod access;
mod asn;
mod codes;
mod customer;
mod email;
mod net;
mod session_status;
mod username;

pub use access::{BlockedBy, Cause, human_duration};
pub use asn::{Asn, AsnError};
pub use codes::{CreatedBy, CustomerStatus, CustomerType, LoginMethod, Privilege};
pub use customer::{CustomerFacts, Ineligible, is_cancelled};
pub use email::{Email, EmailError};
pub use net::{Family, MacAddress, NetError, Prefix, parse_address};
pub use session_status::SessionStatus;
pub use username::{UNKNOWN_PDB_USER, Username, UsernameError};

/// The creator tag of users that PeeringDB OAuth made.
pub const OAUTH_CREATOR: &str = "OAuth-PeeringDB";
