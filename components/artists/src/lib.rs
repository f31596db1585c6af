//! Component `artists`, as the `urr_artists` database role:
//!
//! - `GET /artists`, `GET /artists/{id}` (anon)                — `reads`: public, CDN-cacheable
//!   like the catalog (strong ETag, 304 on `If-None-Match`), charged per client IP
//! - `POST /artists`, `PATCH|DELETE /artists/{id}` (admin)    — `changes`: each ONE call of its
//!   audited SQL function, which writes the audit row in the same transaction
//! - `POST /artists/enrich` (admin)                            — 501 `enrich_unavailable`
//!
//! Admin routes: 401 without a credential, 403 `admin_required` for a non-admin, then the CSRF
//! origin rule and the rate limit; writes check the session deny-list and fail closed (503) when
//! Redis cannot answer. Nothing an admin route answers is cacheable.

mod changes;
mod reads;

use spin_sdk::http::{Method, Request};
use spin_sdk::http_service;
use urr_component::request::{body, client_ip, route as api_route};
use urr_component::{Access, Caller, RedisPolicy, Response, Result, Settings, route_refused};
use urr_fan::FanError;
use urr_fan::route::ArtistRoute;
use urr_ratelimit::Category;
use urr_tokens::Role;

#[http_service]
async fn handle(req: Request) -> Response {
    urr_component::edge(req, route).await
}

async fn route(req: Request) -> Response {
    let route = match ArtistRoute::parse(req.method().as_str(), &api_route(&req)) {
        Ok(route) => route,
        Err(refusal) => return route_refused(refusal),
    };
    if route.is_admin() {
        let mut response = urr_component::respond(admin(req, route).await);
        response.headers_mut().insert(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
        return response;
    }
    reads::public(req, route).await
}

/// Who is acting, for the audit row: the admin's user id and the client's address (`None` when
/// it is not an IP address).
pub struct Actor {
    pub admin_id: String,
    pub client_ip: Option<String>,
}

async fn admin(req: Request, route: ArtistRoute) -> Result<Response> {
    let settings = Settings::load().await?;
    let access = if *req.method() == Method::GET {
        Access::Read
    } else {
        Access::Write
    };
    let mut caller = Caller::identify(&req, &settings, access, RedisPolicy::Optional).await?;
    if caller.user.role != Role::Admin {
        return Err(FanError::AdminRequired.into());
    }
    caller.check_origin(&req, &settings)?;
    caller.charge(&settings, Category::Default).await?;
    let actor = Actor {
        admin_id: caller.user.user_id.clone(),
        client_ip: Some(client_ip(&req, &settings))
            .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok()),
    };
    match route {
        ArtistRoute::Create => changes::create(&actor, &body(req).await?).await,
        ArtistRoute::Update(id) => changes::update(&actor, &id, &body(req).await?).await,
        ArtistRoute::Delete(id) => changes::delete(&actor, &id).await,
        ArtistRoute::Enrich => Err(FanError::EnrichUnavailable.into()),
        ArtistRoute::List | ArtistRoute::Detail(_) => Err(urr_component::ApiError::not_found()),
    }
}
