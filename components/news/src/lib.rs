//! Component `news`: the notices of api-contract-more.md §6, as the `urr_news` database role.
//!
//! - `GET /news`, `GET /news/{id}`                 — public reads (a detail read counts a view)
//! - `POST /news`, `PUT /news/{id}`, `DELETE /news/{id}` — admins only (401 anonymous, 403 a user)
//!
//! Reads are anonymous, charged per client IP to the `default` limit; the list may sit 5 s in a
//! shared cache, a notice's detail is `no-store` (it counts a view). A write authenticates (the
//! deny-list fails closed without Redis), refuses a non-admin, applies the CSRF origin rule and
//! the per-user `write` limit, then makes ONE call of its SQL function, which writes the
//! `admin_audit_log` row in the same transaction as the change. The author's name comes from the
//! account, never from the body (Q15); any admin may edit or delete any notice (Q14).

mod notices;

use spin_sdk::http::Request;
use spin_sdk::http_service;
use urr_community_domain::{CommunityError, NewsRoute};
use urr_component::ratelimit::charge_client_or_pass;
use urr_component::request::{body, client_ip, route as api_route};
use urr_component::{
    Access, Caller, RedisPolicy, Response, Result, Settings, respond, route_refused,
};
use urr_ratelimit::Category;
use urr_tokens::Role;

#[http_service]
async fn handle(req: Request) -> Response {
    urr_component::edge(req, route).await
}

async fn route(req: Request) -> Response {
    match NewsRoute::parse(req.method().as_str(), &api_route(&req)) {
        Ok(route) => respond(dispatch(req, route).await),
        Err(refusal) => route_refused(refusal),
    }
}

async fn dispatch(req: Request, route: NewsRoute) -> Result<Response> {
    match route {
        NewsRoute::List => {
            charge_client_or_pass(&req, Category::Default).await?;
            notices::list(req.uri().query().unwrap_or("")).await
        }
        NewsRoute::View(id) => {
            charge_client_or_pass(&req, Category::Default).await?;
            notices::view(&id).await
        }
        NewsRoute::Create => {
            let actor = admit_admin(&req).await?;
            notices::create(&actor, &body(req).await?).await
        }
        NewsRoute::Update(id) => {
            let actor = admit_admin(&req).await?;
            notices::update(&actor, &id, &body(req).await?).await
        }
        NewsRoute::Delete(id) => notices::delete(&admit_admin(&req).await?, &id).await,
    }
}

/// Who is acting, for the audit row: the admin's user id and the client's address (`None` when
/// it is not an IP address, e.g. a misconfigured proxy header).
pub struct Actor {
    pub admin_id: String,
    pub client_ip: Option<String>,
}

/// Signed in (401), an admin (403), the CSRF origin rule (403), one charge to the per-user
/// `write` limit (429). Identity comes before everything, so an anonymous caller learns nothing.
async fn admit_admin(req: &Request) -> Result<Actor> {
    let settings = Settings::load().await?;
    let mut caller = Caller::identify(req, &settings, Access::Write, RedisPolicy::Optional).await?;
    if caller.user.role != Role::Admin {
        return Err(CommunityError::AdminRequired.into());
    }
    caller.check_origin(req, &settings)?;
    caller.charge(&settings, Category::Write).await?;
    Ok(Actor {
        admin_id: caller.user.user_id,
        client_ip: Some(client_ip(req, &settings))
            .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok()),
    })
}
