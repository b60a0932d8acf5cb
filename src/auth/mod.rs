//! Secrets: password hashes, random tokens, and secrets kept at rest.
pub mod password;
pub mod secret_box;
pub mod token;
pub mod totp;
