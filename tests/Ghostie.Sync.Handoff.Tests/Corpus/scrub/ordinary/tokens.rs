use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A refresh token as the client sees it, and the hash the server stores.
pub struct Issued {
    pub token: String,
    pub hash: [u8; 32],
}

/// Number of random bytes in a token; 32 bytes is 256 bits.
pub const TOKEN_BYTES: usize = 32;
pub const MAX_TOKENS_PER_FAMILY: usize = 64;

pub fn issue(pepper: &[u8]) -> Issued {
    let mut raw = [0u8; TOKEN_BYTES];
    rand::thread_rng().fill_bytes(&mut raw);
    let token = URL_SAFE_NO_PAD.encode(raw);
    let hash = hash_token(&token, pepper);
    Issued { token, hash }
}

pub fn hash_token(token: &str, pepper: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(pepper);
    hasher.update(token.as_bytes());
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_differ_per_pepper() {
        let token = "not-a-real-token";
        assert_ne!(hash_token(token, b"pepper-one"), hash_token(token, b"pepper-two"));
    }

    #[test]
    fn known_vector() {
        // sha256("" + "abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        let expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(hex::encode(hash_token("abc", b"")), expected);
    }
}
