//! `urr-edge seed`: the demo catalog — three seat layouts, and seated and standing events that
//! are upcoming, on sale and ended — so a fresh local stack has something to browse and buy.
//!
//! Idempotent: layouts are keyed by name, events by fixed ids, ticket types by (event, name), and
//! seats by position, and every insert skips what exists, so a second run changes nothing.
//! Dates are relative to the database's `now()` when an event is first seeded, so a fresh seed
//! always has something on sale. Seats come from `generate_event_seats`, the same single SQL
//! function the admin component uses: one statement per event, not one per seat.

use anyhow::{Context, Result};
use sqlx::{Connection as _, PgConnection};

/// Serializes concurrent seeds (two `up`s against one database); any constant unique to seeding.
const SEED_LOCK_KEY: i64 = 7_265_023;

/// A seat layout: sections of rows x seats, `startRow` numbering each section's rows.
pub struct DemoLayout {
    pub name: &'static str,
    pub description: &'static str,
    pub layout_config: &'static str,
    pub total_seats: i64,
}

pub const LAYOUTS: [DemoLayout; 3] = [
    DemoLayout {
        name: "small_theater",
        description: "Small theater: VIP, R and S sections (265 seats)",
        layout_config: r#"{"sections":[
            {"name":"VIP","rows":3,"seatsPerRow":15,"price":150000,"startRow":1},
            {"name":"R","rows":5,"seatsPerRow":20,"price":120000,"startRow":4},
            {"name":"S","rows":6,"seatsPerRow":20,"price":90000,"startRow":9}]}"#,
        total_seats: 265,
    },
    DemoLayout {
        name: "large_theater",
        description: "Large theater: VIP, R, S and A sections (1,250 seats)",
        layout_config: r#"{"sections":[
            {"name":"VIP","rows":5,"seatsPerRow":30,"price":170000,"startRow":1},
            {"name":"R","rows":10,"seatsPerRow":40,"price":140000,"startRow":6},
            {"name":"S","rows":10,"seatsPerRow":40,"price":110000,"startRow":16},
            {"name":"A","rows":10,"seatsPerRow":30,"price":80000,"startRow":26}]}"#,
        total_seats: 1_250,
    },
    DemoLayout {
        name: "sports_stadium",
        description: "Stadium: floor and four stands (4,900 seats)",
        layout_config: r#"{"sections":[
            {"name":"Floor","rows":10,"seatsPerRow":50,"price":165000,"startRow":1},
            {"name":"North","rows":20,"seatsPerRow":55,"price":132000,"startRow":1},
            {"name":"South","rows":20,"seatsPerRow":55,"price":132000,"startRow":1},
            {"name":"East","rows":20,"seatsPerRow":55,"price":99000,"startRow":1},
            {"name":"West","rows":20,"seatsPerRow":55,"price":99000,"startRow":1}]}"#,
        total_seats: 4_900,
    },
];

/// A standing ticket type of a demo event.
pub struct DemoTicketType {
    pub name: &'static str,
    pub price: i32,
    pub quantity: i32,
    pub description: &'static str,
}

/// A demo event. Times are hours from the moment it is first seeded.
pub struct DemoEvent {
    pub id: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub venue: &'static str,
    pub address: &'static str,
    pub artist_name: &'static str,
    /// `None`: a standing event, sold by ticket type.
    pub layout: Option<&'static str>,
    pub sale_opens_in_hours: i32,
    pub sale_closes_in_hours: i32,
    pub event_in_hours: i32,
    pub ticket_types: &'static [DemoTicketType],
}

const DAY_HOURS: i32 = 24;

pub const EVENTS: [DemoEvent; 6] = [
    DemoEvent {
        id: "5e3d0a4c-1b7e-4c2a-9f00-000000000001",
        title: "뮤지컬 〈영웅〉",
        description: "The musical of An Jung-geun's last year, in a 265-seat house.",
        venue: "블루스퀘어 신한카드홀",
        address: "서울특별시 용산구 이태원로 294",
        artist_name: "정성화",
        layout: Some("small_theater"),
        sale_opens_in_hours: -2 * DAY_HOURS,
        sale_closes_in_hours: 30 * DAY_HOURS,
        event_in_hours: 31 * DAY_HOURS,
        ticket_types: &[],
    },
    DemoEvent {
        id: "5e3d0a4c-1b7e-4c2a-9f00-000000000002",
        title: "Golden Hour Encore Concert",
        description: "The encore of the Golden Hour tour. Sale opens next week.",
        venue: "올림픽공원 올림픽홀",
        address: "서울특별시 송파구 올림픽로 424",
        artist_name: "IU",
        layout: Some("large_theater"),
        sale_opens_in_hours: 7 * DAY_HOURS,
        sale_closes_in_hours: 37 * DAY_HOURS,
        event_in_hours: 40 * DAY_HOURS,
        ticket_types: &[],
    },
    DemoEvent {
        id: "5e3d0a4c-1b7e-4c2a-9f00-000000000003",
        title: "K-POP Super Concert in Seoul",
        description: "Twelve acts, one night, the whole stadium.",
        venue: "서울월드컵경기장",
        address: "서울특별시 마포구 월드컵로 240",
        artist_name: "Various Artists",
        layout: Some("sports_stadium"),
        sale_opens_in_hours: -DAY_HOURS,
        sale_closes_in_hours: 20 * DAY_HOURS,
        event_in_hours: 21 * DAY_HOURS,
        ticket_types: &[],
    },
    DemoEvent {
        id: "5e3d0a4c-1b7e-4c2a-9f00-000000000004",
        title: "Indie Night Live",
        description: "A standing-only club show.",
        venue: "롤링홀",
        address: "서울특별시 마포구 어울마당로 35",
        artist_name: "잔나비",
        layout: None,
        sale_opens_in_hours: -3 * DAY_HOURS,
        sale_closes_in_hours: 14 * DAY_HOURS,
        event_in_hours: 15 * DAY_HOURS,
        ticket_types: &[
            DemoTicketType {
                name: "스탠딩 A",
                price: 77_000,
                quantity: 300,
                description: "Entry numbers 1-300",
            },
            DemoTicketType {
                name: "스탠딩 B",
                price: 66_000,
                quantity: 200,
                description: "Entry numbers 301-500",
            },
        ],
    },
    DemoEvent {
        id: "5e3d0a4c-1b7e-4c2a-9f00-000000000005",
        title: "Summer Rock Festival",
        description: "Two days of rock by the sea. Sale ended.",
        venue: "송도달빛축제공원",
        address: "인천광역시 연수구 송도동 10-1",
        artist_name: "Various Artists",
        layout: None,
        sale_opens_in_hours: -60 * DAY_HOURS,
        sale_closes_in_hours: -30 * DAY_HOURS,
        event_in_hours: -29 * DAY_HOURS,
        ticket_types: &[DemoTicketType {
            name: "1일권",
            price: 99_000,
            quantity: 1_000,
            description: "One-day pass",
        }],
    },
    DemoEvent {
        id: "5e3d0a4c-1b7e-4c2a-9f00-000000000006",
        title: "Spring Day Fan Meeting",
        description: "Talk, games and a mini live. Sale opens in three days.",
        venue: "예스24라이브홀",
        address: "서울특별시 광진구 구천면로 20",
        artist_name: "봄날",
        layout: None,
        sale_opens_in_hours: 3 * DAY_HOURS,
        sale_closes_in_hours: 10 * DAY_HOURS,
        event_in_hours: 12 * DAY_HOURS,
        ticket_types: &[DemoTicketType {
            name: "일반",
            price: 55_000,
            quantity: 500,
            description: "General admission",
        }],
    },
];

/// What one seed run inserted (all zero when everything already existed).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    pub layouts: u64,
    pub events: u64,
    pub ticket_types: u64,
    pub seats: u64,
}

/// Seeds the demo data into the (migrated) database at `database_url`, in one transaction.
pub async fn seed(database_url: &str) -> Result<SeedReport> {
    let mut conn = PgConnection::connect(database_url)
        .await
        .context("connecting to the application database to seed it")?;
    let mut tx = begin_seeding(&mut conn).await?;
    let mut report = SeedReport::default();
    for layout in &LAYOUTS {
        report.layouts += seed_layout(&mut tx, layout)
            .await
            .with_context(|| format!("seeding layout {}", layout.name))?;
    }
    for event in &EVENTS {
        seed_event(&mut tx, event, &mut report)
            .await
            .with_context(|| format!("seeding event {}", event.title))?;
    }
    let board = seed_board(&mut tx)
        .await
        .context("seeding the community board and news")?;
    tracing::info!(
        posts = board.0,
        news = board.1,
        "seeded the community board and news"
    );
    tx.commit().await?;
    conn.close().await?;
    Ok(report)
}

/// The demo sales history (`seed/demo_history.sql`: buyers, paid, refunded, cancelled and
/// expired reservations on the demo events), so the admin dashboard and statistics of a fresh
/// local stack show numbers. Run after [`seed`], in its own transaction; returns the
/// reservations it inserted (0 once they exist). Kept apart from [`seed`] because tests that
/// book the demo events need their seats free.
pub async fn seed_history(database_url: &str) -> Result<u64> {
    let mut conn = PgConnection::connect(database_url)
        .await
        .context("connecting to the application database to seed the demo history")?;
    let mut tx = begin_seeding(&mut conn).await?;
    let count = "SELECT count(*) FROM reservations WHERE reservation_number LIKE 'DEMO-%'";
    let before: i64 = sqlx::query_scalar(count).fetch_one(&mut *tx).await?;
    sqlx::raw_sql(DEMO_HISTORY)
        .execute(&mut *tx)
        .await
        .context("seeding the demo sales history")?;
    let after: i64 = sqlx::query_scalar(count).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    conn.close().await?;
    Ok(u64::try_from(after - before)?)
}

/// A transaction that holds the seed lock: concurrent seeds (two `up`s on one database) run one
/// after the other, so each sees what the other inserted.
async fn begin_seeding(conn: &mut PgConnection) -> Result<sqlx::Transaction<'_, sqlx::Postgres>> {
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(SEED_LOCK_KEY)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// The demo sales history, one idempotent SQL block.
const DEMO_HISTORY: &str = include_str!("seed/demo_history.sql");

async fn seed_layout(conn: &mut PgConnection, layout: &DemoLayout) -> Result<u64> {
    let inserted = sqlx::query(
        "INSERT INTO seat_layouts (name, description, layout_config) VALUES ($1, $2, $3::jsonb) \
         ON CONFLICT ON CONSTRAINT seat_layouts_name_key DO NOTHING",
    )
    .bind(layout.name)
    .bind(layout.description)
    .bind(layout.layout_config)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(inserted)
}

async fn seed_event(
    conn: &mut PgConnection,
    event: &DemoEvent,
    report: &mut SeedReport,
) -> Result<()> {
    let id = uuid::Uuid::parse_str(event.id).context("a demo event id is not a UUID")?;
    report.events += sqlx::query(
        "INSERT INTO events (id, title, description, venue, address, artist_name, seat_layout_id, \
                             sale_start_date, sale_end_date, event_date) \
         SELECT $1, $2, $3, $4, $5, $6, \
                (SELECT l.id FROM seat_layouts AS l WHERE l.name = $7), \
                now() + make_interval(hours => $8), now() + make_interval(hours => $9), \
                now() + make_interval(hours => $10) \
         ON CONFLICT ON CONSTRAINT events_pkey DO NOTHING",
    )
    .bind(id)
    .bind(event.title)
    .bind(event.description)
    .bind(event.venue)
    .bind(event.address)
    .bind(event.artist_name)
    .bind(event.layout)
    .bind(event.sale_opens_in_hours)
    .bind(event.sale_closes_in_hours)
    .bind(event.event_in_hours)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    for ticket_type in event.ticket_types {
        report.ticket_types += sqlx::query(
            "INSERT INTO ticket_types (event_id, name, price, total_quantity, available_quantity, \
                                       description) \
             VALUES ($1, $2, $3, $4, $4, $5) \
             ON CONFLICT ON CONSTRAINT ticket_types_event_id_name_key DO NOTHING",
        )
        .bind(id)
        .bind(ticket_type.name)
        .bind(ticket_type.price)
        .bind(ticket_type.quantity)
        .bind(ticket_type.description)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    if event.layout.is_some() {
        let seats: i32 = sqlx::query_scalar("SELECT generate_event_seats($1)")
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
        report.seats += u64::try_from(seats).unwrap_or_default();
    }
    Ok(())
}

/// A demo post of the community board, by a demo fan (no account: posts keep their author's
/// name), under an artist of the demo events.
pub struct DemoPost {
    pub id: &'static str,
    pub artist_name: &'static str,
    pub author_name: &'static str,
    pub title: &'static str,
    pub content: &'static str,
    pub is_pinned: bool,
    pub hours_ago: i32,
    pub comments: &'static [(&'static str, &'static str, &'static str)],
}

/// The demo fans' account ids (no such accounts exist; nobody can edit these posts but an admin
/// can delete them).
const DEMO_AUTHOR_ID: &str = "d3e0f000-0000-4000-8000-000000000001";
const DEMO_OPERATOR_ID: &str = "d3e0f000-0000-4000-8000-000000000002";

pub const POSTS: [DemoPost; 4] = [
    DemoPost {
        id: "c0a1b2c3-0000-4000-8000-000000000001",
        artist_name: "IU",
        author_name: "URR 운영팀",
        title: "커뮤니티 이용 안내",
        content: "아티스트별 게시판입니다.\n서로 존중하는 댓글 문화를 함께 만들어 주세요.",
        is_pinned: true,
        hours_ago: 72,
        comments: &[],
    },
    DemoPost {
        id: "c0a1b2c3-0000-4000-8000-000000000002",
        artist_name: "IU",
        author_name: "유애나",
        title: "앵콜 콘서트 예매 같이 준비해요",
        content: "다음 주 예매 오픈!\n대기열은 오픈 10분 전에 열린대요. 모두 성공하길 🍀",
        is_pinned: false,
        hours_ago: 20,
        comments: &[
            (
                "c0a1b2c3-1000-4000-8000-000000000001",
                "골든아워",
                "저도 대기열 들어갑니다!",
            ),
            (
                "c0a1b2c3-1000-4000-8000-000000000002",
                "밤편지",
                "좋은 자리 잡으세요 :)",
            ),
        ],
    },
    DemoPost {
        id: "c0a1b2c3-0000-4000-8000-000000000003",
        artist_name: "잔나비",
        author_name: "주저하는연인들",
        title: "롤링홀 스탠딩 후기",
        content: "B구역도 생각보다 잘 보였어요. 물은 꼭 챙기세요!",
        is_pinned: false,
        hours_ago: 8,
        comments: &[],
    },
    DemoPost {
        id: "c0a1b2c3-0000-4000-8000-000000000004",
        artist_name: "정성화",
        author_name: "뮤덕",
        title: "〈영웅〉 VIP석 시야 어떤가요?",
        content: "3열 중앙 생각 중인데 <무대> 가까워서 좋을까요?",
        is_pinned: false,
        hours_ago: 2,
        comments: &[],
    },
];

/// A demo notice (signed by no account).
pub struct DemoNews {
    pub id: &'static str,
    pub title: &'static str,
    pub content: &'static str,
    pub is_pinned: bool,
    pub hours_ago: i32,
}

pub const NEWS: [DemoNews; 3] = [
    DemoNews {
        id: "e0a1b2c3-0000-4000-8000-000000000001",
        title: "URR 서비스 오픈 안내",
        content: "URR 티켓 예매 서비스가 오픈했습니다.\n대기열, 좌석 선택, 결제까지 한 번에 이용해 보세요.",
        is_pinned: true,
        hours_ago: 96,
    },
    DemoNews {
        id: "e0a1b2c3-0000-4000-8000-000000000002",
        title: "예매 대기열 이용 방법",
        content: "인기 공연은 오픈 시각에 대기열이 열립니다. 순서가 오면 좌석 선택 화면으로 이동합니다.",
        is_pinned: false,
        hours_ago: 48,
    },
    DemoNews {
        id: "e0a1b2c3-0000-4000-8000-000000000003",
        title: "취소 및 환불 규정",
        content: "공연 전날까지 예매 내역에서 취소할 수 있으며, 결제 수단으로 환불됩니다.",
        is_pinned: false,
        hours_ago: 12,
    },
];

/// The artist id a demo post is filed under: the `artists` row of that name once artists exist
/// (a later migration), else a fixed id per name, so the board has tabs to show either way.
async fn demo_artist_id(conn: &mut PgConnection, name: &str) -> Result<uuid::Uuid> {
    let artists_exist: bool =
        sqlx::query_scalar("SELECT to_regclass('public.artists') IS NOT NULL")
            .fetch_one(&mut *conn)
            .await?;
    if artists_exist {
        let found: Option<uuid::Uuid> =
            sqlx::query_scalar("SELECT id FROM artists WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut *conn)
                .await?;
        if let Some(id) = found {
            return Ok(id);
        }
    }
    let index = EVENTS
        .iter()
        .position(|e| e.artist_name == name)
        .unwrap_or_default();
    Ok(uuid::Uuid::from_u128(
        0xa0000000_0000_4000_8000_000000000000 + index as u128,
    ))
}

/// Seeds the board's posts (with their comments) and the notices; returns how many posts and
/// notices were inserted.
async fn seed_board(conn: &mut PgConnection) -> Result<(u64, u64)> {
    let mut posts = 0;
    for post in &POSTS {
        let artist_id = demo_artist_id(conn, post.artist_name).await?;
        let author_id = if post.is_pinned {
            DEMO_OPERATOR_ID
        } else {
            DEMO_AUTHOR_ID
        };
        posts += sqlx::query(
            "INSERT INTO community_posts (id, artist_id, author_id, author_name, title, content, \
                                          is_pinned, comment_count, created_at, updated_at) \
             VALUES ($1, $2, $3::uuid, $4, $5, $6, $7, $8, now() - make_interval(hours => $9), \
                     now() - make_interval(hours => $9)) \
             ON CONFLICT ON CONSTRAINT community_posts_pkey DO NOTHING",
        )
        .bind(uuid::Uuid::parse_str(post.id)?)
        .bind(artist_id)
        .bind(author_id)
        .bind(post.author_name)
        .bind(post.title)
        .bind(post.content)
        .bind(post.is_pinned)
        .bind(i32::try_from(post.comments.len())?)
        .bind(post.hours_ago)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        for (id, author_name, content) in post.comments {
            sqlx::query(
                "INSERT INTO community_comments (id, post_id, author_id, author_name, content) \
                 VALUES ($1, $2, $3::uuid, $4, $5) \
                 ON CONFLICT ON CONSTRAINT community_comments_pkey DO NOTHING",
            )
            .bind(uuid::Uuid::parse_str(id)?)
            .bind(uuid::Uuid::parse_str(post.id)?)
            .bind(DEMO_AUTHOR_ID)
            .bind(author_name)
            .bind(content)
            .execute(&mut *conn)
            .await?;
        }
    }
    let mut news = 0;
    for notice in &NEWS {
        news += sqlx::query(
            "INSERT INTO news (id, title, content, author, is_pinned, created_at, updated_at) \
             VALUES ($1, $2, $3, 'URR 운영팀', $4, now() - make_interval(hours => $5), \
                     now() - make_interval(hours => $5)) \
             ON CONFLICT ON CONSTRAINT news_pkey DO NOTHING",
        )
        .bind(uuid::Uuid::parse_str(notice.id)?)
        .bind(notice.title)
        .bind(notice.content)
        .bind(notice.is_pinned)
        .bind(notice.hours_ago)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    Ok((posts, news))
}

/// Accounts that come with the demo data, in the same transaction as the catalog.
///
/// Extension point: once the users table exists, this creates (idempotently) the admin account
/// named by `URR_ADMIN_EMAIL` / `URR_ADMIN_PASSWORD`, so a fresh `urr-edge up` can sign in to the
/// admin screens. Until then there is nothing to seed.
/// The environment variables that name the administrator `seed` creates (never a migration:
/// no password lives in the repository).
pub const ADMIN_EMAIL_ENV: &str = "URR_ADMIN_EMAIL";
pub const ADMIN_PASSWORD_ENV: &str = "URR_ADMIN_PASSWORD";

/// What [`seed_admin`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminOutcome {
    Created,
    /// The account existed with another password or role: it is an admin with this password now.
    Updated,
    /// The account already was an admin with this password.
    Unchanged,
}

/// Creates the administrator `email` with `password` (Argon2id, the same rules and parameters as
/// registration), or makes an existing account of that email an admin with that password.
/// Idempotent: a second run with the same password changes nothing.
pub async fn seed_admin(database_url: &str, email: &str, password: &str) -> Result<AdminOutcome> {
    let email = urr_auth::input::Email::parse(email)
        .map_err(|e| anyhow::anyhow!("{ADMIN_EMAIL_ENV}: {}", e))?;
    let password = urr_auth::input::Password::parse(password.to_string())
        .map_err(|e| anyhow::anyhow!("{ADMIN_PASSWORD_ENV}: {}", e))?;
    let mut conn = PgConnection::connect(database_url)
        .await
        .context("connecting to the application database to seed the admin")?;
    let existing: Option<(String, String)> =
        sqlx::query_as("SELECT password_hash, role FROM users WHERE lower(email) = lower($1)")
            .bind(email.as_str())
            .fetch_optional(&mut conn)
            .await?;
    if let Some((hash, role)) = &existing
        && role == "admin"
        && urr_auth::password::verify_password(password.expose(), Some(hash))
    {
        conn.close().await?;
        return Ok(AdminOutcome::Unchanged);
    }
    let salt = urr_tokens::random_bytes::<{ urr_auth::password::SALT_BYTES }>()
        .map_err(|e| anyhow::anyhow!("no randomness for a salt: {e}"))?;
    let hash = urr_auth::password::hash_password(password.expose(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing the admin password: {e:?}"))?;
    sqlx::query(
        "INSERT INTO users (email, password_hash, name, role) VALUES ($1, $2, 'Administrator', 'admin') \
         ON CONFLICT ((lower(email))) DO UPDATE \
         SET password_hash = EXCLUDED.password_hash, role = 'admin', updated_at = now()",
    )
    .bind(email.as_str())
    .bind(&hash)
    .execute(&mut conn)
    .await
    .context("writing the admin account")?;
    conn.close().await?;
    Ok(if existing.is_some() {
        AdminOutcome::Updated
    } else {
        AdminOutcome::Created
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_demo_layout_states_its_seat_count() {
        for layout in &LAYOUTS {
            let config: serde_json::Value =
                serde_json::from_str(layout.layout_config).expect("valid JSON");
            let seats: i64 = config["sections"]
                .as_array()
                .expect("sections")
                .iter()
                .map(|s| s["rows"].as_i64().unwrap_or(0) * s["seatsPerRow"].as_i64().unwrap_or(0))
                .sum();
            assert_eq!(seats, layout.total_seats, "{}", layout.name);
        }
    }

    #[test]
    fn demo_posts_name_demo_artists_and_keep_to_the_board_limits() {
        for post in &POSTS {
            assert!(
                EVENTS.iter().any(|e| e.artist_name == post.artist_name),
                "{}",
                post.id
            );
            assert!(uuid::Uuid::parse_str(post.id).is_ok(), "{}", post.id);
            assert!(post.title.chars().count() <= 255 && post.content.chars().count() <= 10_000);
        }
        assert!(POSTS.iter().any(|p| p.is_pinned) && NEWS.iter().any(|n| n.is_pinned));
        for notice in &NEWS {
            assert!(uuid::Uuid::parse_str(notice.id).is_ok(), "{}", notice.id);
        }
    }

    #[test]
    fn demo_events_have_valid_windows_known_layouts_and_unique_ids() {
        let mut ids: Vec<_> = EVENTS.iter().map(|e| e.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), EVENTS.len());
        for event in &EVENTS {
            assert!(uuid::Uuid::parse_str(event.id).is_ok(), "{}", event.id);
            assert!(event.sale_opens_in_hours < event.sale_closes_in_hours);
            if let Some(layout) = event.layout {
                assert!(LAYOUTS.iter().any(|l| l.name == layout), "{layout}");
            }
        }
        // A fresh seed always has something on sale, seated and standing.
        let on_sale = |seated: bool| {
            EVENTS.iter().any(|e| {
                e.layout.is_some() == seated
                    && e.sale_opens_in_hours < 0
                    && e.sale_closes_in_hours > 0
            })
        };
        assert!(on_sale(true) && on_sale(false));
    }
}
