//! Argon2id password hashes. Hashing is slow on purpose: call these from
//! blocking threads, never from an async worker.
use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};

pub const MIN_LEN: usize = 10;
pub const MAX_LEN: usize = 1024;

/// A password a person chose, checked for length.
#[derive(Clone)]
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(password: &str, confirm: &str) -> Result<NewPassword, String> {
        if password != confirm {
            return Err("The two passwords differ.".into());
        }
        let n = password.chars().count();
        if n < MIN_LEN {
            return Err(format!("Use at least {MIN_LEN} characters."));
        }
        if password.len() > MAX_LEN {
            return Err(format!("Use at most {MAX_LEN} bytes."));
        }
        Ok(NewPassword(password.to_string()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("password hashing failed: {e}"))
}

/// True when the password matches the stored hash; a malformed hash
/// (such as that of a user who has never had a password) never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A password that nobody knows, for users that PeeringDB OAuth creates
/// (they set their own through the password reset): the SHA-256 of 32 bytes
/// from a cryptographically secure generator, which nobody ever saw. A slow
/// hash adds nothing to a secret of 256 random bits, and the stored form is
/// no PHC string, so `verify` never accepts any password for it.
pub fn unknown() -> Result<String, String> {
    Ok(format!(
        "!unknown!{}",
        super::token::digest(&super::token::random_token())
    ))
}

/// Is this a password someone can type (not the unknown one of a user
/// that PeeringDB or an invitation made)?
pub fn is_usable(stored: &str) -> bool {
    !stored.starts_with("!unknown!")
}

/// Spends the same time as a real check when the user does not exist, so
/// that response times do not tell which usernames exist.
pub fn dummy_verify(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let stored = DUMMY.get_or_init(|| hash("dummy password for timing").unwrap_or_default());
    let _ = verify(password, stored);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("wrong", &h));
        assert!(!verify("anything", "not a hash"));
        let a = unknown().unwrap();
        let b = unknown().unwrap();
        assert_ne!(a, b);
        assert!(a.len() >= 64);
        for guess in ["", "!unknown!", &a, &a[9..]] {
            assert!(!verify(guess, &a));
        }
    }

    #[test]
    fn new_password_rules() {
        assert!(NewPassword::parse("short", "short").is_err());
        assert!(NewPassword::parse("long enough pw", "other").is_err());
        assert!(NewPassword::parse("long enough pw", "long enough pw").is_ok());
    }
}
