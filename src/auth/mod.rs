//! Secrets: password hashes and random tokens.
pub mod password;
pub mod token;
