//! The waiting room's Lua scripts straight against Redis, with a fixed clock (the scripts' "now"
//! override) so admission rates, slot lifetimes and stale drops are exact, not timed.

use redis::aio::MultiplexedConnection;
use urr_queue::fair::{Draw, Seed};
use urr_queue::scripts::{JoinFacts, Mode, Placement, ReplyValue, slot_touch_args, visit_args};
use urr_queue::{
    EventKeys, LEAVE_SCRIPT, QueueSettings, SLOT_TOUCH_SCRIPT, SlotTouch, VISIT_SCRIPT, Visit,
};

/// One event's waiting room under a prefix of its own, deleted when the test ends.
struct Room {
    conn: MultiplexedConnection,
    keys: EventKeys,
    settings: QueueSettings,
    prefix: String,
}

const T0: u64 = 1_900_000_000_000;

impl Room {
    async fn new(settings: &str) -> Self {
        let client = redis::Client::open(urr_tests::redis_url()).expect("redis url");
        let conn = client
            .get_multiplexed_async_connection()
            .await
            .expect("redis connection");
        let prefix = format!("urrtest:{}", uuid::Uuid::new_v4().simple());
        Self {
            conn,
            keys: EventKeys::new(&prefix, &uuid::Uuid::new_v4().to_string()),
            settings: QueueSettings::parse(settings).expect("settings"),
            prefix,
        }
    }

    async fn eval(&self, script: &str, keys: &[String], args: &[String]) -> Vec<ReplyValue> {
        let mut conn = self.conn.clone();
        let value: redis::Value = redis::cmd("EVAL")
            .arg(script)
            .arg(keys.len())
            .arg(keys)
            .arg(args)
            .query_async(&mut conn)
            .await
            .expect("script runs");
        let redis::Value::Array(items) = value else {
            panic!("unexpected reply {value:?}")
        };
        items
            .into_iter()
            .map(|v| match v {
                redis::Value::Int(i) => ReplyValue::Int(i),
                redis::Value::BulkString(b) => {
                    ReplyValue::Text(String::from_utf8_lossy(&b).into_owned())
                }
                redis::Value::Nil => ReplyValue::Nil,
                other => panic!("unexpected item {other:?}"),
            })
            .collect()
    }

    async fn visit(&self, user: &str, mode: Mode, now: u64) -> Visit {
        self.visit_with(user, mode, &JoinFacts::default(), now)
            .await
    }

    async fn visit_with(&self, user: &str, mode: Mode, facts: &JoinFacts<'_>, now: u64) -> Visit {
        let args = visit_args(&self.settings, user, mode, facts, Some(now));
        let reply = self.eval(VISIT_SCRIPT, &self.keys.visit(), &args).await;
        Visit::from_reply(&reply).unwrap_or_else(|| panic!("unreadable reply {reply:?}"))
    }

    async fn join(&self, user: &str, now: u64) -> Visit {
        self.visit(user, Mode::Join, now).await
    }

    async fn look(&self, now: u64) -> Visit {
        self.visit("", Mode::Status, now).await
    }

    async fn touch(&self, user: &str, now: u64) -> SlotTouch {
        let args = slot_touch_args(&self.settings, user, Some(now));
        let reply = self
            .eval(SLOT_TOUCH_SCRIPT, &self.keys.slot_touch(), &args)
            .await;
        let ints: Vec<i64> = reply
            .iter()
            .map(|v| match v {
                ReplyValue::Int(i) => *i,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        SlotTouch::from_reply(&ints).expect("touch reply")
    }

    async fn leave(&self, user: &str) {
        self.eval(LEAVE_SCRIPT, &self.keys.leave(), &[user.to_string()])
            .await;
    }

    async fn set_threshold(&self, n: u32) {
        let mut conn = self.conn.clone();
        let _: () = redis::AsyncCommands::set(&mut conn, &self.keys.threshold, n)
            .await
            .expect("set threshold");
    }

    async fn counter(&self, name: &str) -> i64 {
        let mut conn = self.conn.clone();
        let value: Option<i64> = redis::AsyncCommands::hget(&mut conn, &self.keys.state, name)
            .await
            .expect("hget");
        value.unwrap_or(0)
    }
}

impl Drop for Room {
    fn drop(&mut self) {
        let (url, prefix) = (urr_tests::redis_url(), self.prefix.clone());
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                let _ = rt.block_on(urr_tests::delete_prefixed_keys(&url, &prefix));
            }
        })
        .join();
    }
}

fn user(i: usize) -> String {
    format!("00000000-0000-4000-8000-{i:012}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lazy_admission_follows_the_rate() {
    let room = Room::new("threshold=100,rate=100").await;
    for i in 0..600 {
        room.join(&user(i), T0).await;
    }
    let full = room.look(T0).await;
    assert_eq!((full.active, full.waiting), (100, 500));

    // Room for everyone, but only rate x elapsed may come in: +2 s at 100/s is 200.
    room.set_threshold(1_000).await;
    let later = room.look(T0 + 2_000).await;
    println!(
        "after 2 s at 100/s: {} active, {} waiting",
        later.active, later.waiting
    );
    assert!(
        (299..=301).contains(&later.active),
        "expected 300 +- 1 active, got {}",
        later.active
    );
    assert_eq!(later.active + later.waiting, 600);
    // The same instant again admits nobody; half a second more admits 50.
    assert_eq!(room.look(T0 + 2_000).await.active, later.active);
    let half = room.look(T0 + 2_500).await;
    assert_eq!(half.active, later.active + 50);
    // A fraction of a user carries over instead of being lost: 9 ms + 1 ms at 100/s is one user.
    let a = room.look(T0 + 2_509).await;
    let b = room.look(T0 + 2_510).await;
    assert_eq!((a.active, b.active), (half.active, half.active + 1));
    // The ETA's rate is measured, not configured: after a 10 s window it is what really happened.
    let measured = room.look(T0 + 12_510).await;
    println!(
        "measured admission rate: {} users/s x 1000",
        measured.measured_rate_milli
    );
    assert!(measured.measured_rate_milli > 0);
    assert_eq!(room.counter("admitted").await as u64, measured.active);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admission_never_passes_the_threshold_and_a_lowered_one_is_honoured() {
    let room = Room::new("threshold=10,rate=1000").await;
    for i in 0..50 {
        let v = room.join(&user(i), T0).await;
        assert!(v.active <= 10, "{} active", v.active);
    }
    assert_eq!(room.look(T0 + 60_000 - 1).await.active, 10);
    room.set_threshold(5).await;
    for i in 50..60 {
        let v = room.join(&user(i), T0 + 60_000 - 1).await;
        assert_eq!(
            v.placement,
            Placement::Waiting {
                position: (i - 10 + 1) as u64
            }
        );
        assert_eq!(v.active, 10, "nobody admitted above a lowered threshold");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slots_expire_renew_with_activity_and_stop_at_the_cap() {
    let room =
        Room::new("threshold=1,rate=100,slot_secs=10,slot_max_secs=30,waiter_timeout_secs=1000")
            .await;
    let a = user(1);
    let joined = room.join(&a, T0).await;
    assert_eq!(
        joined.placement,
        Placement::Active {
            expires_at_ms: T0 + 10_000
        }
    );

    // Status renews; so does the touch script other components call.
    let seen = room.visit(&a, Mode::Status, T0 + 5_000).await;
    assert_eq!(
        seen.placement,
        Placement::Active {
            expires_at_ms: T0 + 15_000
        }
    );
    assert_eq!(
        room.touch(&a, T0 + 14_000).await,
        SlotTouch::Live {
            expires_at_ms: T0 + 24_000
        }
    );
    // Never past 30 s from admission, however active.
    assert_eq!(
        room.touch(&a, T0 + 23_000).await,
        SlotTouch::Live {
            expires_at_ms: T0 + 30_000
        }
    );
    assert_eq!(
        room.touch(&a, T0 + 29_000).await,
        SlotTouch::Live {
            expires_at_ms: T0 + 30_000
        }
    );
    // At its end the slot is over: the touch says so, and the next visit frees it for the line.
    let b = user(2);
    assert!(matches!(
        room.join(&b, T0 + 29_500).await.placement,
        Placement::Waiting { position: 1 }
    ));
    assert_eq!(room.touch(&a, T0 + 30_000).await, SlotTouch::None);
    let after = room.visit(&b, Mode::Status, T0 + 30_000).await;
    assert!(
        matches!(after.placement, Placement::Active { .. }),
        "{after:?}"
    );
    assert_eq!(
        room.visit(&a, Mode::Status, T0 + 30_001).await.placement,
        Placement::NotInQueue
    );
    assert_eq!(
        room.touch(&user(9), T0).await,
        SlotTouch::None,
        "never admitted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_who_stop_polling_are_dropped_and_those_who_poll_keep_their_place() {
    let room = Room::new("threshold=1,rate=100,waiter_timeout_secs=60").await;
    room.join(&user(0), T0).await;
    room.join(&user(1), T0).await;
    room.join(&user(2), T0).await;
    // user 2 polls, user 1 does not.
    room.visit(&user(2), Mode::Status, T0 + 50_000).await;
    let v = room.visit(&user(2), Mode::Status, T0 + 61_000).await;
    assert_eq!(
        v.placement,
        Placement::Waiting { position: 1 },
        "moved up past the dropped waiter"
    );
    assert_eq!(v.waiting, 1);
    assert_eq!(room.counter("dropped").await, 1);
    assert_eq!(
        room.visit(&user(1), Mode::Status, T0 + 61_000)
            .await
            .placement,
        Placement::NotInQueue
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn positions_only_move_forward() {
    let room = Room::new("threshold=5,rate=2,slot_secs=3,waiter_timeout_secs=1000").await;
    let users: Vec<String> = (0..40).map(user).collect();
    for u in &users {
        room.join(u, T0).await;
    }
    let mut last: Vec<u64> = vec![u64::MAX; users.len()];
    // Admitted users are not visited again, so their slots end and make room.
    let mut admitted = vec![false; users.len()];
    let mut moves = 0;
    for step in 1..=40u64 {
        let now = T0 + step * 700;
        // Some leave, newcomers arrive behind everyone, slots end, the rate admits.
        if step % 7 == 0 {
            room.leave(&users[(step as usize * 3) % users.len()]).await;
        }
        room.join(&user(1_000 + step as usize), now).await;
        for (i, u) in users.iter().enumerate() {
            if admitted[i] {
                continue;
            }
            let placement = room.visit(u, Mode::Status, now).await.placement;
            admitted[i] = matches!(placement, Placement::Active { .. });
            if let Placement::Waiting { position } = placement {
                assert!(
                    position <= last[i],
                    "{u} moved back from {} to {position}",
                    last[i]
                );
                if position < last[i] && last[i] != u64::MAX {
                    moves += 1;
                }
                last[i] = position;
            }
        }
    }
    println!("forward moves observed: {moves}");
    assert!(moves > 50, "the line must actually move ({moves} moves)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_is_idempotent_and_frees_the_slot() {
    let room = Room::new("threshold=1,rate=1000").await;
    room.join(&user(1), T0).await;
    room.join(&user(2), T0).await;
    room.leave(&user(1)).await;
    room.leave(&user(1)).await;
    assert_eq!(room.counter("left").await, 1);
    let v = room.visit(&user(2), Mode::Status, T0 + 10).await;
    assert!(matches!(v.placement, Placement::Active { .. }), "{v:?}");
    assert_eq!(
        room.visit(&user(1), Mode::Status, T0 + 10).await.placement,
        Placement::NotInQueue
    );
}

/// What the join component does before the opening: the stored seed (made once), the draw.
async fn presale_join(room: &Room, user: &str, opens_at: u64, now: u64) -> Visit {
    let mut conn = room.conn.clone();
    let offer = Seed::from_bytes(rand_bytes()).to_hex();
    let _: bool = redis::AsyncCommands::hset_nx(&mut conn, &room.keys.fair, "seed", &offer)
        .await
        .expect("hsetnx");
    let stored: String = redis::AsyncCommands::hget(&mut conn, &room.keys.fair, "seed")
        .await
        .expect("hget");
    let draw = Draw::new(&Seed::from_hex(&stored).expect("seed"), user);
    let facts = JoinFacts {
        event_info: None,
        opens_at_ms: Some(opens_at),
        draw: Some(&draw),
    };
    room.visit_with(user, Mode::Join, &facts, now).await
}

fn rand_bytes() -> [u8; 32] {
    let mut b = [0u8; 32];
    for chunk in b.chunks_mut(16) {
        chunk.copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    b
}

/// HMAC-SHA256 written out from its definition (RFC 2104) over `sha2`, so the order is checked
/// against the published recipe, not against the code that made it (the end-to-end fair-start
/// test in `queue` uses it too).
pub(crate) fn published_draw(seed: &[u8], user: &str) -> u64 {
    use sha2::{Digest, Sha256};
    let mut key = [0u8; 64];
    key[..seed.len()].copy_from_slice(seed);
    let inner = Sha256::new()
        .chain_update(key.map(|b| b ^ 0x36))
        .chain_update(user.as_bytes())
        .finalize();
    let mac = Sha256::new()
        .chain_update(key.map(|b| b ^ 0x5c))
        .chain_update(inner)
        .finalize();
    mac[..6].iter().fold(0, |acc, b| (acc << 8) | u64::from(*b))
}

pub(crate) fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fair_start_admits_the_pool_in_the_order_the_revealed_seed_gives_then_fifo() {
    let room = Room::new("threshold=5,rate=1000,waiter_timeout_secs=80000,presale_pool=50").await;
    let opens = T0 + 60_000;
    let pool: Vec<String> = (0..40).map(user).collect();
    for (i, u) in pool.iter().enumerate() {
        let v = presale_join(&room, u, opens, T0 + i as u64).await;
        assert_eq!(v.placement, Placement::Pool, "no place before the draw");
        assert_eq!(v.active, 0, "nobody is admitted before the opening");
        assert!(v.in_pool);
    }
    // Before the opening the seed stays inside (the reply builder shows only its hash).
    let before = room.look(opens - 1).await;
    assert_eq!((before.active, before.pool), (0, 40));
    let fair = before.fair.clone().expect("a seed exists");
    let body = urr_queue::reply::visit_body(&before, 1000, None);
    assert!(body["fairStart"]["seed"].is_null(), "{body}");
    let seed_hash = body["fairStart"]["seedHash"].clone();

    // A joiner after the opening queues FIFO, behind the whole pool.
    let late = user(999);
    let v = presale_join(&room, &late, opens, opens).await;
    assert_eq!(v.placement, Placement::Waiting { position: 41 });

    // After the opening: the seed is revealed and matches the published hash...
    let after = room.look(opens + 1).await;
    let body = urr_queue::reply::visit_body(&after, 1000, None);
    let seed_hex = body["fairStart"]["seed"]
        .as_str()
        .expect("revealed")
        .to_string();
    assert_eq!(seed_hex, fair.seed_hex);
    {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(hex_bytes(&seed_hex));
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(serde_json::Value::String(hex), seed_hash);
    }
    // ...and recomputes the order: ascending draw, ties by user id.
    let seed = hex_bytes(&seed_hex);
    let mut expected = pool.clone();
    expected.sort_by_key(|u| (published_draw(&seed, u), u.clone()));
    // Admission: 5 at a time as slots end; record who gets in, in order.
    let mut order: Vec<String> = Vec::new();
    let mut now = opens + 1;
    while order.len() < pool.len() + 1 {
        now += 1_000;
        room.look(now).await;
        let mut conn = room.conn.clone();
        let mut batch: Vec<String> =
            redis::AsyncCommands::zrange(&mut conn, &room.keys.active, 0, -1)
                .await
                .expect("zrange");
        batch.retain(|u| !order.contains(u));
        batch.sort_by_key(|u| expected.iter().position(|e| e == u).unwrap_or(usize::MAX));
        assert!(batch.len() <= 5, "threshold");
        // Everyone still in the pool sees their rank in the drawn order.
        let left = expected
            .iter()
            .filter(|u| !order.contains(u) && !batch.contains(u));
        for (rank, u) in left.enumerate() {
            let v = room.visit(u, Mode::Status, now).await;
            assert_eq!(
                v.placement,
                Placement::Waiting {
                    position: rank as u64 + 1
                },
                "{u}"
            );
        }
        order.extend(batch.iter().cloned());
        for u in &batch {
            room.leave(u).await;
        }
        assert!(now < opens + 200_000, "the line stalled at {}", order.len());
    }
    let mut wanted = expected.clone();
    wanted.push(late.clone());
    assert_eq!(order, wanted, "pool in drawn order, then FIFO");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_opening_admits_the_pool_in_bounded_chunks_and_the_cap_sends_the_rest_to_fifo() {
    let room =
        Room::new("threshold=5000,rate=100000,waiter_timeout_secs=80000,presale_pool=1100").await;
    let opens = T0 + 60_000;
    for i in 0..1_100 {
        presale_join(&room, &user(i), opens, T0).await;
    }
    // The pool is full: the next pre-sale joiner queues first come, first served behind it, and
    // from then on the pool takes nobody (it never grows in front of a FIFO user).
    let over = presale_join(&room, &user(5_000), opens, T0 + 1).await;
    assert_eq!(over.placement, Placement::Waiting { position: 1_101 });
    room.leave(&user(0)).await;
    let after_leave = presale_join(&room, &user(5_001), opens, T0 + 2).await;
    assert_eq!(
        after_leave.placement,
        Placement::Waiting { position: 1_101 }
    );
    assert_eq!(after_leave.pool, 1_099);

    // Ten seconds after the opening the credit is 1,000,000 users, but one call admits at most
    // the chunk (1,000), and the next call the rest.
    let first = room.look(opens + 10_000).await;
    assert_eq!((first.active, first.pool), (1_000, 99));
    let second = room.look(opens + 10_001).await;
    assert_eq!(second.pool, 0);
    assert_eq!(
        second.active, 1_101,
        "the rest of the pool and both FIFO users"
    );
}
