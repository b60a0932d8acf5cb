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
    note_slow_work();
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("password hashing failed: {e}"))
}

/// True when the password matches the stored hash; a malformed hash
/// (such as that of a user who has never had a password) never matches,
/// and costs the same Argon2 work as a real one (SPEC §8).
pub fn verify(password: &str, stored: &str) -> bool {
    check(password, Some(stored))
}

/// The password check of a sign-in: exactly one Argon2 verification
/// whatever `stored` is (a real hash; `None` for an unknown username; the
/// unusable hash of a user that PeeringDB or an invitation made), so that
/// the time taken tells none of them apart (SPEC §8). Only a real hash
/// can match.
pub fn check(password: &str, stored: Option<&str>) -> bool {
    let real = stored.and_then(|s| PasswordHash::new(s).ok());
    let matches = match &real {
        Some(parsed) => argon2_verify(password, parsed),
        None => {
            if let Ok(dummy) = PasswordHash::new(dummy_hash()) {
                let _ = argon2_verify(password, &dummy);
            }
            false
        }
    };
    matches && real.is_some()
}

fn argon2_verify(password: &str, hash: &PasswordHash<'_>) -> bool {
    note_slow_work();
    #[cfg(test)]
    VERIFICATIONS.with(|n| n.set(n.get() + 1));
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// A hash made with the same parameters as every real one, of a password
/// nobody uses, for the checks that have no real hash to verify.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash("dummy password for timing").unwrap_or_default())
}

/// Computes the dummy hash now, so that the first check of an unknown
/// user does not pay for it (`startup` may call this; checks work without).
pub fn warm_up() {
    let _ = dummy_hash();
}

/// How many hashes or verifications ran on a thread that held a pooled
/// database connection (SPEC §8 forbids it: the slow hash would keep the
/// connection from every other request). Zero unless a regression.
pub fn hashed_while_holding_connection() -> u64 {
    HASHED_HOLDING.load(std::sync::atomic::Ordering::Relaxed)
}

static HASHED_HOLDING: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn note_slow_work() {
    if crate::db::holds_connection() {
        HASHED_HOLDING.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::warn!("a password was hashed while a database connection was held");
    }
}

#[cfg(test)]
thread_local! {
    /// Argon2 verifications run on this thread (for the tests).
    static VERIFICATIONS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
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

    fn verifications() -> u64 {
        VERIFICATIONS.with(std::cell::Cell::get)
    }

    /// SPEC §8: an unknown user, a user without a usable password and a
    /// real one each cost exactly one Argon2 verification.
    #[test]
    fn every_check_runs_one_argon2_verification() {
        let real = hash("correct horse battery").unwrap();
        let unusable = unknown().unwrap();
        for (stored, pw, expected) in [
            (Some(real.as_str()), "correct horse battery", true),
            (Some(real.as_str()), "wrong", false),
            (Some(unusable.as_str()), "anything", false),
            (Some("not a hash"), "anything", false),
            (None, "anything", false),
        ] {
            let before = verifications();
            assert_eq!(check(pw, stored), expected, "{stored:?}");
            assert_eq!(
                verifications() - before,
                1,
                "one verification for {stored:?}"
            );
            let before = verifications();
            if let Some(s) = stored {
                assert_eq!(verify(pw, s), expected);
                assert_eq!(verifications() - before, 1, "verify too, for {s:?}");
            }
        }
    }

    /// The dummy hash has the parameters of a real one (same cost).
    #[test]
    fn dummy_hash_has_real_parameters() {
        let real = hash("x").unwrap();
        let params = |h: &str| {
            let p = PasswordHash::new(h).unwrap();
            (p.algorithm.to_string(), p.version, p.params.to_string())
        };
        assert_eq!(params(dummy_hash()), params(&real));
    }

    #[test]
    fn new_password_rules() {
        assert!(NewPassword::parse("short", "short").is_err());
        assert!(NewPassword::parse("long enough pw", "other").is_err());
        assert!(NewPassword::parse("long enough pw", "long enough pw").is_ok());
    }
}
