//! Request bodies and query strings, parsed at the edge into domain types: whatever reaches SQL
//! or the provider is well-formed, and every bad input is a 400 with its own code.

use crate::PaymentError;
use serde_json::Value;

/// Largest request body a payments route reads: the bodies are a few fields.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Largest payment, in KRW: far above any ticket order, far below `i32::MAX` (the SQL type).
pub const MAX_AMOUNT_KRW: i64 = 100_000_000;
/// Longest order id or payment key accepted (the provider's own limit is 200).
pub const MAX_REFERENCE_LEN: usize = 200;
/// Page size of `GET /payments/user/me`: default and clamp (every list query has a LIMIT).
pub const DEFAULT_PAGE_LIMIT: u32 = 20;
pub const MAX_PAGE_LIMIT: u32 = 100;
/// Deepest offset served: beyond it a client should narrow its query, not page the table.
pub const MAX_PAGE_OFFSET: u32 = 10_000;

/// A UUID in canonical (lower-case, hyphenated) form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Id(String);

impl Id {
    pub fn parse(text: &str, code: &'static str) -> Result<Self, PaymentError> {
        urr_api::id::canonical_uuid(text)
            .map(Self)
            .ok_or(PaymentError::Invalid {
                code,
                message: "Invalid id",
            })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How the buyer pays (the contract's four methods).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    NaverPay,
    KakaoPay,
    BankTransfer,
    Card,
}

impl Method {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "naver_pay" => Some(Method::NaverPay),
            "kakao_pay" => Some(Method::KakaoPay),
            "bank_transfer" => Some(Method::BankTransfer),
            "card" => Some(Method::Card),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::NaverPay => "naver_pay",
            Method::KakaoPay => "kakao_pay",
            Method::BankTransfer => "bank_transfer",
            Method::Card => "card",
        }
    }
}

/// What a payment buys: `paymentType` (default `reservation`) with its id — `reservationId` for
/// a reservation, `referenceId` for a membership or a resale listing (the web sends no
/// `reservationId` then).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purchase {
    Reservation(Id),
    Membership(Id),
    Transfer(Id),
}

impl Purchase {
    pub fn id(&self) -> &Id {
        match self {
            Purchase::Reservation(id) | Purchase::Membership(id) | Purchase::Transfer(id) => id,
        }
    }
}

/// `POST /payments/prepare {reservationId | paymentType + referenceId, amount}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepare {
    pub purchase: Purchase,
    pub amount: i32,
}

/// `POST /payments/process {reservationId | paymentType + referenceId, paymentMethod}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub purchase: Purchase,
    pub method: Method,
}

/// `POST /payments/confirm {paymentKey, orderId, amount}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub payment_key: String,
    pub order_id: String,
    pub amount: i32,
}

/// `?limit&offset`, clamped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: u32,
    pub offset: u32,
}

fn object(body: &[u8]) -> Result<serde_json::Map<String, Value>, PaymentError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(PaymentError::Invalid {
            code: "invalid_body",
            message: "Body must be a JSON object",
        }),
    }
}

/// A field under its camelCase name or its snake_case twin (old clients send either).
fn field<'a>(
    map: &'a serde_json::Map<String, Value>,
    camel: &str,
    snake: &str,
) -> Option<&'a Value> {
    map.get(camel)
        .or_else(|| map.get(snake))
        .filter(|v| !v.is_null())
}

fn amount(value: Option<&Value>) -> Result<i32, PaymentError> {
    let invalid = PaymentError::Invalid {
        code: "invalid_amount",
        message: "amount must be a positive whole number of KRW",
    };
    let n = match value {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
    .ok_or(invalid.clone())?;
    if !(1..=MAX_AMOUNT_KRW).contains(&n) {
        return Err(invalid);
    }
    i32::try_from(n).map_err(|_| invalid)
}

fn reservation_id(map: &serde_json::Map<String, Value>) -> Result<Id, PaymentError> {
    let text = field(map, "reservationId", "reservation_id")
        .and_then(Value::as_str)
        .ok_or(PaymentError::Invalid {
            code: "invalid_reservation_id",
            message: "reservationId is required",
        })?;
    Id::parse(text, "invalid_reservation_id")
}

/// The purchase a body names: a reservation by `reservationId`, a membership or a listing by
/// `referenceId`.
fn purchase(map: &serde_json::Map<String, Value>) -> Result<Purchase, PaymentError> {
    let kind = field(map, "paymentType", "payment_type");
    match kind.map(|v| v.as_str()) {
        None | Some(Some("reservation")) => reservation_id(map).map(Purchase::Reservation),
        Some(Some("membership")) => {
            reference_id(map, "referenceId is required for paymentType membership")
                .map(Purchase::Membership)
        }
        Some(Some("transfer")) => {
            reference_id(map, "referenceId is required for paymentType transfer")
                .map(Purchase::Transfer)
        }
        _ => Err(PaymentError::Invalid {
            code: "invalid_payment_type",
            message: "paymentType must be reservation, membership or transfer",
        }),
    }
}

fn reference_id(
    map: &serde_json::Map<String, Value>,
    missing: &'static str,
) -> Result<Id, PaymentError> {
    let text = field(map, "referenceId", "reference_id")
        .ok_or(PaymentError::Invalid {
            code: "missing_field",
            message: missing,
        })?
        .as_str()
        .ok_or(PaymentError::Invalid {
            code: "invalid_id",
            message: "referenceId must be a UUID",
        })?;
    Id::parse(text, "invalid_id")
}

/// An opaque reference (order id, payment key): printable ASCII without spaces, bounded.
pub fn reference(text: &str, code: &'static str) -> Result<String, PaymentError> {
    let ok = !text.is_empty()
        && text.len() <= MAX_REFERENCE_LEN
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    if ok {
        Ok(text.to_string())
    } else {
        Err(PaymentError::Invalid {
            code,
            message: "Invalid reference",
        })
    }
}

pub fn parse_prepare(body: &[u8]) -> Result<Prepare, PaymentError> {
    let map = object(body)?;
    Ok(Prepare {
        purchase: purchase(&map)?,
        amount: amount(field(&map, "amount", "amount"))?,
    })
}

pub fn parse_process(body: &[u8]) -> Result<Process, PaymentError> {
    let map = object(body)?;
    let method = field(&map, "paymentMethod", "payment_method")
        .and_then(Value::as_str)
        .and_then(Method::parse)
        .ok_or(PaymentError::Invalid {
            code: "invalid_payment_method",
            message: "paymentMethod must be one of naver_pay, kakao_pay, bank_transfer, card",
        })?;
    Ok(Process {
        purchase: purchase(&map)?,
        method,
    })
}

pub fn parse_confirm(body: &[u8]) -> Result<Confirm, PaymentError> {
    let map = object(body)?;
    let text = |camel, snake, code| {
        field(&map, camel, snake)
            .and_then(Value::as_str)
            .ok_or(PaymentError::Invalid {
                code,
                message: "paymentKey and orderId are required",
            })
            .and_then(|t| reference(t, code))
    };
    Ok(Confirm {
        payment_key: text("paymentKey", "payment_key", "invalid_payment_key")?,
        order_id: text("orderId", "order_id", "invalid_order_id")?,
        amount: amount(field(&map, "amount", "amount"))?,
    })
}

/// `limit` (default 20, clamped to 1..=100) and `offset` (clamped to 0..=10,000); unparseable
/// values take the default rather than failing a list.
pub fn parse_page(query: &str) -> Page {
    let mut page = Page {
        limit: DEFAULT_PAGE_LIMIT,
        offset: 0,
    };
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let number = value.trim().parse::<i64>().ok();
        match (name, number) {
            ("limit", Some(n)) => page.limit = n.clamp(1, i64::from(MAX_PAGE_LIMIT)) as u32,
            ("offset", Some(n)) => page.offset = n.clamp(0, i64::from(MAX_PAGE_OFFSET)) as u32,
            _ => {}
        }
    }
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    const RID: &str = "0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b";

    #[test]
    fn a_process_body_names_the_reservation_and_a_known_method() {
        let p = parse_process(
            format!(r#"{{"reservationId":"{RID}","paymentMethod":"card"}}"#).as_bytes(),
        )
        .expect("valid");
        assert_eq!(
            (p.purchase, p.method),
            (
                Purchase::Reservation(Id::parse(RID, "x").expect("id")),
                Method::Card
            )
        );
        let snake = parse_process(
            format!(r#"{{"reservation_id":"{RID}","payment_method":"kakao_pay"}}"#).as_bytes(),
        )
        .expect("valid");
        assert_eq!(snake.method, Method::KakaoPay);
    }

    #[test]
    fn bad_process_bodies_name_what_was_wrong() {
        let code = |body: &str| {
            parse_process(body.as_bytes())
                .map(|_| ())
                .expect_err("invalid")
                .code()
        };
        assert_eq!(code("[]"), "invalid_body");
        assert_eq!(code("not json"), "invalid_body");
        assert_eq!(
            code(r#"{"paymentMethod":"card"}"#),
            "invalid_reservation_id"
        );
        assert_eq!(
            code(r#"{"reservationId":"x' OR 1=1","paymentMethod":"card"}"#),
            "invalid_reservation_id"
        );
        assert_eq!(
            code(&format!(
                r#"{{"reservationId":"{RID}","paymentMethod":"bitcoin"}}"#
            )),
            "invalid_payment_method"
        );
    }

    #[test]
    fn a_membership_is_named_by_payment_type_and_reference_id() {
        let p = parse_process(
            format!(r#"{{"paymentType":"membership","referenceId":"{RID}","paymentMethod":"naver_pay"}}"#)
                .as_bytes(),
        )
        .expect("valid");
        assert_eq!(
            p.purchase,
            Purchase::Membership(Id::parse(RID, "x").expect("id"))
        );
        let explicit = parse_prepare(
            format!(r#"{{"paymentType":"reservation","reservationId":"{RID}","amount":5}}"#)
                .as_bytes(),
        )
        .expect("valid");
        assert!(matches!(explicit.purchase, Purchase::Reservation(_)));
        let code = |body: &str| {
            parse_prepare(body.as_bytes())
                .map(|_| ())
                .expect_err("invalid")
                .code()
        };
        assert_eq!(
            code(r#"{"paymentType":"membership","amount":5}"#),
            "missing_field"
        );
        assert_eq!(
            code(r#"{"paymentType":"membership","referenceId":"nope","amount":5}"#),
            "invalid_id"
        );
        assert_eq!(
            parse_prepare(
                format!(r#"{{"paymentType":"transfer","referenceId":"{RID}","amount":5}}"#)
                    .as_bytes()
            )
            .map(|p| p.purchase),
            Ok(Purchase::Transfer(Id::parse(RID, "x").expect("id")))
        );
        assert_eq!(
            code(r#"{"paymentType":"transfer","amount":5}"#),
            "missing_field"
        );
        assert_eq!(
            code(r#"{"paymentType":"transfer","referenceId":"x","amount":5}"#),
            "invalid_id"
        );
        assert_eq!(
            code(r#"{"paymentType":"resale","referenceId":"x","amount":5}"#),
            "invalid_payment_type"
        );
        assert_eq!(
            code(r#"{"paymentType":7,"amount":5}"#),
            "invalid_payment_type"
        );
    }

    #[test]
    fn amounts_are_positive_whole_krw_within_the_cap() {
        let prepare = |a: &str| {
            parse_prepare(format!(r#"{{"reservationId":"{RID}","amount":{a}}}"#).as_bytes())
        };
        assert_eq!(prepare("30000").expect("valid").amount, 30000);
        assert_eq!(prepare("\"30000\"").expect("valid").amount, 30000);
        for bad in ["0", "-1", "1.5", "100000001", "null", "\"abc\""] {
            assert_eq!(
                prepare(bad).map(|_| ()).expect_err("invalid").code(),
                "invalid_amount",
                "{bad}"
            );
        }
    }

    #[test]
    fn confirm_references_are_bounded_printable_tokens() {
        let ok =
            parse_confirm(br#"{"paymentKey":"pk_1","orderId":"ORD-1","amount":5}"#).expect("valid");
        assert_eq!(
            (ok.payment_key.as_str(), ok.order_id.as_str()),
            ("pk_1", "ORD-1")
        );
        let long = "a".repeat(MAX_REFERENCE_LEN + 1);
        for body in [
            r#"{"orderId":"ORD-1","amount":5}"#.to_string(),
            r#"{"paymentKey":"a b","orderId":"ORD-1","amount":5}"#.to_string(),
            format!(r#"{{"paymentKey":"{long}","orderId":"ORD-1","amount":5}}"#),
        ] {
            assert!(parse_confirm(body.as_bytes()).is_err(), "{body}");
        }
    }

    #[test]
    fn paging_is_clamped_and_defaults_on_nonsense() {
        assert_eq!(
            parse_page(""),
            Page {
                limit: 20,
                offset: 0
            }
        );
        assert_eq!(
            parse_page("limit=1000&offset=-5"),
            Page {
                limit: 100,
                offset: 0
            }
        );
        assert_eq!(
            parse_page("limit=0&offset=99999999"),
            Page {
                limit: 1,
                offset: 10_000
            }
        );
        assert_eq!(
            parse_page("limit=abc&offset=3"),
            Page {
                limit: 20,
                offset: 3
            }
        );
    }
}
