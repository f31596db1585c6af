//! Fixtures shared by the booking tests: an on-sale event with seats and a standing ticket
//! type, buyers with access and entry tokens, and typed calls of the booking routes.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection as _;
use urr_tests::{AppOptions, TestApp, admit_to_event, mint_access_token, mint_entry_token};

pub struct Show {
    pub app: TestApp,
    pub event_id: String,
    /// Seat ids in label order (A-1-1, A-1-2, ...).
    pub seats: Vec<String>,
    pub ticket_type_id: String,
}

pub async fn db(app: &TestApp) -> sqlx::PgConnection {
    sqlx::PgConnection::connect(&app.database.url)
        .await
        .expect("test database")
}

/// An application with one on-sale event of `rows` x 10 seats and a standing ticket type of
/// `standing` tickets.
pub async fn show(options: AppOptions, rows: u32, standing: i32) -> Show {
    let app = urr_tests::spawn_app_with(options).await;
    let mut conn = db(&app).await;
    let layout = format!("l_{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let config =
        json!({"sections": [{"name": "A", "rows": rows, "seatsPerRow": 10, "price": 50000}]});
    let event_id: uuid::Uuid = sqlx::query_scalar(
        "WITH l AS (INSERT INTO seat_layouts (name, layout_config) VALUES ($1, $2) RETURNING id) \
         INSERT INTO events (title, venue, event_date, sale_start_date, sale_end_date, seat_layout_id) \
         SELECT 'Storm Night', 'Hall', now() + interval '30 days', now() - interval '1 day', \
                now() + interval '10 days', l.id FROM l RETURNING id",
    )
    .bind(&layout)
    .bind(&config)
    .fetch_one(&mut conn)
    .await
    .expect("event");
    sqlx::query("SELECT generate_event_seats($1)")
        .bind(event_id)
        .execute(&mut conn)
        .await
        .expect("seats");
    let seats: Vec<uuid::Uuid> = sqlx::query_scalar(
        "SELECT id FROM seats WHERE event_id = $1 ORDER BY section, row_number, seat_number",
    )
    .bind(event_id)
    .fetch_all(&mut conn)
    .await
    .expect("seat ids");
    let ticket_type_id: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO ticket_types (event_id, name, price, total_quantity, available_quantity) \
         VALUES ($1, 'Standing', 30000, $2, $2) RETURNING id",
    )
    .bind(event_id)
    .bind(standing)
    .fetch_one(&mut conn)
    .await
    .expect("ticket type");
    Show {
        app,
        event_id: event_id.to_string(),
        seats: seats.iter().map(ToString::to_string).collect(),
        ticket_type_id: ticket_type_id.to_string(),
    }
}

#[derive(Debug, Clone)]
pub struct Buyer {
    pub user_id: String,
    pub access: String,
    pub entry: String,
}

/// A signed-in user admitted from the waiting room of the show's event.
pub async fn buyer(show: &Show) -> Buyer {
    let user_id = uuid::Uuid::new_v4().to_string();
    admit_to_event(&show.app, &user_id, &show.event_id).await;
    Buyer {
        access: mint_access_token(&user_id, "buyer@example.com", false, "fam"),
        entry: mint_entry_token(&user_id, &show.event_id),
        user_id,
    }
}

pub async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

impl Show {
    pub fn with(&self, buyer: &Buyer, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request
            .bearer_auth(&buyer.access)
            .header("x-queue-entry-token", &buyer.entry)
    }

    pub async fn hold(&self, buyer: &Buyer, seats: &[&str]) -> (StatusCode, Value) {
        send(
            self.with(
                buyer,
                self.app
                    .post("/api/v1/seats/lock")
                    .json(&json!({"eventId": self.event_id, "seatIds": seats})),
            ),
        )
        .await
    }

    pub async fn release(
        &self,
        buyer: &Buyer,
        seats: &[&str],
        token: &Value,
    ) -> (StatusCode, Value) {
        send(
            self.with(
                buyer,
                self.app
                    .client
                    .delete(format!("{}/api/v1/seats/lock", self.app.url))
                    .json(
                        &json!({"eventId": self.event_id, "seatIds": seats, "fencingToken": token}),
                    ),
            ),
        )
        .await
    }

    pub async fn reserve(
        &self,
        buyer: &Buyer,
        seats: &[&str],
        key: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut body = json!({"eventId": self.event_id, "seatIds": seats});
        if let Some(key) = key {
            body["idempotencyKey"] = json!(key);
        }
        send(self.with(buyer, self.app.post("/api/v1/seats/reserve").json(&body))).await
    }

    pub async fn reserve_standing(
        &self,
        buyer: &Buyer,
        quantity: u32,
        key: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = self.with(
            buyer,
            self.app.post("/api/reservations").json(&json!({
                "eventId": self.event_id,
                "items": [{"ticketTypeId": self.ticket_type_id, "quantity": quantity}],
            })),
        );
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        send(request).await
    }

    pub async fn get(&self, buyer: &Buyer, path: &str) -> (StatusCode, Value) {
        send(self.with(buyer, self.app.get(path))).await
    }
}
