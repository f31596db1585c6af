//! Development session keys for `urr-edge up`: one Ed25519 key pair under `<state>/keys/`,
//! generated on the first run and reused afterwards (so sessions survive a restart), injected as
//! the `jwt_signing_key`, `jwt_signing_kid` and `jwt_public_keys` variables. Production keys come
//! from the secret store, never from here; tests mint their own.

use anyhow::{Context, Result};
use ct_codecs::{Base64, Encoder as _};
use std::collections::BTreeMap;
use std::path::Path;

/// The private key (PEM PKCS#8), readable by its owner only.
const SIGNING_KEY_FILE: &str = "jwt-signing.pem";
/// Its key id; a new id with every new key, so tokens of an old key are told apart.
const KID_FILE: &str = "jwt-signing.kid";

/// A development key pair, as the variables carry it.
pub struct DevKeys {
    pub kid: String,
    pub private_pem: String,
    /// `kid:base64(raw public key)`, the `jwt_public_keys` format.
    pub public_entry: String,
}

fn public_entry(kid: &str, key_pair: &ed25519_compact::KeyPair) -> String {
    let public = Base64::encode_to_string(key_pair.pk.as_ref()).unwrap_or_default();
    format!("{kid}:{public}")
}

/// Reads the key pair under `dir`, or generates and stores one.
pub fn load_or_generate(dir: &Path) -> Result<DevKeys> {
    load_or_generate_pair(dir, SIGNING_KEY_FILE, KID_FILE, "dev")
}

/// The queue's entry-token key pair (its own key, so neither kind of token passes as the other).
pub fn load_or_generate_queue(dir: &Path) -> Result<DevKeys> {
    load_or_generate_pair(dir, "queue-signing.pem", "queue-signing.kid", "devq")
}

fn load_or_generate_pair(
    dir: &Path,
    pem_file: &str,
    kid_file: &str,
    kid_prefix: &str,
) -> Result<DevKeys> {
    let pem_path = dir.join(pem_file);
    let kid_path = dir.join(kid_file);
    if pem_path.exists() && kid_path.exists() {
        let private_pem = std::fs::read_to_string(&pem_path)
            .with_context(|| format!("reading {}", pem_path.display()))?;
        let kid = std::fs::read_to_string(&kid_path)?.trim().to_string();
        let secret = ed25519_compact::SecretKey::from_pem(&private_pem)
            .map_err(|e| anyhow::anyhow!("{} is not an Ed25519 key: {e}", pem_path.display()))?;
        let key_pair = ed25519_compact::KeyPair {
            pk: secret.public_key(),
            sk: secret,
        };
        return Ok(DevKeys {
            public_entry: public_entry(&kid, &key_pair),
            kid,
            private_pem,
        });
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let key_pair = ed25519_compact::KeyPair::generate();
    let kid = format!(
        "{kid_prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let private_pem = key_pair.sk.to_pem();
    write_private(&pem_path, &private_pem)?;
    std::fs::write(&kid_path, format!("{kid}\n"))?;
    tracing::info!("generated development session keys in {}", dir.display());
    Ok(DevKeys {
        public_entry: public_entry(&kid, &key_pair),
        kid,
        private_pem,
    })
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("creating {}", path.display()))
}

/// The key variables the manifest declares, filled from the development keys (session keys,
/// then the queue's entry-token keys).
pub fn variables(
    keys: &DevKeys,
    queue: &DevKeys,
    declared: &BTreeMap<String, crate::variables::VariableDecl>,
) -> BTreeMap<String, String> {
    [
        ("jwt_signing_key", keys.private_pem.clone()),
        ("jwt_signing_kid", keys.kid.clone()),
        ("jwt_public_keys", keys.public_entry.clone()),
        ("queue_signing_key", queue.private_pem.clone()),
        ("queue_signing_kid", queue.kid.clone()),
        ("queue_public_keys", queue.public_entry.clone()),
    ]
    .into_iter()
    .filter(|(name, _)| declared.contains_key(*name))
    .map(|(name, value)| (name.to_string(), value))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_generated_once_and_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = load_or_generate(dir.path()).expect("generate");
        let again = load_or_generate(dir.path()).expect("reuse");
        assert_eq!(first.kid, again.kid);
        assert_eq!(first.private_pem, again.private_pem);
        assert_eq!(first.public_entry, again.public_entry);
        assert!(first.private_pem.contains("BEGIN PRIVATE KEY"));
        let (kid, public) = first.public_entry.split_once(':').expect("kid:key");
        assert_eq!(kid, first.kid);
        assert_eq!(public.len(), 44, "base64 of 32 bytes");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(SIGNING_KEY_FILE))
                .expect("key file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn only_declared_variables_are_set() {
        let dir = tempfile::tempdir().expect("tempdir");
        let keys = load_or_generate(dir.path()).expect("generate");
        let queue = load_or_generate_queue(dir.path()).expect("generate");
        assert_ne!(
            queue.public_entry, keys.public_entry,
            "the queue has its own key"
        );
        let decl = crate::variables::VariableDecl {
            default: None,
            required: true,
            secret: true,
        };
        let declared: BTreeMap<String, _> = [
            ("jwt_signing_key".to_string(), decl.clone()),
            ("queue_public_keys".to_string(), decl),
        ]
        .into();
        let vars = variables(&keys, &queue, &declared);
        assert_eq!(
            vars.keys().collect::<Vec<_>>(),
            vec!["jwt_signing_key", "queue_public_keys"]
        );
        assert_eq!(vars["queue_public_keys"], queue.public_entry);
    }
}
