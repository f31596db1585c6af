//! Resale (contract part 2, §4): the price rule, the routes of the `transfers` component, its
//! request body and browse query, and the refusals its SQL functions name.
//!
//! The price is not the seller's to set: a listing costs its face value (the reservation's
//! `total_amount`, which is also the cap) plus a fee the buyer pays, a percentage by the
//! seller's tier. The decision is taken in Postgres under the reservation's lock
//! (`transfer_list`, `transfer_fee_percent`); this module states the same rule so it is tested
//! here in milliseconds, and a test holds the two in step.

use crate::input::{field, object};
pub use crate::paging::total_pages;
use crate::paging::{self, Page};
use crate::tier::Tier;
use crate::{FanError, Id};
use serde_json::Value;
use urr_api::route::{RouteError, allow, segments};

/// Listings per browse page when the client does not say (URR's default, contract §4.4).
pub const DEFAULT_BROWSE_LIMIT: i64 = 20;
/// Listings `GET /transfers/my` returns at most (URR has no paging there): far more than one
/// user lists, and a bound on the reply.
pub const MAX_MY_TRANSFERS: i64 = 500;
/// The fee percent of a listing whose event has no artist (no membership needed, contract §4.2).
pub const NO_ARTIST_FEE_PERCENT: i64 = 10;

/// What the buyer pays for a listing and how it splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    /// The face value, which is also the cap.
    pub original_price: i64,
    pub transfer_fee_percent: i64,
    pub transfer_fee: i64,
    /// `original_price + transfer_fee`.
    pub total_price: i64,
}

impl Price {
    /// The seller's payout: the sale minus the platform's fee, i.e. the face value.
    pub fn payout(&self) -> i64 {
        self.total_price - self.transfer_fee
    }
}

/// The fee percent a seller pays: by the tier of their membership of the event's artist, or
/// [`NO_ARTIST_FEE_PERCENT`] for an event without an artist (`None`). A BRONZE seller of an
/// artist's event may not list at all: `None` back.
pub fn fee_percent(seller_tier: Option<Tier>) -> Option<i64> {
    match seller_tier {
        None => Some(NO_ARTIST_FEE_PERCENT),
        Some(tier) => tier.benefits().transfer_fee_percent,
    }
}

/// The price of a listing of a reservation worth `face_value` KRW: the fee is the floor of
/// `face_value × percent / 100`. `None` for a free ticket (nothing to pay for) or a seller who
/// may not list.
pub fn price(face_value: i64, seller_tier: Option<Tier>) -> Option<Price> {
    let percent = fee_percent(seller_tier)?;
    if face_value <= 0 {
        return None;
    }
    let fee = face_value * percent / 100;
    Some(Price {
        original_price: face_value,
        transfer_fee_percent: percent,
        transfer_fee: fee,
        total_price: face_value + fee,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferRoute {
    /// `POST /transfers {reservationId}`.
    List,
    /// `GET /transfers?artistId&page&limit`.
    Browse,
    /// `GET /transfers/my`.
    Mine,
    /// `GET /transfers/{id}`.
    Detail(Id),
    /// `POST /transfers/{id}/cancel`.
    Cancel(Id),
}

impl TransferRoute {
    pub fn parse(method: &str, path: &str) -> Result<Self, RouteError<FanError>> {
        let id = |text: &str| Id::try_from(text).map_err(RouteError::Invalid);
        match segments(path).as_slice() {
            ["transfers"] => allow(
                method,
                "GET, HEAD, POST",
                Ok(if method == "POST" {
                    Self::List
                } else {
                    Self::Browse
                }),
            ),
            ["transfers", "my"] => allow(method, "GET, HEAD", Ok(Self::Mine)),
            ["transfers", transfer] => allow(method, "GET, HEAD", id(transfer).map(Self::Detail)),
            ["transfers", transfer, "cancel"] => {
                allow(method, "POST", id(transfer).map(Self::Cancel))
            }
            _ => Err(RouteError::NotFound),
        }
    }
}

/// `POST /transfers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewListing {
    pub reservation_id: Id,
}

/// `{reservationId}`: missing → `missing_field`, anything but a UUID string → `invalid_id`.
pub fn parse_listing(body: &[u8]) -> Result<NewListing, FanError> {
    let map = object(body)?;
    let id = match field(&map, "reservationId", "reservation_id") {
        None | Some(Value::Null) => return Err(FanError::MissingField("reservationId")),
        Some(v) => v.as_str().ok_or(FanError::InvalidId)?,
    };
    Ok(NewListing {
        reservation_id: Id::try_from(id)?,
    })
}

/// `GET /transfers?artistId&page&limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Browse {
    pub artist_id: Option<Id>,
    pub page: Page,
}

impl Browse {
    /// `page` 1..=`MAX_PAGE` (below 1 is 1), `limit` clamped to 1..=`MAX_LIMIT` (default
    /// [`DEFAULT_BROWSE_LIMIT`]), `artistId` a UUID when present and non-empty; the first of a
    /// repeated parameter wins, others are ignored.
    pub fn parse(raw: &str) -> Result<Self, FanError> {
        let [artist, artist_alias, page, limit] =
            urr_api::paging::first_values(raw, ["artistId", "artist_id", "page", "limit"]);
        let artist_id = match artist.or(artist_alias).as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(Id::try_from(text)?),
        };
        Ok(Self {
            artist_id,
            page: paging::from_values(page.as_deref(), limit.as_deref(), DEFAULT_BROWSE_LIMIT)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b";

    fn id() -> Id {
        Id::try_from(ID).expect("valid")
    }

    #[test]
    fn the_buyer_pays_face_value_plus_the_sellers_tier_fee() {
        let silver = price(15_000, Some(Tier::Silver)).expect("listable");
        assert_eq!(
            (
                silver.transfer_fee_percent,
                silver.transfer_fee,
                silver.total_price
            ),
            (10, 1_500, 16_500)
        );
        assert_eq!(silver.payout(), 15_000, "the seller gets the face value");
        for tier in [Tier::Gold, Tier::Diamond] {
            let p = price(15_000, Some(tier)).expect("listable");
            assert_eq!((p.transfer_fee, p.total_price), (750, 15_750));
        }
        let no_artist = price(15_000, None).expect("listable");
        assert_eq!(no_artist.transfer_fee_percent, 10);
    }

    #[test]
    fn the_fee_is_floored_and_never_more_than_its_percent() {
        for face in [1, 9, 10, 19, 99, 101, 12_345, 999_999_999] {
            for tier in [None, Some(Tier::Silver), Some(Tier::Gold)] {
                let p = price(face, tier).expect("listable");
                assert!(p.transfer_fee * 100 <= face * p.transfer_fee_percent);
                assert!((p.transfer_fee + 1) * 100 > face * p.transfer_fee_percent);
                assert_eq!(p.total_price, p.original_price + p.transfer_fee);
                assert!(
                    p.total_price <= i64::from(i32::MAX),
                    "fits the integer column"
                );
            }
        }
        assert_eq!(
            price(9, Some(Tier::Silver)).map(|p| p.transfer_fee),
            Some(0)
        );
    }

    #[test]
    fn a_bronze_seller_or_a_free_ticket_cannot_be_listed() {
        assert_eq!(price(15_000, Some(Tier::Bronze)), None);
        assert_eq!(price(0, None), None);
        assert_eq!(price(-5, Some(Tier::Gold)), None);
    }

    #[test]
    fn the_sql_fee_table_is_the_same_rule() {
        let sql = include_str!("../../../migrations/20261208000051_transfers.sql");
        assert!(
            sql.contains("RETURN CASE p_tier WHEN 'GOLD' THEN 5 WHEN 'DIAMOND' THEN 5 ELSE 10 END")
        );
        assert_eq!(fee_percent(Some(Tier::Gold)), Some(5));
        assert_eq!(fee_percent(Some(Tier::Diamond)), Some(5));
        assert_eq!(fee_percent(Some(Tier::Silver)), Some(10));
        assert_eq!(fee_percent(None), Some(10));
    }

    #[test]
    fn transfer_paths_name_their_operation() {
        let p = TransferRoute::parse;
        assert_eq!(p("POST", "/transfers"), Ok(TransferRoute::List));
        assert_eq!(p("GET", "/transfers"), Ok(TransferRoute::Browse));
        assert_eq!(p("GET", "/transfers/my"), Ok(TransferRoute::Mine));
        assert_eq!(
            p("GET", &format!("/transfers/{ID}")),
            Ok(TransferRoute::Detail(id()))
        );
        assert_eq!(
            p("POST", &format!("/transfers/{ID}/cancel")),
            Ok(TransferRoute::Cancel(id()))
        );
        assert_eq!(
            p("GET", "/transfers/nope"),
            Err(RouteError::Invalid(FanError::InvalidId))
        );
        assert_eq!(
            p("GET", &format!("/transfers/{ID}/cancel")),
            Err(RouteError::MethodNotAllowed("POST"))
        );
        assert_eq!(
            p("POST", "/transfers/my"),
            Err(RouteError::MethodNotAllowed("GET, HEAD"))
        );
        assert_eq!(p("GET", "/transfers/a/b/c"), Err(RouteError::NotFound));
    }

    #[test]
    fn a_listing_body_names_one_reservation() {
        assert_eq!(
            parse_listing(format!(r#"{{"reservationId":"{ID}"}}"#).as_bytes()),
            Ok(NewListing {
                reservation_id: id()
            })
        );
        assert_eq!(
            parse_listing(format!(r#"{{"reservation_id":"{ID}"}}"#).as_bytes())
                .map(|l| l.reservation_id),
            Ok(id())
        );
        assert_eq!(
            parse_listing(b"{}"),
            Err(FanError::MissingField("reservationId"))
        );
        assert_eq!(
            parse_listing(br#"{"reservationId":null}"#),
            Err(FanError::MissingField("reservationId"))
        );
        assert_eq!(
            parse_listing(br#"{"reservationId":"x"}"#),
            Err(FanError::InvalidId)
        );
        assert_eq!(
            parse_listing(br#"{"reservationId":5}"#),
            Err(FanError::InvalidId)
        );
        assert_eq!(parse_listing(b"[]"), Err(FanError::InvalidBody));
        assert_eq!(parse_listing(b"nope"), Err(FanError::InvalidBody));
    }

    #[test]
    fn browse_defaults_clamps_and_refusals() {
        let b = Browse::parse("").expect("valid");
        assert_eq!(
            (b.artist_id, b.page),
            (
                None,
                Page {
                    page: 1,
                    limit: DEFAULT_BROWSE_LIMIT
                }
            )
        );
        let b = Browse::parse(&format!("artistId={ID}&page=0&limit=500")).expect("valid");
        assert_eq!(
            (b.artist_id, b.page),
            (
                Some(id()),
                Page {
                    page: 1,
                    limit: paging::MAX_LIMIT
                }
            )
        );
        assert_eq!(Browse::parse("artistId=").expect("valid").artist_id, None);
        assert_eq!(Browse::parse("artistId=x"), Err(FanError::InvalidId));
        assert_eq!(Browse::parse("page=abc"), Err(FanError::InvalidPage));
        assert_eq!(Browse::parse("page=10001"), Err(FanError::InvalidPage));
        assert_eq!(Browse::parse("limit=ten"), Err(FanError::InvalidLimit));
        assert_eq!(Browse::parse("limit=0").expect("valid").page.limit, 1);
    }
}
