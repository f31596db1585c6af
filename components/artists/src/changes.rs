//! The admins' artist changes, each ONE call of its audited SQL function
//! (migrations/20261208000001_artists.sql): the change and its admin_audit_log row commit
//! together or not at all. Refusals come back as an `outcome` and change nothing.

use serde_json::{Value, json};
use spin_sdk::pg::{ParameterValue, Row};
use urr_component::pg::{column, jsonb, optional_text, text, uuid};
use urr_component::{ApiError, Response, Result};
use urr_fan::input::{parse_artist_changes, parse_new_artist};
use urr_fan::{FanError, Id, sql};

use crate::Actor;
use crate::reads::{STORE, not_found};

pub async fn create(actor: &Actor, body: &[u8]) -> Result<Response> {
    let artist = parse_new_artist(body)?;
    let row = change(
        sql::CREATE_ARTIST,
        actor,
        &artist.summary(),
        vec![
            text(&artist.name),
            optional_text(artist.image_url.as_deref()),
            optional_text(artist.description.as_deref()),
            optional_text(artist.membership_price.map(|p| p.to_string()).as_deref()),
        ],
    )
    .await?;
    expect(&row, "created")?;
    let id: String = column(&row, "artist_id")?;
    saved(201, "Artist created", &id).await
}

pub async fn update(actor: &Actor, id: &Id, body: &[u8]) -> Result<Response> {
    let changes = parse_artist_changes(body)?;
    let image = changes.image_url.clone();
    let description = changes.description.clone();
    let row = change(
        sql::UPDATE_ARTIST,
        actor,
        &changes.summary(),
        vec![
            uuid(id.as_str()),
            optional_text(changes.name.as_deref()),
            optional_text(image.clone().flatten().as_deref()),
            ParameterValue::Boolean(matches!(image, Some(None))),
            optional_text(description.clone().flatten().as_deref()),
            ParameterValue::Boolean(matches!(description, Some(None))),
            optional_text(changes.membership_price.map(|p| p.to_string()).as_deref()),
        ],
    )
    .await?;
    expect(&row, "updated")?;
    saved(200, "Artist updated", id.as_str()).await
}

pub async fn delete(actor: &Actor, id: &Id) -> Result<Response> {
    let row = change(
        sql::DELETE_ARTIST,
        actor,
        &json!({}),
        vec![uuid(id.as_str())],
    )
    .await?;
    expect(&row, "deleted")?;
    Ok(urr_component::json(
        200,
        &json!({"message": "Artist deleted", "id": id.as_str()}),
    ))
}

/// Runs one change function: `$1` admin id, `$2` client IP, `$3` request summary, then
/// `params`.
async fn change(
    statement: &str,
    actor: &Actor,
    summary: &Value,
    params: Vec<ParameterValue>,
) -> Result<Row> {
    let mut all = vec![
        uuid(&actor.admin_id),
        optional_text(actor.client_ip.as_deref()),
        jsonb(summary),
    ];
    all.extend(params);
    STORE.one(statement, all).await
}

/// The row's `outcome`: `success`, a refusal (its 4xx), or our bug (500 and a log line).
fn expect(row: &Row, success: &str) -> Result<()> {
    let outcome: String = column(row, "outcome")?;
    if outcome == success {
        return Ok(());
    }
    match FanError::from_outcome(&outcome) {
        Some(refusal) => Err(refusal.into()),
        None => {
            eprintln!("artists: unexpected outcome `{outcome}`");
            Err(ApiError::internal())
        }
    }
}

/// `{message, artist}`: the artist as the public pages show it.
async fn saved(status: u16, message: &str, id: &str) -> Result<Response> {
    let rows = STORE.query(sql::ARTIST_ROW, vec![uuid(id)]).await?;
    let artist: String = column(rows.first().ok_or_else(not_found)?, "artist")?;
    let message = serde_json::to_string(message).map_err(|_| ApiError::internal())?;
    Ok(urr_component::json_text(
        status,
        format!(r#"{{"message":{message},"artist":{artist}}}"#),
    ))
}
