//! Component `community`: the fan board of api-contract-more.md §5, as the `urr_community`
//! database role.
//!
//! - `GET /community/posts`, `GET|POST /community/posts/{id}...` (posts)    — `posts`
//! - `GET|POST /community/posts/{postId}/comments`, `DELETE .../{commentId}` — `comments`
//!
//! Reads are anonymous, charged per client IP to the `default` limit (and let through when Redis
//! cannot count them); the lists may sit 5 s in a shared cache, a post's detail is `no-store`
//! because it counts a view. Writes need a signed-in user whose session is not revoked (fail
//! closed without Redis), the CSRF origin rule and the per-user `write` limit. Every change and
//! every detail read is ONE call of its SQL function, which also decides ownership: the author
//! edits; the author or an admin deletes.

mod comments;
mod posts;
mod store;

use spin_sdk::http::Request;
use spin_sdk::http_service;
use urr_community_domain::CommunityRoute;
use urr_component::ratelimit::charge_client_or_pass;
use urr_component::request::{body, route as api_route};
use urr_component::{
    Access, Caller, RedisPolicy, Response, Result, Settings, respond, route_refused,
};
use urr_ratelimit::Category;

use crate::store::Author;

#[http_service]
async fn handle(req: Request) -> Response {
    urr_component::edge(req, route).await
}

async fn route(req: Request) -> Response {
    match CommunityRoute::parse(req.method().as_str(), &api_route(&req)) {
        Ok(route) => respond(dispatch(req, route).await),
        Err(refusal) => route_refused(refusal),
    }
}

async fn dispatch(req: Request, route: CommunityRoute) -> Result<Response> {
    let query = req.uri().query().unwrap_or("").to_string();
    match route {
        CommunityRoute::ListPosts => {
            charge_client_or_pass(&req, Category::Default).await?;
            posts::list(&query).await.map(store::shared_list)
        }
        CommunityRoute::ViewPost(post) => {
            charge_client_or_pass(&req, Category::Default).await?;
            posts::view(&post).await
        }
        CommunityRoute::ListComments(post) => {
            charge_client_or_pass(&req, Category::Default).await?;
            comments::list(&post, &query).await.map(store::shared_list)
        }
        CommunityRoute::CreatePost => {
            let author = admit(&req).await?;
            posts::create(&author, &body(req).await?).await
        }
        CommunityRoute::UpdatePost(post) => {
            let author = admit(&req).await?;
            posts::update(&author, &post, &body(req).await?).await
        }
        CommunityRoute::DeletePost(post) => posts::delete(&admit(&req).await?, &post).await,
        CommunityRoute::CreateComment(post) => {
            let author = admit(&req).await?;
            comments::create(&author, &post, &body(req).await?).await
        }
        CommunityRoute::DeleteComment { post, comment } => {
            comments::delete(&admit(&req).await?, &post, &comment).await
        }
    }
}

/// A write's caller: signed in (401), session not revoked (503 when Redis cannot say), the CSRF
/// origin rule (403), one charge to the per-user `write` limit (429).
async fn admit(req: &Request) -> Result<Author> {
    let settings = Settings::load().await?;
    let caller = Caller::admit(
        req,
        &settings,
        Access::Write,
        Category::Write,
        RedisPolicy::Optional,
    )
    .await?;
    Ok(Author {
        is_admin: caller.user.role == urr_tokens::Role::Admin,
        user_id: caller.user.user_id,
    })
}
