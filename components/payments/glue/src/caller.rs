//! Who is calling a payments route: the shared pipeline (`urr_component::Caller`) with the
//! payments policy. Pay may proceed on Postgres alone (Postgres decides), so when Redis is down
//! the limiter and the revocation deny-list are skipped rather than failing closed.

use crate::PaySettings;
use spin_sdk::http::Request;
use urr_component::{Access, Caller, RedisPolicy, Result};
use urr_ratelimit::Category;

/// The verified user of `req`, origin-checked and charged one request of `category`.
/// `Access::Read`: with Redis down the token's own word stands (30-minute tokens), so a buyer
/// can still pay; a revoked family is refused whenever Redis answers.
pub async fn caller(req: &Request, settings: &PaySettings, category: Category) -> Result<Caller> {
    Caller::admit(
        req,
        &settings.session,
        Access::Read,
        category,
        RedisPolicy::Optional,
    )
    .await
}
