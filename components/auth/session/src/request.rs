//! What the session routes read from the request besides what every component reads
//! (`urr_component::request`): whether the client wants its tokens in the body.

use spin_sdk::http::Request;

/// Whether the client asked for tokens in the body (`X-Token-Delivery: body`).
pub fn wants_tokens_in_body(req: &Request) -> bool {
    urr_component::request::header(req, "x-token-delivery")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("body"))
}
