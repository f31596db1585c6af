//! Passwords: Argon2id (v=19) at or above the OWASP floor, PHC strings in the database, and
//! verification that costs the same whether or not the account exists.
//!
//! The cost is fixed at compile time: a build with parameters under the floor does not compile
//! (see the `const` assertion below), and a stored hash under the floor is reported by
//! [`meets_floor`]. docs/auth.md records what one hash costs inside a Wasm instance.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// The OWASP floor for Argon2id: 19 MiB, 2 passes, 1 lane (Password Storage Cheat Sheet).
pub const FLOOR_MEMORY_KIB: u32 = 19_456;
pub const FLOOR_TIME_COST: u32 = 2;
pub const FLOOR_PARALLELISM: u32 = 1;

/// What we hash with: exactly the floor. Each instance gets 64 MiB of linear memory, so one
/// 19 MiB hash fits with room to spare; raising memory is the first knob when hardware allows.
pub const MEMORY_KIB: u32 = 19_456;
pub const TIME_COST: u32 = 2;
/// One lane: a component instance is single-threaded.
pub const PARALLELISM: u32 = 1;
/// Salt length (bytes): the PHC recommendation.
pub const SALT_BYTES: usize = 16;

const _: () = assert!(
    MEMORY_KIB >= FLOOR_MEMORY_KIB
        && TIME_COST >= FLOOR_TIME_COST
        && PARALLELISM >= FLOOR_PARALLELISM,
    "Argon2id parameters below the OWASP floor"
);

/// A well-formed hash no password matches (zero salt, arbitrary output) with the current
/// parameters. Verifying an unknown email's password
/// against it costs exactly what a real verification costs, so timing does not tell whether an
/// account exists. A unit test keeps its parameters in step with the constants above.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$4NW3kkFD1mPYhM4R6ciT+7+TIgHLqrGAG7uB29rQuT4";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("argon2: {0}")]
    Argon2(String),
}

fn hasher() -> Result<Argon2<'static>, PasswordError> {
    let params = Params::new(MEMORY_KIB, TIME_COST, PARALLELISM, None)
        .map_err(|e| PasswordError::Argon2(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) for a password and a salt.
pub fn hash_password(password: &str, salt: &[u8; SALT_BYTES]) -> Result<String, PasswordError> {
    let salt = SaltString::encode_b64(salt).map_err(|e| PasswordError::Argon2(e.to_string()))?;
    hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Argon2(e.to_string()))
}

/// Checks a password against a stored PHC string (constant-time comparison of the outputs).
/// `None` (no such account) burns the same work against [`DUMMY_HASH`] and fails.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    let phc = stored.unwrap_or(DUMMY_HASH);
    let matches = match (PasswordHash::new(phc), hasher()) {
        (Ok(parsed), Ok(argon2)) => argon2.verify_password(password.as_bytes(), &parsed).is_ok(),
        _ => false,
    };
    matches && stored.is_some()
}

/// Whether a PHC string is Argon2id v=19 at or above the floor.
pub fn meets_floor(phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    parsed.algorithm.as_str() == "argon2id"
        && parsed.version == Some(0x13)
        && params.m_cost() >= FLOOR_MEMORY_KIB
        && params.t_cost() >= FLOOR_TIME_COST
        && params.p_cost() >= FLOOR_PARALLELISM
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_argon2id_v19_at_the_floor_and_verifies() {
        let phc = hash_password("correct horse", &[7; SALT_BYTES]).expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(meets_floor(&phc));
        assert!(verify_password("correct horse", Some(&phc)));
        assert!(!verify_password("wrong horse", Some(&phc)));
    }

    #[test]
    fn an_unknown_account_never_verifies_even_with_the_dummy_password() {
        assert!(!verify_password("anything", None));
        assert!(!verify_password("", None));
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_costs() {
        let real = hash_password("x", &[0; SALT_BYTES]).expect("hash");
        let params = |phc: &str| phc.split('$').nth(3).map(str::to_string);
        assert_eq!(params(DUMMY_HASH), params(&real));
        assert!(meets_floor(DUMMY_HASH));
    }

    #[test]
    fn hashes_below_the_floor_or_of_another_kind_are_flagged() {
        assert!(!meets_floor(
            "$argon2id$v=19$m=4096,t=3,p=1$AAAAAAAAAAAAAAAAAAAAAA$4NW3kkFD1mPYhM4R6ciT+7+TIgHLqrGAG7uB29rQuT4"
        ));
        assert!(!meets_floor(
            "$argon2i$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$4NW3kkFD1mPYhM4R6ciT+7+TIgHLqrGAG7uB29rQuT4"
        ));
        assert!(!meets_floor("$2b$12$abcdefghijklmnopqrstuv"));
    }
}
