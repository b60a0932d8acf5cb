//! TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, ±1 step) with the
//! `totp-rs` crate, recovery codes, and the provisioning QR code as SVG.
use totp_rs::{Algorithm, Secret, TOTP};

pub const STEP: u64 = 30;
pub const DIGITS: usize = 6;
/// Bytes of a new secret: 160 bits, as RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;
pub const RECOVERY_CODES: usize = 10;

/// A new random secret, base32 (what an authenticator app is given).
pub fn new_secret() -> String {
    match Secret::Raw(crate::auth::token::random_bytes(SECRET_BYTES)).to_encoded() {
        Secret::Encoded(s) => s,
        Secret::Raw(_) => String::new(),
    }
}

fn totp(secret_b32: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret_b32.to_string()).to_bytes().ok()?;
    TOTP::new(Algorithm::SHA1, DIGITS, 1, STEP, bytes).ok()
}

/// The code of a secret at a Unix time (for tests and the check).
pub fn code_at(secret_b32: &str, unix: u64) -> Option<String> {
    totp(secret_b32).map(|t| t.generate(unix))
}

/// The time step whose code this is, within ±1 step of `unix`, or `None`.
/// The caller accepts each step once (`db::two_factor::use_step`).
pub fn matching_step(secret_b32: &str, code: &str, unix: u64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret_b32)?;
    let now_step = unix / STEP;
    let mut found = None;
    // Every candidate is compared, so the time does not tell which matched.
    for step in [now_step.saturating_sub(1), now_step, now_step + 1] {
        let expected = t.generate(step * STEP);
        if crate::auth::token::constant_time_eq(expected.as_bytes(), code.as_bytes()) {
            found = Some(step as i64);
        }
    }
    found
}

/// The `otpauth://` URI an authenticator app scans.
pub fn otpauth_uri(issuer: &str, account: &str, secret_b32: &str) -> String {
    let enc = |s: &str| -> String { url::form_urlencoded::byte_serialize(s.as_bytes()).collect() };
    format!(
        "otpauth://totp/{}:{}?secret={secret_b32}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
        enc(issuer).replace('+', "%20"),
        enc(account).replace('+', "%20"),
        enc(issuer).replace('+', "%20"),
    )
}

/// The QR code of a URI as an inline SVG element (no script, no image
/// request: the page's CSP allows it as it is).
pub fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // Drop the XML declaration: the SVG goes inline into the HTML.
    Some(match svg.find("<svg") {
        Some(i) => svg[i..].to_string(),
        None => svg,
    })
}

/// Ten recovery codes, `xxxx-xxxx-xxxx` from an unambiguous alphabet (about
/// 60 bits each), and what is stored of each.
pub fn recovery_codes() -> Vec<(String, String)> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    (0..RECOVERY_CODES)
        .map(|_| {
            let bytes = crate::auth::token::random_bytes(12);
            let raw: String = bytes
                .iter()
                .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
                .collect();
            let code = format!("{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12]);
            let hash = recovery_hash(&code);
            (code, hash)
        })
        .collect()
}

/// What is stored of a recovery code, from what a person types (case,
/// spaces and dashes do not matter).
pub fn recovery_hash(typed: &str) -> String {
    let norm: String = typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    crate::auth::token::digest(&format!("ixp-portal recovery code:{norm}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vector() {
        // RFC 6238 appendix B: the secret "12345678901234567890", 8 digits
        // there; the last 6 of 94287082 at T=59.
        let b32 = match Secret::Raw(b"12345678901234567890".to_vec()).to_encoded() {
            Secret::Encoded(s) => s,
            Secret::Raw(_) => unreachable!(),
        };
        assert_eq!(code_at(&b32, 59).as_deref(), Some("287082"));
        assert_eq!(code_at(&b32, 1_111_111_109).as_deref(), Some("081804"));
    }

    #[test]
    fn steps_within_one_either_side() {
        let s = new_secret();
        let t = 1_800_000_015;
        let code = code_at(&s, t).unwrap();
        assert_eq!(matching_step(&s, &code, t), Some((t / STEP) as i64));
        assert_eq!(matching_step(&s, &code, t + STEP), Some((t / STEP) as i64));
        assert_eq!(matching_step(&s, &code, t + 3 * STEP), None);
        assert_eq!(matching_step(&s, "12345", t), None);
        assert_eq!(matching_step(&s, "abcdef", t), None);
        let other = new_secret();
        assert_eq!(
            matching_step(&other, &code, t).is_some(),
            code_at(&other, t) == Some(code.clone())
        );
    }

    #[test]
    fn recovery_codes_are_distinct_and_forgiving() {
        let codes = recovery_codes();
        assert_eq!(codes.len(), 10);
        let (code, hash) = &codes[0];
        assert_eq!(&recovery_hash(&code.to_uppercase().replace('-', " ")), hash);
        let mut all: Vec<_> = codes.iter().map(|(c, _)| c.clone()).collect();
        all.dedup();
        assert_eq!(all.len(), 10);
    }

    #[test]
    fn qr_is_inline_svg() {
        let svg = qr_svg(&otpauth_uri("Example IX", "jane", &new_secret())).unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(!svg.contains("<script"));
    }
}
