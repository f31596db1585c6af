//! What can go wrong with a payment, as values: each error has the contract's status and a
//! stable `code`, and converts into the one `ApiError` every component answers with.

use urr_api::ApiError;

/// Seconds a client waits before asking again about a payment whose provider call is running.
pub const IN_FLIGHT_RETRY_AFTER_SECS: u32 = 1;
/// Seconds a client waits after the provider was down or slow (the reservation stays payable).
pub const PROVIDER_RETRY_AFTER_SECS: u32 = 2;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// Malformed input: `code` names what was wrong.
    #[error("{message}")]
    Invalid {
        code: &'static str,
        message: &'static str,
    },
    /// Unknown, or another user's (never told apart).
    #[error("Not found")]
    NotFound,
    #[error("Amount does not match the reservation total")]
    AmountMismatch,
    #[error("Reservation is already paid")]
    AlreadyPaid,
    /// The web client treats exactly this message as success: keep "already confirmed" in it.
    #[error("Payment already confirmed")]
    AlreadyConfirmed,
    #[error("Order does not belong to an open payment of this reservation")]
    OrderMismatch,
    #[error("Reservation has expired")]
    Expired,
    #[error("Reservation no longer holds its seats")]
    HoldLost,
    /// The event was cancelled: nothing of it is sold any more.
    #[error("Event is cancelled; nothing of it can be paid")]
    EventCancelled,
    /// An operator must look at this payment first (reconciliation set it aside).
    #[error("Payment is under review; contact support")]
    UnderReview,
    /// The capture happened but could not become a ticket; its refund is on its way.
    #[error("Reservation could not be completed; the payment is being refunded")]
    CaptureRefunded,
    #[error("Payment is being processed; try again shortly")]
    InFlight,
    #[error("Payment was declined")]
    Declined,
    #[error("Payment provider is unavailable; the reservation stays payable")]
    ProviderUnavailable,
    #[error("Payment provider did not answer in time; the reservation stays payable")]
    ProviderTimeout,
    #[error("Reservation is already cancelled")]
    AlreadyCancelled,
    #[error("Payment is already refunded")]
    AlreadyRefunded,
    #[error("Payment cannot be cancelled in its state")]
    NotCancellable,
    #[error("Admin role required")]
    Forbidden,
    #[error("Invalid webhook signature")]
    BadSignature,
    /// Unknown, or another user's (never told apart).
    #[error("Membership not found")]
    MembershipNotFound,
    #[error("Membership is not pending payment")]
    MembershipNotPending,
    #[error("Transfer not found")]
    TransferNotFound,
    /// Sold, cancelled, or its event cancelled or started.
    #[error("Transfer is no longer available")]
    TransferUnavailable,
    #[error("Cannot buy your own transfer")]
    OwnTransfer,
    #[error("Buyer must have active membership for this artist")]
    BuyerMembershipRequired,
}

impl PaymentError {
    pub fn status(&self) -> u16 {
        match self {
            PaymentError::Invalid { .. }
            | PaymentError::AmountMismatch
            | PaymentError::AlreadyPaid
            | PaymentError::AlreadyConfirmed
            | PaymentError::OrderMismatch
            | PaymentError::AlreadyRefunded
            | PaymentError::NotCancellable
            | PaymentError::OwnTransfer => 400,
            PaymentError::BadSignature => 401,
            PaymentError::Forbidden | PaymentError::BuyerMembershipRequired => 403,
            PaymentError::NotFound
            | PaymentError::MembershipNotFound
            | PaymentError::TransferNotFound => 404,
            PaymentError::Expired
            | PaymentError::HoldLost
            | PaymentError::EventCancelled
            | PaymentError::UnderReview
            | PaymentError::CaptureRefunded
            | PaymentError::InFlight
            | PaymentError::AlreadyCancelled
            | PaymentError::MembershipNotPending
            | PaymentError::TransferUnavailable => 409,
            PaymentError::Declined | PaymentError::ProviderUnavailable => 502,
            PaymentError::ProviderTimeout => 504,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            PaymentError::Invalid { code, .. } => code,
            PaymentError::NotFound => "not_found",
            PaymentError::AmountMismatch => "amount_mismatch",
            PaymentError::AlreadyPaid => "already_paid",
            PaymentError::AlreadyConfirmed => "already_confirmed",
            PaymentError::OrderMismatch => "order_mismatch",
            PaymentError::Expired => "reservation_expired",
            PaymentError::HoldLost => "hold_lost",
            PaymentError::EventCancelled => "event_cancelled",
            PaymentError::UnderReview => "payment_under_review",
            PaymentError::CaptureRefunded => "payment_refunded",
            PaymentError::InFlight => "payment_in_progress",
            PaymentError::Declined => "payment_declined",
            PaymentError::ProviderUnavailable => "provider_unavailable",
            PaymentError::ProviderTimeout => "provider_timeout",
            PaymentError::AlreadyCancelled => "already_cancelled",
            PaymentError::AlreadyRefunded => "already_refunded",
            PaymentError::NotCancellable => "not_cancellable",
            PaymentError::Forbidden => "forbidden",
            PaymentError::BadSignature => "invalid_signature",
            PaymentError::MembershipNotFound => "membership_not_found",
            PaymentError::MembershipNotPending => "membership_not_pending",
            PaymentError::TransferNotFound => "transfer_not_found",
            PaymentError::TransferUnavailable => "transfer_unavailable",
            PaymentError::OwnTransfer => "own_transfer",
            PaymentError::BuyerMembershipRequired => "buyer_membership_required",
        }
    }

    fn retry_after_secs(&self) -> Option<u32> {
        match self {
            PaymentError::InFlight => Some(IN_FLIGHT_RETRY_AFTER_SECS),
            PaymentError::ProviderUnavailable | PaymentError::ProviderTimeout => {
                Some(PROVIDER_RETRY_AFTER_SECS)
            }
            _ => None,
        }
    }
}

impl From<PaymentError> for ApiError {
    fn from(e: PaymentError) -> Self {
        ApiError {
            retry_after_secs: e.retry_after_secs(),
            ..ApiError::new(e.status(), e.code(), e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn already_confirmed_says_so_in_its_message_with_a_400() {
        let api = ApiError::from(PaymentError::AlreadyConfirmed);
        assert_eq!(api.status, 400);
        assert!(api.message.contains("already confirmed"));
    }

    #[test]
    fn provider_trouble_is_a_gateway_error_the_client_may_retry() {
        for (e, status) in [
            (PaymentError::ProviderUnavailable, 502),
            (PaymentError::ProviderTimeout, 504),
        ] {
            let api = ApiError::from(e);
            assert_eq!(api.status, status);
            assert!(api.retry_after_secs.is_some());
        }
        assert_eq!(ApiError::from(PaymentError::Declined).status, 502);
    }

    #[test]
    fn transfer_refusals_keep_their_real_statuses() {
        for (e, status, code) in [
            (PaymentError::TransferNotFound, 404, "transfer_not_found"),
            (
                PaymentError::TransferUnavailable,
                409,
                "transfer_unavailable",
            ),
            (PaymentError::OwnTransfer, 400, "own_transfer"),
            (
                PaymentError::BuyerMembershipRequired,
                403,
                "buyer_membership_required",
            ),
        ] {
            let api = ApiError::from(e);
            assert_eq!((api.status, api.code), (status, code));
        }
    }

    #[test]
    fn a_payment_in_flight_is_a_409_with_retry_after() {
        let api = ApiError::from(PaymentError::InFlight);
        assert_eq!((api.status, api.retry_after_secs), (409, Some(1)));
    }
}
