//! The checkers. Each reads the end state as the stores and the provider hold it ([`Snapshot`],
//! read independently from Postgres, Redis and the mock provider's own ledger) and the history,
//! and returns the anomalies it found. They are pure, so each is shown to fail on a hand-made
//! bad state or history in the tests below.

use crate::history::{Event, Kind};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Debug, Clone, Default, Serialize)]
pub struct Reservation {
    pub id: String,
    pub user_id: String,
    pub event_id: String,
    pub status: String,
    pub payment_status: String,
    pub total_amount: i64,
    /// Pending and past its expiry (readers show it expired).
    pub expired: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Item {
    pub reservation_id: String,
    pub seat_id: Option<String>,
    pub ticket_type_id: Option<String>,
    pub quantity: i64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Seat {
    pub id: String,
    pub status: String,
    pub reservation_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TicketType {
    pub id: String,
    pub total: i64,
    pub available: i64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Payment {
    pub id: String,
    pub reservation_id: String,
    pub order_id: String,
    pub status: String,
    pub idempotency_key: String,
    pub refund_amount: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Outbox {
    pub payment_id: String,
    pub amount: i64,
    pub status: String,
}

/// One order as the provider's own ledger has it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProviderOrder {
    pub order_id: String,
    pub amount: i64,
    /// `DONE` (captured) or `CANCELED` (refunded).
    pub status: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Snapshot {
    pub reservations: Vec<Reservation>,
    pub items: Vec<Item>,
    pub seats: Vec<Seat>,
    pub ticket_types: Vec<TicketType>,
    pub payments: Vec<Payment>,
    pub outbox: Vec<Outbox>,
    pub cancelled_events: BTreeSet<String>,
    /// Idempotency keys of the provider's captures (its own count, per key).
    pub provider_capture_keys: BTreeMap<String, u32>,
    /// Every order the provider holds that our payments name.
    pub provider_orders: Vec<ProviderOrder>,
    pub provider_captured: i64,
    pub provider_refunded: i64,
    /// The queue threshold of the run.
    pub queue_threshold: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Anomaly {
    pub checker: &'static str,
    pub message: String,
    /// An id or key that names the anomaly in the history (for the excerpt).
    pub key: String,
}

fn anomaly(checker: &'static str, key: &str, message: String) -> Anomaly {
    Anomaly {
        checker,
        message,
        key: key.to_string(),
    }
}

pub const SEATS: &str = "seats";
pub const STANDING: &str = "standing";
pub const MONEY: &str = "money";
pub const ACKNOWLEDGED: &str = "acknowledged";
pub const QUEUE: &str = "queue";
pub const IDEMPOTENCY: &str = "idempotency";

/// Every checker over one snapshot and history.
pub fn all(snapshot: &Snapshot, history: &[Event]) -> Vec<Anomaly> {
    let mut found = seats(snapshot);
    found.extend(standing(snapshot));
    found.extend(money(snapshot));
    found.extend(acknowledged(snapshot, history));
    found.extend(queue(snapshot, history));
    found.extend(idempotency(snapshot, history));
    found
}

fn live(r: &Reservation) -> bool {
    r.status == "confirmed" || (r.status == "pending" && !r.expired)
}

/// No seat in two live (pending, unexpired) or confirmed reservations; a confirmed reservation's
/// seats are `reserved` for it.
pub fn seats(s: &Snapshot) -> Vec<Anomaly> {
    let reservations: HashMap<&str, &Reservation> =
        s.reservations.iter().map(|r| (r.id.as_str(), r)).collect();
    let seat_rows: HashMap<&str, &Seat> = s.seats.iter().map(|x| (x.id.as_str(), x)).collect();
    let mut holders: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut found = Vec::new();
    for item in &s.items {
        let (Some(seat), Some(r)) = (
            &item.seat_id,
            reservations.get(item.reservation_id.as_str()),
        ) else {
            continue;
        };
        if live(r) {
            holders.entry(seat).or_default().push(&r.id);
        }
        if r.status == "confirmed" {
            let ok = seat_rows.get(seat.as_str()).is_some_and(|row| {
                row.status == "reserved" && row.reservation_id.as_deref() == Some(r.id.as_str())
            });
            if !ok {
                found.push(anomaly(
                    SEATS,
                    &r.id,
                    format!(
                        "confirmed reservation {} but seat {seat} is not reserved for it",
                        r.id
                    ),
                ));
            }
        }
    }
    for (seat, list) in holders {
        if list.len() > 1 {
            found.push(anomaly(
                SEATS,
                seat,
                format!(
                    "seat {seat} is in {} live reservations: {list:?}",
                    list.len()
                ),
            ));
        }
    }
    found
}

/// Standing: per ticket type, available + the quantities of pending and confirmed reservations
/// = capacity (an expired pending reservation holds its tickets until it is marked expired).
pub fn standing(s: &Snapshot) -> Vec<Anomaly> {
    let reservations: HashMap<&str, &Reservation> =
        s.reservations.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut held: HashMap<&str, i64> = HashMap::new();
    for item in &s.items {
        let (Some(tt), Some(r)) = (
            &item.ticket_type_id,
            reservations.get(item.reservation_id.as_str()),
        ) else {
            continue;
        };
        if r.status == "pending" || r.status == "confirmed" {
            *held.entry(tt).or_default() += item.quantity;
        }
    }
    s.ticket_types
        .iter()
        .filter_map(|t| {
            let sold = held.get(t.id.as_str()).copied().unwrap_or(0);
            (sold + t.available != t.total).then(|| {
                anomaly(
                    STANDING,
                    &t.id,
                    format!(
                        "ticket type {}: held or sold {sold} + available {} != capacity {}",
                        t.id, t.available, t.total
                    ),
                )
            })
        })
        .collect()
}

/// Money, from the provider's ledger against our rows: every capture belongs to a payment we
/// recorded; an order the provider holds (DONE) is exactly one confirmed sale or a refund owed;
/// a refunded order (CANCELED) is no sale; a sale is backed by a capture of its amount; nothing
/// of a cancelled event is sold; per event captures − refunds = value sold + refunds owed; the
/// provider's refund total equals ours.
pub fn money(s: &Snapshot) -> Vec<Anomaly> {
    let mut found = Vec::new();
    let by_key: HashMap<&str, &Payment> = s
        .payments
        .iter()
        .map(|p| (p.idempotency_key.as_str(), p))
        .collect();
    for (key, n) in &s.provider_capture_keys {
        if !by_key.contains_key(key.as_str()) {
            found.push(anomaly(
                MONEY,
                key,
                format!("the provider captured under key {key} ({n}x) but no payment has that key"),
            ));
        }
        if *n > 1 {
            found.push(anomaly(
                MONEY,
                key,
                format!("the provider captured {n} times under key {key}"),
            ));
        }
    }
    let reservations: HashMap<&str, &Reservation> =
        s.reservations.iter().map(|r| (r.id.as_str(), r)).collect();
    let orders: HashMap<&str, &ProviderOrder> = s
        .provider_orders
        .iter()
        .map(|o| (o.order_id.as_str(), o))
        .collect();
    let owed: HashMap<&str, i64> =
        s.outbox
            .iter()
            .filter(|o| o.status == "pending")
            .fold(HashMap::new(), |mut m, o| {
                *m.entry(o.payment_id.as_str()).or_default() += o.amount;
                m
            });
    let mut held_per_event: BTreeMap<String, i64> = BTreeMap::new();
    let mut sold_per_event: BTreeMap<String, i64> = BTreeMap::new();
    let mut owed_per_event: BTreeMap<String, i64> = BTreeMap::new();
    let mut paid_reservations: HashMap<&str, Vec<&str>> = HashMap::new();
    for p in &s.payments {
        let Some(r) = reservations.get(p.reservation_id.as_str()) else {
            found.push(anomaly(
                MONEY,
                &p.id,
                format!("payment {} has no reservation", p.id),
            ));
            continue;
        };
        let owes = owed.get(p.id.as_str()).copied().unwrap_or(0);
        *owed_per_event.entry(r.event_id.clone()).or_default() += owes;
        let Some(order) = orders.get(p.order_id.as_str()) else {
            if p.status == "confirmed" || p.status == "refunded" {
                found.push(anomaly(
                    MONEY,
                    &p.order_id,
                    format!(
                        "payment {} is {} but the provider has no order {}",
                        p.id, p.status, p.order_id
                    ),
                ));
            }
            continue;
        };
        match order.status.as_str() {
            "DONE" => {
                *held_per_event.entry(r.event_id.clone()).or_default() += order.amount;
                let sale = p.status == "confirmed" && r.status == "confirmed";
                if sale {
                    paid_reservations.entry(&r.id).or_default().push(&p.id);
                }
                if !sale && owes == 0 {
                    found.push(anomaly(
                        MONEY,
                        &p.order_id,
                        format!(
                            "the provider holds {} for order {} but reservation {} is {} (payment {}) and no refund is owed",
                            order.amount, p.order_id, r.id, r.status, p.status
                        ),
                    ));
                }
                if sale && owes > 0 {
                    found.push(anomaly(
                        MONEY,
                        &p.order_id,
                        format!(
                            "order {} is a sale and also owes a refund of {owes}",
                            p.order_id
                        ),
                    ));
                }
            }
            "CANCELED" => {
                if r.status == "confirmed" && p.status == "confirmed" {
                    found.push(anomaly(
                        MONEY,
                        &p.order_id,
                        format!(
                            "the provider refunded order {} but reservation {} is still sold",
                            p.order_id, r.id
                        ),
                    ));
                }
            }
            other => found.push(anomaly(
                MONEY,
                &p.order_id,
                format!("the provider reports order {} as {other}", p.order_id),
            )),
        }
    }
    for r in s.reservations.iter().filter(|r| r.status == "confirmed") {
        *sold_per_event.entry(r.event_id.clone()).or_default() += r.total_amount;
        match paid_reservations.get(r.id.as_str()).map_or(0, Vec::len) {
            1 => {}
            0 => found.push(anomaly(
                MONEY,
                &r.id,
                format!(
                    "reservation {} is confirmed without a capture the provider holds",
                    r.id
                ),
            )),
            n => found.push(anomaly(
                MONEY,
                &r.id,
                format!("reservation {} is paid {n} times", r.id),
            )),
        }
        if s.cancelled_events.contains(&r.event_id) {
            found.push(anomaly(
                MONEY,
                &r.id,
                format!(
                    "reservation {} of cancelled event {} is still sold",
                    r.id, r.event_id
                ),
            ));
        }
    }
    let events: BTreeSet<&String> = held_per_event
        .keys()
        .chain(sold_per_event.keys())
        .chain(owed_per_event.keys())
        .collect();
    for event in events {
        let held = held_per_event.get(event).copied().unwrap_or(0);
        let sold = sold_per_event.get(event).copied().unwrap_or(0);
        let owes = owed_per_event.get(event).copied().unwrap_or(0);
        if held != sold + owes {
            found.push(anomaly(
                MONEY,
                event,
                format!(
                    "event {event}: the provider holds {held} but we sold {sold} and owe {owes}"
                ),
            ));
        }
    }
    let held_total: i64 = s
        .provider_orders
        .iter()
        .filter(|o| o.status == "DONE")
        .map(|o| o.amount)
        .sum();
    if s.provider_captured - s.provider_refunded != held_total {
        found.push(anomaly(
            MONEY,
            "provider",
            format!(
                "the provider's totals (captured {} − refunded {}) differ from the orders we know ({held_total}): captures we never recorded",
                s.provider_captured, s.provider_refunded
            ),
        ));
    }
    let our_refunds: i64 = s
        .payments
        .iter()
        .filter(|p| p.status == "refunded")
        .filter_map(|p| p.refund_amount)
        .sum();
    if our_refunds != s.provider_refunded {
        found.push(anomaly(
            MONEY,
            "refunds",
            format!(
                "the provider refunded {} in all, our records say {our_refunds}",
                s.provider_refunded
            ),
        ));
    }
    found
}

fn result_str<'a>(e: &'a Event, pointer: &str) -> Option<&'a str> {
    e.result.pointer(pointer).and_then(Value::as_str)
}

/// Every acknowledged (2xx) operation is still true at the end: a reserve's reservation exists;
/// a payment's reservation is confirmed, or cancelled with its money returned or owed; a cancel
/// stays cancelled; an event cancel leaves the event cancelled.
pub fn acknowledged(s: &Snapshot, history: &[Event]) -> Vec<Anomaly> {
    let reservations: HashMap<&str, &Reservation> =
        s.reservations.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut found = Vec::new();
    for e in history.iter().filter(|e| e.kind == Kind::Ok) {
        match e.op.as_str() {
            op if op.starts_with("reserve") => {
                let Some(id) = result_str(e, "/body/reservation/id") else {
                    continue;
                };
                if !reservations.contains_key(id) {
                    found.push(anomaly(
                        ACKNOWLEDGED,
                        id,
                        format!(
                            "reserve acknowledged reservation {id} (event {}) but it is gone",
                            e.index
                        ),
                    ));
                }
            }
            "process" | "confirm" => {
                let Some(id) = e.args.get("reservationId").and_then(Value::as_str) else {
                    continue;
                };
                let ok = reservations.get(id).is_some_and(|r| {
                    r.status == "confirmed"
                        || (r.status == "cancelled" && r.payment_status != "pending")
                });
                if !ok {
                    let state = reservations.get(id).map_or("missing".to_string(), |r| {
                        format!("{}/{}", r.status, r.payment_status)
                    });
                    found.push(anomaly(
                        ACKNOWLEDGED,
                        id,
                        format!("payment of {id} was acknowledged (event {}) but the reservation is {state}", e.index),
                    ));
                }
            }
            "cancel_reservation" | "cancel_payment" => {
                let Some(id) = e.args.get("reservationId").and_then(Value::as_str) else {
                    continue;
                };
                if reservations.get(id).is_none_or(|r| r.status != "cancelled") {
                    found.push(anomaly(
                        ACKNOWLEDGED,
                        id,
                        format!(
                            "cancel of {id} was acknowledged (event {}) but it is not cancelled",
                            e.index
                        ),
                    ));
                }
            }
            "cancel_event" => {
                let Some(id) = e.args.get("eventId").and_then(Value::as_str) else {
                    continue;
                };
                if !s.cancelled_events.contains(id) {
                    found.push(anomaly(
                        ACKNOWLEDGED,
                        id,
                        format!(
                            "event {id} cancel was acknowledged but the event is not cancelled"
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
    found
}

/// Nobody admitted past the threshold: every sample of the active set (read from Redis by the
/// monitor) and every status answer's `currentUsers` is at most the threshold.
pub fn queue(s: &Snapshot, history: &[Event]) -> Vec<Anomaly> {
    // Per event: the first sample over the threshold, the largest, and how many there were.
    let mut over: BTreeMap<String, (u64, i64, usize)> = BTreeMap::new();
    for e in history.iter().filter(|e| e.kind == Kind::Ok) {
        let seen = match e.op.as_str() {
            "observe_active" => e.result.get("active").and_then(Value::as_i64),
            "queue_status" | "queue_join" => e
                .result
                .pointer("/body/currentUsers")
                .and_then(Value::as_i64),
            _ => None,
        };
        if let Some(n) = seen
            && n > s.queue_threshold
        {
            let event = e.args.get("eventId").and_then(Value::as_str).unwrap_or("?");
            let entry = over.entry(event.to_string()).or_insert((e.index, n, 0));
            entry.1 = entry.1.max(n);
            entry.2 += 1;
        }
    }
    over.into_iter()
        .map(|(event, (first, most, samples))| {
            anomaly(
                QUEUE,
                &format!("#{first}"),
                format!(
                    "up to {most} active users in event {event}'s waiting room, threshold {} \
                     ({samples} observations over it, the first at history event {first})",
                    s.queue_threshold
                ),
            )
        })
        .collect()
}

/// One idempotency key never produced two effects: every 2xx under one (user, key) names the same
/// reservation, and no user has more reservations than keys it used.
pub fn idempotency(s: &Snapshot, history: &[Event]) -> Vec<Anomaly> {
    let mut found = Vec::new();
    let mut by_key: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut keys_per_user: HashMap<String, BTreeSet<String>> = HashMap::new();
    for e in history {
        if !e.op.starts_with("reserve") {
            continue;
        }
        let (Some(user), Some(key)) = (
            e.args.get("user").and_then(Value::as_str),
            e.args.get("key").and_then(Value::as_str),
        ) else {
            continue;
        };
        keys_per_user
            .entry(user.to_string())
            .or_default()
            .insert(key.to_string());
        if e.kind == Kind::Ok
            && let Some(id) = result_str(e, "/body/reservation/id")
        {
            by_key
                .entry((user.to_string(), key.to_string()))
                .or_default()
                .insert(id.to_string());
        }
    }
    for ((_, key), ids) in &by_key {
        if ids.len() > 1 {
            found.push(anomaly(
                IDEMPOTENCY,
                key,
                format!(
                    "idempotency key {key} acknowledged {} reservations: {ids:?}",
                    ids.len()
                ),
            ));
        }
    }
    let mut per_user: HashMap<&str, usize> = HashMap::new();
    for r in &s.reservations {
        *per_user.entry(r.user_id.as_str()).or_default() += 1;
    }
    for (user, n) in per_user {
        let keys = keys_per_user.get(user).map_or(0, BTreeSet::len);
        if n > keys {
            found.push(anomaly(
                IDEMPOTENCY,
                user,
                format!("user {user} has {n} reservations but used only {keys} idempotency keys"),
            ));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reservation(id: &str, status: &str, amount: i64) -> Reservation {
        Reservation {
            id: id.into(),
            user_id: "u1".into(),
            event_id: "e1".into(),
            status: status.into(),
            payment_status: if status == "confirmed" {
                "completed"
            } else {
                "pending"
            }
            .into(),
            total_amount: amount,
            expired: false,
        }
    }

    fn seat_item(r: &str, seat: &str) -> Item {
        Item {
            reservation_id: r.into(),
            seat_id: Some(seat.into()),
            ticket_type_id: None,
            quantity: 1,
        }
    }

    /// One confirmed, paid seat: a consistent state.
    fn good() -> Snapshot {
        Snapshot {
            reservations: vec![reservation("r1", "confirmed", 100)],
            items: vec![seat_item("r1", "s1")],
            seats: vec![Seat {
                id: "s1".into(),
                status: "reserved".into(),
                reservation_id: Some("r1".into()),
            }],
            ticket_types: vec![TicketType {
                id: "t1".into(),
                total: 10,
                available: 10,
            }],
            payments: vec![Payment {
                id: "p1".into(),
                reservation_id: "r1".into(),
                order_id: "o1".into(),
                status: "confirmed".into(),
                idempotency_key: "k1".into(),
                refund_amount: None,
            }],
            outbox: vec![],
            cancelled_events: BTreeSet::new(),
            provider_capture_keys: [("k1".to_string(), 1)].into(),
            provider_orders: vec![ProviderOrder {
                order_id: "o1".into(),
                amount: 100,
                status: "DONE".into(),
            }],
            provider_captured: 100,
            provider_refunded: 0,
            queue_threshold: 2,
        }
    }

    fn event(index: u64, kind: Kind, op: &str, args: Value, result: Value) -> Event {
        Event {
            index,
            time_ms: index,
            process: "buyer-0".into(),
            kind,
            op: op.into(),
            args,
            result,
        }
    }

    fn reserve_ok(index: u64, key: &str, id: &str) -> Event {
        event(
            index,
            Kind::Ok,
            "reserve",
            json!({"user": "u1", "key": key}),
            json!({"status": 201, "body": {"reservation": {"id": id}}}),
        )
    }

    #[test]
    fn a_consistent_state_passes_every_checker() {
        let history = vec![reserve_ok(0, "rk1", "r1")];
        assert_eq!(all(&good(), &history), vec![]);
    }

    #[test]
    fn seats_catches_a_seat_sold_twice() {
        let mut s = good();
        s.reservations.push(reservation("r2", "pending", 100));
        s.items.push(seat_item("r2", "s1"));
        let found = seats(&s);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].checker, SEATS);
        // Expired pending reservations no longer hold their seat.
        s.reservations[1].expired = true;
        assert_eq!(seats(&s), vec![]);
        // A confirmed reservation whose seat row says otherwise.
        s.seats[0].status = "available".into();
        assert_eq!(seats(&s).len(), 1);
    }

    #[test]
    fn standing_catches_lost_or_invented_tickets() {
        let mut s = good();
        s.reservations.push(reservation("r3", "confirmed", 0));
        s.items.push(Item {
            reservation_id: "r3".into(),
            seat_id: None,
            ticket_type_id: Some("t1".into()),
            quantity: 2,
        });
        assert_eq!(standing(&s).len(), 1, "2 sold but 10 still available");
        s.ticket_types[0].available = 8;
        assert_eq!(standing(&s), vec![]);
    }

    #[test]
    fn money_catches_a_capture_without_a_sale_or_refund() {
        let mut s = good();
        s.reservations[0].status = "expired".into();
        s.payments[0].status = "failed".into();
        let found = money(&s);
        assert!(found.iter().any(|a| a.key == "o1"), "{found:?}");
        // Owing the refund makes it right.
        s.outbox.push(Outbox {
            payment_id: "p1".into(),
            amount: 100,
            status: "pending".into(),
        });
        assert_eq!(money(&s), vec![]);
    }

    #[test]
    fn money_catches_unrecorded_captures_sales_of_cancelled_events_and_refund_gaps() {
        let mut s = good();
        s.provider_capture_keys.insert("k-unknown".into(), 1);
        s.provider_captured += 50;
        let found = money(&s);
        assert_eq!(found.len(), 2, "{found:?}");

        let mut s = good();
        s.cancelled_events.insert("e1".into());
        assert_eq!(money(&s).len(), 1);

        let mut s = good();
        s.provider_orders[0].status = "CANCELED".into();
        s.provider_refunded = 100;
        let found = money(&s);
        assert!(
            found.len() >= 2,
            "refunded at the provider but sold and not recorded: {found:?}"
        );

        let mut s = good();
        s.provider_orders[0].amount = 1100;
        s.provider_captured = 1100;
        assert_eq!(money(&s).len(), 1, "an over-capture kept as a sale");
    }

    #[test]
    fn acknowledged_catches_lost_reservations_and_payments() {
        let s = good();
        let lost = vec![reserve_ok(0, "rk1", "r-gone")];
        assert_eq!(acknowledged(&s, &lost).len(), 1);
        let mut s2 = good();
        s2.reservations[0].status = "expired".into();
        let paid = vec![event(
            1,
            Kind::Ok,
            "process",
            json!({"reservationId": "r1"}),
            json!({}),
        )];
        assert_eq!(acknowledged(&s2, &paid).len(), 1);
        assert_eq!(acknowledged(&s, &paid), vec![]);
        let unknown = vec![event(
            1,
            Kind::Unknown,
            "process",
            json!({"reservationId": "r1"}),
            json!({}),
        )];
        assert_eq!(
            acknowledged(&s2, &unknown),
            vec![],
            "an unknown outcome may go either way"
        );
        let cancel = vec![event(
            2,
            Kind::Ok,
            "cancel_reservation",
            json!({"reservationId": "r1"}),
            json!({}),
        )];
        assert_eq!(acknowledged(&s, &cancel).len(), 1);
        let cancel_event = vec![event(
            3,
            Kind::Ok,
            "cancel_event",
            json!({"eventId": "e1"}),
            json!({}),
        )];
        assert_eq!(acknowledged(&s, &cancel_event).len(), 1);
    }

    #[test]
    fn queue_catches_admissions_past_the_threshold() {
        let s = good();
        let fine = vec![event(
            0,
            Kind::Ok,
            "observe_active",
            json!({"eventId": "e1"}),
            json!({"active": 2}),
        )];
        assert_eq!(queue(&s, &fine), vec![]);
        let over = vec![
            event(
                0,
                Kind::Ok,
                "observe_active",
                json!({"eventId": "e1"}),
                json!({"active": 3}),
            ),
            event(
                1,
                Kind::Ok,
                "queue_status",
                json!({"eventId": "e1"}),
                json!({"body": {"currentUsers": 5}}),
            ),
        ];
        let found = queue(&s, &over);
        assert_eq!(found.len(), 1, "one anomaly per event: {found:?}");
        assert!(
            found[0].message.contains("up to 5") && found[0].message.contains("2 observations")
        );
        assert_eq!(found[0].key, "#0");
    }

    #[test]
    fn idempotency_catches_one_key_with_two_effects() {
        let s = good();
        let twice = vec![reserve_ok(0, "rk1", "r1"), reserve_ok(1, "rk1", "r2")];
        assert_eq!(idempotency(&s, &twice).len(), 1);
        let mut s2 = good();
        s2.reservations.push(reservation("r2", "pending", 100));
        let one_key = vec![reserve_ok(0, "rk1", "r1")];
        assert_eq!(
            idempotency(&s2, &one_key).len(),
            1,
            "two reservations from one key"
        );
    }
}
