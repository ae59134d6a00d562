//! Sealing one credential's data: AES-256-GCM (ring), a fresh random 96-bit nonce per write, the credential's
//! name as associated data (so a ciphertext copied onto another name does not open). Stored text:
//! `v1:` + base64 (standard, padded) of `nonce || ciphertext || tag`.

use super::key::MasterKey;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

const VERSION_PREFIX: &str = "v1:";

/// Why sealed text did not open. Never carries any of the plain text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("the stored data is not in a format this Pilot reads ({0})")]
    Format(&'static str),
    /// Wrong key, another credential's data, or tampered bytes: AES-GCM cannot tell these apart.
    #[error("authentication failed")]
    Authentication,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("encryption failed: {0}")]
pub struct SealError(&'static str);

fn aead_key(key: &MasterKey) -> LessSafeKey {
    // A 32-byte key is always a valid AES-256 key.
    let unbound = UnboundKey::new(&AES_256_GCM, key.bytes()).expect("AES-256-GCM accepts a 32-byte key");
    LessSafeKey::new(unbound)
}

/// Encrypts `plain` for the credential `name`.
pub fn seal(key: &MasterKey, name: &str, plain: &[u8]) -> Result<String, SealError> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new().fill(&mut nonce).map_err(|_| SealError("the system random source failed"))?;
    let mut in_out = plain.to_vec();
    aead_key(key)
        .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(name.as_bytes()), &mut in_out)
        .map_err(|_| SealError("AES-GCM refused the input"))?;
    let mut sealed = nonce.to_vec();
    sealed.extend_from_slice(&in_out);
    Ok(format!("{VERSION_PREFIX}{}", BASE64.encode(sealed)))
}

/// Decrypts what [`seal`] produced for the same `name` and key.
pub fn open(key: &MasterKey, name: &str, sealed: &str) -> Result<Vec<u8>, OpenError> {
    let body = sealed.strip_prefix(VERSION_PREFIX).ok_or(OpenError::Format("no `v1:` prefix"))?;
    let bytes = BASE64.decode(body.trim()).map_err(|_| OpenError::Format("not base64"))?;
    if bytes.len() < NONCE_LEN + AES_256_GCM.tag_len() {
        return Err(OpenError::Format("too short"));
    }
    let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| OpenError::Format("bad nonce"))?;
    let mut in_out = ciphertext.to_vec();
    let plain = aead_key(key)
        .open_in_place(nonce, Aad::from(name.as_bytes()), &mut in_out)
        .map_err(|_| OpenError::Authentication)?;
    Ok(plain.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> MasterKey {
        MasterKey::from_bytes([byte; 32])
    }

    #[test]
    fn sealed_data_opens_with_the_same_key_and_name() {
        let sealed = seal(&key(1), "api", br#"{"api_key":"s3cr3t"}"#).expect("seal");
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("s3cr3t"));
        assert_eq!(open(&key(1), "api", &sealed).expect("open"), br#"{"api_key":"s3cr3t"}"#);
    }

    #[test]
    fn each_write_uses_a_fresh_nonce() {
        let first = seal(&key(1), "api", b"same text").expect("seal");
        let second = seal(&key(1), "api", b"same text").expect("seal");
        assert_ne!(first, second);
        let nonce = |text: &str| BASE64.decode(&text[3..]).expect("base64")[..NONCE_LEN].to_vec();
        assert_ne!(nonce(&first), nonce(&second));
    }

    #[test]
    fn data_copied_to_another_name_does_not_open() {
        let sealed = seal(&key(1), "api", b"secret value").expect("seal");
        assert_eq!(open(&key(1), "other", &sealed), Err(OpenError::Authentication));
    }

    #[test]
    fn a_wrong_key_does_not_open() {
        let sealed = seal(&key(1), "api", b"secret value").expect("seal");
        assert_eq!(open(&key(2), "api", &sealed), Err(OpenError::Authentication));
    }

    #[test]
    fn any_tampered_byte_is_detected() {
        let sealed = seal(&key(1), "api", b"secret value").expect("seal");
        let bytes = BASE64.decode(&sealed[3..]).expect("base64");
        for index in 0..bytes.len() {
            let mut tampered = bytes.clone();
            tampered[index] ^= 0x01;
            let text = format!("v1:{}", BASE64.encode(&tampered));
            assert_eq!(open(&key(1), "api", &text), Err(OpenError::Authentication), "byte {index}");
        }
    }

    #[test]
    fn malformed_text_is_a_format_error() {
        assert!(matches!(open(&key(1), "api", "plain"), Err(OpenError::Format(_))));
        assert!(matches!(open(&key(1), "api", "v1:!!"), Err(OpenError::Format(_))));
        assert!(matches!(open(&key(1), "api", "v1:AAAA"), Err(OpenError::Format(_))));
    }
}
