//! Argon2's working memory, kept between password checks instead of allocated for each.
//!
//! A check needs `m_cost` KiB of blocks (19 MiB with the default parameters). Allocated per
//! check, each such block went into the allocator's arena of whichever blocking thread ran the
//! check, and the allocator keeps freed memory of that size in its arenas: after 1,000 sign-ins
//! the relay held about 180 MiB it no longer used, more than half its memory under load
//! (docs/benchmarks.md, "the relay under load", third round). Kept here, the blocks are
//! allocated once per concurrent check — the password-check turns (`max_concurrent_password_checks`,
//! default 2) bound how many are in use — and at most [`KEEP`] idle sets are kept.

use std::sync::Mutex;

use argon2::password_hash::{Output, PasswordHash};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// How many idle sets of blocks are kept at most.
pub const KEEP: usize = 4;

/// Idle sets of blocks.
pub struct PasswordMemory {
    idle: Mutex<Vec<Vec<Block>>>,
}

/// The relay's: every password check of the process goes through it.
pub static SHARED: PasswordMemory = PasswordMemory::new();

impl Default for PasswordMemory {
    fn default() -> Self {
        PasswordMemory::new()
    }
}

impl PasswordMemory {
    pub const fn new() -> PasswordMemory {
        PasswordMemory {
            idle: Mutex::new(Vec::new()),
        }
    }

    /// A set of at least `count` blocks: an idle one when there is, else a new one.
    fn take(&self, count: usize) -> Vec<Block> {
        let idle = self.idle.lock().ok().and_then(|mut i| i.pop());
        match idle {
            Some(blocks) if blocks.len() >= count => blocks,
            _ => vec![Block::default(); count],
        }
    }

    /// Keep `blocks` for a later check (unless [`KEEP`] sets are idle already).
    fn give_back(&self, blocks: Vec<Block>) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < KEEP
        {
            idle.push(blocks);
        }
    }

    /// How many sets of blocks are idle.
    pub fn idle(&self) -> usize {
        self.idle.lock().map_or(0, |i| i.len())
    }

    /// Whether `password` hashes to `hash` (a PHC string's parts) — what
    /// `argon2::PasswordVerifier::verify_password` decides, with the parameters, algorithm and
    /// version the hash names and the same constant-time comparison, on kept memory.
    pub fn verify(&self, password: &[u8], hash: &PasswordHash<'_>) -> bool {
        let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
            return false;
        };
        let (Ok(algorithm), Ok(version), Ok(params)) = (
            Algorithm::try_from(hash.algorithm),
            hash.version
                .map_or(Ok(Version::default()), Version::try_from),
            Params::try_from(hash),
        ) else {
            return false;
        };
        let mut salt_bytes = [0u8; 64];
        let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
            return false;
        };
        let count = params.block_count();
        let argon = Argon2::new(algorithm, version, params);
        let mut out = vec![0u8; expected.len()];
        let mut blocks = self.take(count);
        let hashed =
            argon.hash_password_into_with_memory(password, salt, &mut out, &mut blocks[..count]);
        self.give_back(blocks);
        hashed.is_ok() && Output::new(&out).is_ok_and(|computed| computed == *expected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordHasher;
    use argon2::password_hash::SaltString;

    fn phc(password: &str) -> String {
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .unwrap()
            .to_string()
    }

    #[test]
    fn it_decides_as_the_library_does_and_reuses_its_memory() {
        let memory = PasswordMemory::new();
        let stored = phc("correct horse");
        let hash = PasswordHash::new(&stored).unwrap();
        assert!(
            memory.verify(b"correct horse", &hash),
            "the password the hash was made from must verify"
        );
        assert_eq!(memory.idle(), 1, "the blocks are kept after a check");
        assert!(
            !memory.verify(b"correct horsf", &hash),
            "a wrong password must not verify (on reused memory holding the last check's state)"
        );
        assert!(
            memory.verify(b"correct horse", &hash),
            "and the right one still does on that memory"
        );
        assert_eq!(
            memory.idle(),
            1,
            "one check at a time needs one set, reused"
        );
    }

    #[test]
    fn a_hash_without_output_or_of_another_algorithm_does_not_verify() {
        let memory = PasswordMemory::new();
        let no_output =
            PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg").unwrap();
        assert!(
            !memory.verify(b"anything", &no_output),
            "nothing to compare with"
        );
        let stored = phc("pw").replace("$argon2id$", "$scrypt$");
        let other = PasswordHash::new(&stored).unwrap();
        assert!(
            !memory.verify(b"pw", &other),
            "only Argon2 hashes are checked here"
        );
    }
}
