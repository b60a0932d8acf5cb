//! Email addresses, checked only as far as a portal needs to.
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an email address (expected something like noc@example.net)")]
pub struct EmailError(pub String);

impl Email {
    pub fn parse(s: &str) -> Result<Email, EmailError> {
        let t = s.trim();
        let ok = t.len() <= 254
            && !t.chars().any(|c| c.is_whitespace() || c.is_control())
            && matches!(t.split_once('@'), Some((local, domain))
                if !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
        if ok {
            Ok(Email(t.to_string()))
        } else {
            Err(EmailError(s.to_string()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn parses() {
        assert!(Email::parse("noc@example.net").is_ok());
        for bad in ["", "x", "@x", "x@", "a b@c", "a@b@c"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
