//! Login with PeeringDB: the profile, the reconciliation (a pure function),
//! applying its plan in one transaction, the OAuth client and a simulator.
pub mod apply;
pub mod client;
pub mod profile;
pub mod recheck;
pub mod reconcile;
pub mod simulator;

use crate::domain::Cause;
pub use profile::{Network, Profile, ProfileError};
pub use reconcile::{NetworkOutcome, Plan, Policy, Refusal, expire, reconcile};

/// The messages SPEC §2 prescribes.
pub const MSG_UNVERIFIED: &str = "Your PeeringDB user or email address has not been verified. Please complete your PeeringDB account registration first.";
pub const MSG_NO_MATCH: &str = "Login with PeeringDB failed: no member of this IXP matches your PeeringDB affiliations. Contact our support team if you believe this is an error.";
pub const MSG_MFA: &str = "This portal requires two-factor authentication for Login with PeeringDB. Enable it on your PeeringDB account, then sign in again.";
pub const MSG_NOT_ELIGIBLE: &str = "Login with PeeringDB failed: your PeeringDB networks that are members of this IXP cannot sign in this way at the moment (see why below). Contact our support team if you believe this is an error.";
pub const MSG_UNCONFIRMED: &str = "Your access to this portal came from PeeringDB, and PeeringDB has not confirmed it for too long, so it has been removed. Sign in with PeeringDB to restore it.";
pub const MSG_DISABLED: &str = "Your portal account is disabled. Contact our support team.";

pub fn msg_added(customer: &str) -> String {
    format!("Your PeeringDB affiliation with {customer} has been added.")
}

/// The notice of a removed link, with its real reason (SPEC §2).
pub fn msg_removed(customer: &str, cause: Cause) -> String {
    match cause {
        Cause::LeftProfile(_) => format!(
            "Your PeeringDB affiliation with {customer} has been removed, as you are no longer affiliated with this network on PeeringDB."
        ),
        other => format!(
            "Your PeeringDB affiliation with {customer} has been removed: {}.",
            other.plain()
        ),
    }
}

/// One line per network of the person's that is a customer here.
pub fn msg_network(n: &NetworkOutcome) -> String {
    match n.linked {
        Ok(true) => format!("{} (AS{}): linked.", n.customer_name, n.asn),
        Ok(false) => format!("{} (AS{}): linked already.", n.customer_name, n.asn),
        Err(cause) => format!(
            "{} (AS{}): not linked: {}.",
            n.customer_name,
            n.asn,
            cause.plain()
        ),
    }
}
