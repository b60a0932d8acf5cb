//! Login with PeeringDB: the profile, the reconciliation (a pure function),
//! applying its plan in one transaction, the OAuth client and a simulator.
pub mod apply;
pub mod client;
pub mod profile;
pub mod reconcile;
pub mod simulator;

pub use profile::{Network, Profile, ProfileError};
pub use reconcile::{Plan, Policy, Refusal, reconcile};

/// The messages SPEC §2 prescribes.
pub const MSG_UNVERIFIED: &str = "Your PeeringDB user or email address has not been verified. Please complete your PeeringDB account registration first.";
pub const MSG_NO_MATCH: &str = "Login with PeeringDB failed: no member of this IXP matches your PeeringDB affiliations. Contact our support team if you believe this is an error.";
pub const MSG_MFA: &str = "This portal requires two-factor authentication for Login with PeeringDB. Enable it on your PeeringDB account, then sign in again.";
pub const MSG_DISABLED: &str = "Your portal account is disabled. Contact our support team.";

pub fn msg_added(customer: &str) -> String {
    format!("Your PeeringDB affiliation with {customer} has been added.")
}

pub fn msg_removed(customer: &str) -> String {
    format!(
        "Your PeeringDB affiliation with {customer} has been removed, as you are no longer affiliated with this network on PeeringDB."
    )
}
