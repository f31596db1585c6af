//! Fair start: everyone who joins before the sale opens lands in a pre-sale pool, ordered by a
//! draw nobody can predict or influence, and the order can be checked by anyone afterwards.
//!
//! - The event's **seed** is 32 random bytes, made by the component the first time someone joins
//!   before the opening (stored once with `HSETNX`: concurrent first joins agree on one).
//! - Its **hash** (SHA-256 of the 32 bytes, hex) is published from then on in the status reply
//!   (`fairStart.seedHash`); the **seed** itself is published (`fairStart.seed`) only once the
//!   sale has opened by Redis' clock.
//! - A user's **draw** is the first 48 bits (big-endian) of HMAC-SHA256(key = the 32 seed bytes,
//!   message = the user id as lower-case UUID text). The pool is admitted in ascending draw
//!   order, ties (practically impossible) by user id.
//!
//! The user id comes from the verified access token and the seed is secret until the opening,
//! so nobody can choose or foresee their own draw; joining again gives the same draw (no
//! re-rolls). 48 bits because a Redis ZSET score is a double: integers below 2^53 are exact.

/// Bytes of a seed.
pub const SEED_BYTES: usize = 32;
/// Bits of the HMAC kept as the draw (exact as a ZSET score).
pub const DRAW_BITS: u32 = 48;

/// One event's fair-start seed.
#[derive(Clone, PartialEq, Eq)]
pub struct Seed([u8; SEED_BYTES]);

impl std::fmt::Debug for Seed {
    // The seed is secret until the opening: never in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seed(..)")
    }
}

impl Seed {
    pub fn from_bytes(bytes: [u8; SEED_BYTES]) -> Self {
        Self(bytes)
    }

    /// The stored form: 64 lower-case hex digits. Anything else is not a seed.
    pub fn from_hex(text: &str) -> Option<Self> {
        let text = text.as_bytes();
        if text.len() != SEED_BYTES * 2 {
            return None;
        }
        let mut bytes = [0u8; SEED_BYTES];
        for (byte, pair) in bytes.iter_mut().zip(text.chunks_exact(2)) {
            let digit = |c: u8| (c as char).to_digit(16);
            *byte = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
        }
        Some(Self(bytes))
    }

    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// SHA-256 of the 32 seed bytes, hex: the commitment published before the opening.
    pub fn hash_hex(&self) -> String {
        hex(&hmac_sha256::Hash::hash(&self.0))
    }

    /// The user's draw: the first 48 bits of HMAC-SHA256(seed, user id), big-endian.
    pub fn draw(&self, user_id: &str) -> u64 {
        let mac = hmac_sha256::HMAC::mac(user_id.to_ascii_lowercase().as_bytes(), self.0);
        let mut top = [0u8; 8];
        top[2..].copy_from_slice(&mac[..6]);
        u64::from_be_bytes(top)
    }
}

/// A pre-sale joiner's draw and the seed (hex) it was made with: the script pools the user only
/// if that seed is still the stored one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draw {
    pub seed_hex: String,
    pub draw: u64,
}

impl Draw {
    pub fn new(seed: &Seed, user_id: &str) -> Self {
        Self {
            seed_hex: seed.to_hex(),
            draw: seed.draw(user_id),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_round_trips_and_garbage_is_no_seed() {
        let seed = Seed::from_bytes([0xab; SEED_BYTES]);
        assert_eq!(seed.to_hex(), "ab".repeat(SEED_BYTES));
        assert_eq!(Seed::from_hex(&seed.to_hex()), Some(seed.clone()));
        assert_eq!(Seed::from_hex(&"AB".repeat(SEED_BYTES)), Some(seed));
        for bad in ["", "ab", &"zz".repeat(SEED_BYTES), &"a".repeat(63)] {
            assert_eq!(Seed::from_hex(bad), None, "{bad}");
        }
        assert_eq!(format!("{:?}", Seed::from_bytes([1; 32])), "Seed(..)");
    }

    #[test]
    fn the_hash_and_the_draw_are_the_published_functions() {
        // Independent values (Python's hashlib / hmac) for the all-zero seed.
        let zero = Seed::from_bytes([0; SEED_BYTES]);
        assert_eq!(
            zero.hash_hex(),
            "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
        );
        // int.from_bytes(hmac.new(bytes(32), b"00000000-0000-4000-8000-000000000001",
        //                           hashlib.sha256).digest()[:6], "big")
        let expected = 111_094_830_010_159;
        assert_eq!(zero.draw("00000000-0000-4000-8000-000000000001"), expected);
        assert!(expected < 1 << DRAW_BITS);
        assert_eq!(
            zero.draw("ABCDEF00-0000-4000-8000-000000000001"),
            zero.draw("abcdef00-0000-4000-8000-000000000001"),
            "the user id is taken in lower case, as the waiting room stores it"
        );
        assert_ne!(zero.draw("a"), zero.draw("b"));
        let other = Seed::from_bytes([1; SEED_BYTES]);
        assert_ne!(zero.draw("a"), other.draw("a"), "the seed decides");
    }
}
