//! Usernames: `^[a-z0-9._-]+$`, at most 255 characters.
use std::fmt;

pub const MAX_LEN: usize = 255;
/// What a PeeringDB user without a usable name becomes.
pub const UNKNOWN_PDB_USER: &str = "unknownpdbuser";

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Username(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("the username is empty")]
    Empty,
    #[error("the username is longer than {MAX_LEN} characters")]
    TooLong,
    #[error("the username may only contain lower-case letters, digits, '.', '_' and '-'")]
    BadCharacter,
}

fn allowed(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
}

impl Username {
    /// Parse a username typed by a person or stored in the database.
    pub fn parse(s: &str) -> Result<Username, UsernameError> {
        let s = s.trim();
        if s.is_empty() {
            Err(UsernameError::Empty)
        } else if s.len() > MAX_LEN {
            Err(UsernameError::TooLong)
        } else if !s.chars().all(allowed) {
            Err(UsernameError::BadCharacter)
        } else {
            Ok(Username(s.to_string()))
        }
    }

    /// SPEC §2 step 4: lower-case, every character outside `[a-z0-9._-]`
    /// becomes `.`; a missing or empty name becomes `unknownpdbuser`.
    pub fn sanitize(name: Option<&str>) -> Username {
        let name = name.unwrap_or("");
        if name.is_empty() {
            return Username(UNKNOWN_PDB_USER.to_string());
        }
        let mut out = String::with_capacity(name.len());
        for c in name.chars().flat_map(char::to_lowercase) {
            // Leave room for a numeric suffix.
            if out.len() >= MAX_LEN - 12 {
                break;
            }
            out.push(if allowed(c) { c } else { '.' });
        }
        Username(out)
    }

    /// The `n`th candidate for a taken base name: `base`, `base2`, `base3`, …
    pub fn with_suffix(&self, n: u64) -> Username {
        if n <= 1 {
            self.clone()
        } else {
            Username(format!("{}{}", self.0, n))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_like_spec() {
        let cases = [
            (Some("Jane Doe"), "jane.doe"),
            (Some("ÄBC"), ".bc"),
            (Some("a_b-c.d"), "a_b-c.d"),
            (Some(""), UNKNOWN_PDB_USER),
            (None, UNKNOWN_PDB_USER),
            (Some("x@example.com"), "x.example.com"),
        ];
        for (input, want) in cases {
            assert_eq!(Username::sanitize(input).as_str(), want, "{input:?}");
        }
        assert_eq!(Username::sanitize(Some("a")).with_suffix(2).as_str(), "a2");
        assert_eq!(Username::sanitize(Some("a")).with_suffix(1).as_str(), "a");
    }

    #[test]
    fn parse_rejects_bad_input() {
        assert!(Username::parse("ok.name").is_ok());
        assert_eq!(Username::parse(""), Err(UsernameError::Empty));
        assert_eq!(Username::parse("Bad"), Err(UsernameError::BadCharacter));
        assert_eq!(
            Username::parse(&"a".repeat(300)),
            Err(UsernameError::TooLong)
        );
    }
}
