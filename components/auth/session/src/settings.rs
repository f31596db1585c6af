//! The signing key, which only the two auth components declare (every other setting is the
//! caller's, `urr_component::Settings`).

use urr_component::caller::misconfigured;
use urr_component::{Result, variable};
use urr_tokens::SigningKey;

/// The current signing key.
pub async fn signing_key() -> Result<SigningKey> {
    let pem = variable("jwt_signing_key").await?;
    let kid = variable("jwt_signing_kid").await?;
    SigningKey::from_pem(&pem, &kid).map_err(|e| misconfigured("jwt_signing_key", e))
}
