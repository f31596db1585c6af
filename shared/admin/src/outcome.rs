//! What the admin SQL functions' `outcome` column means to the client. Each function returns one
//! success outcome (sometimes several, e.g. a reservation cancel that `expired` it instead) or a
//! refusal named after its error code; anything else is our bug (a 500 and a log line).

use crate::AdminError;

/// How one function call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Refused(AdminError),
    /// An outcome this code does not know: the migration and the component disagree.
    Unexpected(String),
}

/// Classifies `outcome` given the function's success outcomes. `below_sold` needs the sold count
/// and is classified by the caller from the returned quantities.
pub fn classify(outcome: &str, success: &[&str]) -> Outcome {
    if success.contains(&outcome) {
        return Outcome::Done;
    }
    let refusal = match outcome {
        "not_found" => AdminError::NotFound,
        "unknown_layout" => AdminError::UnknownLayout,
        "event_cancelled" => AdminError::EventCancelled,
        "already_cancelled" => AdminError::AlreadyCancelled,
        "seats_exist" => AdminError::SeatsExist,
        "seats_in_use" => AdminError::SeatsInUse,
        "seats_have_history" => AdminError::SeatsHaveHistory,
        "has_reservations" => AdminError::HasReservations,
        "no_layout" => AdminError::NoLayout,
        "duplicate_name" => AdminError::DuplicateName,
        "invalid_sale_window" => AdminError::InvalidSaleWindow,
        "sale_ends_after_event" => AdminError::SaleEndsAfterEvent,
        "transition_not_allowed" => AdminError::TransitionNotAllowed,
        "invalid_status" => AdminError::InvalidStatusTarget,
        other => return Outcome::Unexpected(other.to_string()),
    };
    Outcome::Refused(refusal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_refusals_and_surprises_are_told_apart() {
        assert_eq!(classify("created", &["created"]), Outcome::Done);
        assert_eq!(
            classify("seats_in_use", &["deleted"]),
            Outcome::Refused(AdminError::SeatsInUse)
        );
        assert_eq!(
            classify("not_found", &["deleted"]),
            Outcome::Refused(AdminError::NotFound)
        );
        assert_eq!(
            classify("exploded", &["deleted"]),
            Outcome::Unexpected("exploded".into())
        );
    }

    #[test]
    fn every_refusal_the_migration_names_is_known() {
        let migration = include_str!("../../../migrations/20261130000005_admin.sql");
        for refusal in [
            "not_found",
            "unknown_layout",
            "event_cancelled",
            "already_cancelled",
            "seats_exist",
            "seats_in_use",
            "seats_have_history",
            "has_reservations",
            "no_layout",
            "duplicate_name",
            "invalid_sale_window",
            "sale_ends_after_event",
            "transition_not_allowed",
        ] {
            assert!(migration.contains(&format!("'{refusal}'")), "{refusal}");
            assert!(matches!(classify(refusal, &[]), Outcome::Refused(_)));
        }
    }
}
