//! What can go wrong on the artists and memberships routes, as values: each has its status and
//! a stable `code` (contract part 2, §0), and converts into the one `ApiError` every component
//! answers with. Bad input changes nothing.

use urr_api::ApiError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FanError {
    // ---- 400
    #[error("The id must be a UUID")]
    InvalidId,
    #[error("`page` must be a whole number from 1 to {max}", max = crate::paging::MAX_PAGE)]
    InvalidPage,
    #[error("`limit` must be a whole number")]
    InvalidLimit,
    #[error("Body must be a JSON object")]
    InvalidBody,
    #[error("`{0}` is required")]
    MissingField(&'static str),
    #[error("`{0}` must be text of at most {1} characters, without control characters")]
    InvalidText(&'static str, usize),
    #[error("`membershipPrice` must be a whole number of KRW from 1 to {max}", max = crate::input::MAX_MEMBERSHIP_PRICE)]
    InvalidPrice,
    #[error("`imageUrl` must be an https URL on an allowed image host ({hosts})", hosts = crate::input::IMAGE_HOSTS_TEXT)]
    InvalidImageUrl,
    #[error("No field to change")]
    NothingToChange,
    // ---- 403
    #[error("Admin role required")]
    AdminRequired,
    /// URR's user-visible wording, as both pages show it (contract §4.9).
    #[error("양도 등록에 실패했습니다. 해당 아티스트의 Silver 이상 멤버십이 필요합니다.")]
    MembershipRequired,
    #[error("Not your transfer listing")]
    NotSeller,
    // ---- 404
    #[error("Artist not found")]
    ArtistNotFound,
    /// Unknown, or another user's (never told apart).
    #[error("Reservation not found")]
    ReservationNotFound,
    #[error("Transfer not found")]
    TransferNotFound,
    // ---- 409
    #[error("An artist with this name already exists")]
    DuplicateName,
    #[error("The artist has events; move or delete them first")]
    ArtistHasEvents,
    #[error("The artist has memberships; artists with members are never deleted")]
    ArtistHasMembers,
    #[error("Already an active member of this artist")]
    AlreadyMember,
    #[error("Only confirmed, paid reservations can be transferred")]
    ReservationNotTransferable,
    #[error("The event is cancelled or has started; its tickets can no longer be transferred")]
    EventNotTransferable,
    #[error("Transfer already listed for this reservation")]
    AlreadyListed,
    #[error("Only listed transfers can be cancelled")]
    NotListed,
    // ---- 501
    #[error("Artist enrichment needs an external service and is not configured")]
    EnrichUnavailable,
}

impl FanError {
    pub fn status(&self) -> u16 {
        match self {
            Self::AdminRequired | Self::MembershipRequired | Self::NotSeller => 403,
            Self::ArtistNotFound | Self::ReservationNotFound | Self::TransferNotFound => 404,
            Self::DuplicateName
            | Self::ArtistHasEvents
            | Self::ArtistHasMembers
            | Self::AlreadyMember
            | Self::ReservationNotTransferable
            | Self::EventNotTransferable
            | Self::AlreadyListed
            | Self::NotListed => 409,
            Self::EnrichUnavailable => 501,
            _ => 400,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidId => "invalid_id",
            Self::InvalidPage => "invalid_page",
            Self::InvalidLimit => "invalid_limit",
            Self::InvalidBody => "invalid_body",
            Self::MissingField(_) => "missing_field",
            Self::InvalidText(..) => "invalid_text",
            Self::InvalidPrice => "invalid_price",
            Self::InvalidImageUrl => "invalid_image_url",
            Self::NothingToChange => "nothing_to_change",
            Self::AdminRequired => "admin_required",
            Self::ArtistNotFound => "artist_not_found",
            Self::DuplicateName => "duplicate_name",
            Self::ArtistHasEvents => "artist_has_events",
            Self::ArtistHasMembers => "artist_has_members",
            Self::AlreadyMember => "already_member",
            Self::EnrichUnavailable => "enrich_unavailable",
            Self::MembershipRequired => "membership_required",
            Self::NotSeller => "not_seller",
            Self::ReservationNotFound => "reservation_not_found",
            Self::TransferNotFound => "transfer_not_found",
            Self::ReservationNotTransferable => "reservation_not_transferable",
            Self::EventNotTransferable => "event_not_transferable",
            Self::AlreadyListed => "already_listed",
            Self::NotListed => "not_listed",
        }
    }

    /// The refusal a SQL function's `outcome` names (`None`: not a refusal this crate knows).
    pub fn from_outcome(outcome: &str) -> Option<Self> {
        Some(match outcome {
            "not_found" | "artist_not_found" => Self::ArtistNotFound,
            "duplicate_name" => Self::DuplicateName,
            "has_events" => Self::ArtistHasEvents,
            "has_members" => Self::ArtistHasMembers,
            "already_member" => Self::AlreadyMember,
            "reservation_not_found" => Self::ReservationNotFound,
            "reservation_not_transferable" => Self::ReservationNotTransferable,
            "event_not_transferable" => Self::EventNotTransferable,
            "already_listed" => Self::AlreadyListed,
            "membership_required" => Self::MembershipRequired,
            "transfer_not_found" => Self::TransferNotFound,
            "not_seller" => Self::NotSeller,
            "not_listed" => Self::NotListed,
            _ => return None,
        })
    }
}

impl From<FanError> for ApiError {
    fn from(err: FanError) -> Self {
        ApiError::new(err.status(), err.code(), err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_codes_follow_the_contract() {
        for (err, status, code) in [
            (FanError::InvalidId, 400, "invalid_id"),
            (FanError::MissingField("artistId"), 400, "missing_field"),
            (FanError::AdminRequired, 403, "admin_required"),
            (FanError::ArtistNotFound, 404, "artist_not_found"),
            (FanError::AlreadyMember, 409, "already_member"),
            (FanError::MembershipRequired, 403, "membership_required"),
            (FanError::NotSeller, 403, "not_seller"),
            (FanError::TransferNotFound, 404, "transfer_not_found"),
            (FanError::AlreadyListed, 409, "already_listed"),
            (FanError::NotListed, 409, "not_listed"),
            (FanError::EnrichUnavailable, 501, "enrich_unavailable"),
        ] {
            let api = ApiError::from(err);
            assert_eq!((api.status, api.code), (status, code));
        }
        assert!(
            ApiError::from(FanError::MissingField("artistId"))
                .message
                .contains("artistId"),
            "the message names the field"
        );
    }

    #[test]
    fn every_refusal_the_migrations_name_is_known() {
        let sql = [
            include_str!("../../../migrations/20261208000001_artists.sql"),
            include_str!("../../../migrations/20261208000002_memberships.sql"),
            include_str!("../../../migrations/20261208000051_transfers.sql"),
        ]
        .concat();
        for outcome in [
            "not_found",
            "artist_not_found",
            "duplicate_name",
            "has_events",
            "has_members",
            "already_member",
            "reservation_not_found",
            "reservation_not_transferable",
            "event_not_transferable",
            "already_listed",
            "membership_required",
            "transfer_not_found",
            "not_seller",
            "not_listed",
        ] {
            assert!(sql.contains(&format!("'{outcome}'")), "{outcome}");
            assert!(FanError::from_outcome(outcome).is_some(), "{outcome}");
        }
        assert_eq!(FanError::from_outcome("created"), None);
    }
}
