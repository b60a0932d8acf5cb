//! Secrets kept at rest (PeeringDB refresh tokens): XChaCha20-Poly1305
//! with a random nonce per value, under a key derived with HKDF-SHA256 from
//! `PORTAL_SECRET_KEY`, or from the session key when that is unset. Each
//! value is bound to what it is for (`context`, such as the PeeringDB id
//! it belongs to), so a value copied to another row does not open.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;

const PREFIX: &str = "v1.";
const NONCE_LEN: usize = 24;

#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(***)")
    }
}

impl SecretBox {
    /// A box keyed from secret material of any length (at least 32 bytes
    /// of entropy is the caller's duty).
    pub fn new(material: &[u8]) -> SecretBox {
        let hk = Hkdf::<Sha256>::new(Some(b"ixp-portal"), material);
        let mut key = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit of 8160.
        let _ = hk.expand(b"secrets at rest v1", &mut key);
        SecretBox {
            cipher: XChaCha20Poly1305::new(&key.into()),
        }
    }

    /// Encrypts `plaintext` for `context`; the result is printable text.
    pub fn seal(&self, context: &str, plaintext: &str) -> Option<String> {
        let nonce_bytes = crate::auth::token::random_bytes(NONCE_LEN);
        let nonce = XNonce::from_slice(&nonce_bytes);
        let ct = self
            .cipher
            .encrypt(
                nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .ok()?;
        let mut out = nonce_bytes;
        out.extend_from_slice(&ct);
        Some(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(out)))
    }

    /// Decrypts a value sealed for `context`; `None` when it was sealed
    /// under another key or context, or was altered.
    pub fn open(&self, context: &str, sealed: &str) -> Option<String> {
        let raw = URL_SAFE_NO_PAD.decode(sealed.strip_prefix(PREFIX)?).ok()?;
        if raw.len() <= NONCE_LEN {
            return None;
        }
        let (nonce, ct) = raw.split_at(NONCE_LEN);
        let pt = self
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: context.as_bytes(),
                },
            )
            .ok()?;
        String::from_utf8(pt).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_binding() {
        let b = SecretBox::new(b"0123456789abcdef0123456789abcdef");
        let s = b.seal("pdb:3", "refresh-token-value").unwrap();
        assert!(!s.contains("refresh-token-value"));
        assert_eq!(b.open("pdb:3", &s).as_deref(), Some("refresh-token-value"));
        assert_eq!(b.open("pdb:4", &s), None, "bound to its context");
        let other = SecretBox::new(b"another key of thirty-two bytes!");
        assert_eq!(other.open("pdb:3", &s), None, "bound to its key");
        let mut tampered = s.clone();
        tampered.pop();
        tampered.push(if s.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(b.open("pdb:3", &tampered), None);
        assert_eq!(b.open("pdb:3", "garbage"), None);
        assert_eq!(b.open("pdb:3", "v1."), None);
        assert_ne!(
            b.seal("pdb:3", "x"),
            b.seal("pdb:3", "x"),
            "a fresh nonce each time"
        );
    }
}
