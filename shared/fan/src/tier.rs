//! Tiers and their benefits (contract part 2, §2.2). The tier stored on a membership is always
//! [`Tier::of_points`] of its points (the SQL function `membership_tier` applies the same
//! thresholds); a user without an active, unexpired membership is BRONZE. The pre-sale phases
//! and the booking-fee surcharge are shown, never enforced (Q6, as URR).

use serde::Serialize;

/// Points from which a member is GOLD, and DIAMOND (the web's progress bar uses the same).
pub const GOLD_POINTS: i64 = 500;
pub const DIAMOND_POINTS: i64 = 1_500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Tier {
    Diamond,
    Gold,
    Silver,
    Bronze,
}

impl Tier {
    /// The tier of a member with `points`.
    pub fn of_points(points: i64) -> Self {
        if points >= DIAMOND_POINTS {
            Tier::Diamond
        } else if points >= GOLD_POINTS {
            Tier::Gold
        } else {
            Tier::Silver
        }
    }

    /// The tier a reader sees: BRONZE unless the membership is active now.
    pub fn effective(effective_status: &str, points: i64) -> Self {
        if effective_status == "active" {
            Self::of_points(points)
        } else {
            Tier::Bronze
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Diamond => "DIAMOND",
            Tier::Gold => "GOLD",
            Tier::Silver => "SILVER",
            Tier::Bronze => "BRONZE",
        }
    }

    pub fn benefits(self) -> Benefits {
        let (phase, label, surcharge, transfer, fee, next) = match self {
            Tier::Diamond => (Some(1), "선예매 1", 1_000, true, Some(5), None),
            Tier::Gold => (
                Some(2),
                "선예매 2",
                2_000,
                true,
                Some(5),
                Some(DIAMOND_POINTS),
            ),
            Tier::Silver => (
                Some(3),
                "선예매 3",
                3_000,
                true,
                Some(10),
                Some(GOLD_POINTS),
            ),
            Tier::Bronze => (None, "일반예매", 0, false, None, None),
        };
        Benefits {
            pre_sale_phase: phase,
            pre_sale_label: label,
            booking_fee_surcharge: surcharge,
            transfer_access: transfer,
            transfer_fee_percent: fee,
            next_tier_threshold: next,
        }
    }
}

/// One tier's benefits, in the contract's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Benefits {
    pub pre_sale_phase: Option<i64>,
    pub pre_sale_label: &'static str,
    pub booking_fee_surcharge: i64,
    pub transfer_access: bool,
    pub transfer_fee_percent: Option<i64>,
    pub next_tier_threshold: Option<i64>,
}

/// `GET /memberships/benefits/{artistId}`: the tier, its benefits, and the artist's price (Q9:
/// the payment page shows the server's amount, not the URL's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BenefitsReply {
    pub tier: Tier,
    #[serde(flatten)]
    pub benefits: Benefits,
    pub membership_price: i64,
}

impl BenefitsReply {
    pub fn new(tier: Tier, membership_price: i64) -> Self {
        Self {
            tier,
            benefits: tier.benefits(),
            membership_price,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_500_and_1500_inclusive() {
        assert_eq!(Tier::of_points(0), Tier::Silver);
        assert_eq!(Tier::of_points(499), Tier::Silver);
        assert_eq!(Tier::of_points(500), Tier::Gold);
        assert_eq!(Tier::of_points(1_499), Tier::Gold);
        assert_eq!(Tier::of_points(1_500), Tier::Diamond);
    }

    #[test]
    fn only_an_active_membership_has_a_member_tier() {
        assert_eq!(Tier::effective("active", 2_000), Tier::Diamond);
        for status in ["pending", "expired", "cancelled"] {
            assert_eq!(Tier::effective(status, 2_000), Tier::Bronze, "{status}");
        }
    }

    #[test]
    fn the_benefits_table_is_the_contracts() {
        let json = |t: Tier| serde_json::to_value(BenefitsReply::new(t, 30_000)).expect("json");
        assert_eq!(
            json(Tier::Gold),
            serde_json::json!({"tier": "GOLD", "preSalePhase": 2, "preSaleLabel": "선예매 2",
                "bookingFeeSurcharge": 2000, "transferAccess": true, "transferFeePercent": 5,
                "nextTierThreshold": 1500, "membership_price": 30000})
        );
        let bronze = json(Tier::Bronze);
        assert_eq!(bronze["preSalePhase"], serde_json::Value::Null);
        assert_eq!(bronze["transferAccess"], false);
        assert_eq!(
            json(Tier::Diamond)["nextTierThreshold"],
            serde_json::Value::Null
        );
        assert_eq!(json(Tier::Silver)["transferFeePercent"], 10);
    }

    #[test]
    fn sql_and_rust_agree_on_the_thresholds() {
        let sql = include_str!("../../../migrations/20261208000002_memberships.sql");
        assert!(sql.contains(&format!("p_points >= {DIAMOND_POINTS} THEN 'DIAMOND'")));
        assert!(sql.contains(&format!("p_points >= {GOLD_POINTS} THEN 'GOLD'")));
    }
}
