//! SHA-1, behind the API the rest of the server uses (DEBUG DIGEST's
//! Redis-compatible digests, and Lua's `redis.sha1hex` / script SHAs): the
//! RustCrypto `sha1` crate does the hashing. Not used for anything secret.

use sha1::Digest;

/// An incremental SHA-1.
#[derive(Default, Clone)]
pub struct Sha1(sha1::Sha1);

impl Sha1 {
    pub fn new() -> Sha1 {
        Sha1(sha1::Sha1::new())
    }

    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    pub fn finish(self) -> [u8; 20] {
        self.0.finalize().into()
    }
}

/// The SHA-1 of `data`.
pub fn sha1(data: &[u8]) -> [u8; 20] {
    let mut s = Sha1::new();
    s.update(data);
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn vectors() {
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        let long = vec![b'a'; 1_000_000];
        assert_eq!(
            hex(&sha1(&long)),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f"
        );
        let mut s = Sha1::new();
        for c in long.chunks(77) {
            s.update(c);
        }
        assert_eq!(hex(&s.finish()), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    }
}
