//! `urr-mock-provider`: the mock payment provider as a process, for local development.
//! Configure the application with `provider_base_url = http://<listen>` and the same keys.

use clap::Parser;
use std::time::Duration;
use urr_mock_provider::{Config, MockProvider, Scenario};

#[derive(Parser)]
#[command(
    about = "Mock payment provider (loopback only): approve, decline, timeout, delayed webhook, unknown outcome"
)]
struct Args {
    #[arg(long, default_value = "127.0.0.1:4010")]
    listen: String,
    #[arg(
        long,
        env = "URR_MOCK_PROVIDER_SECRET_KEY",
        default_value = "sk_test_mock"
    )]
    secret_key: String,
    #[arg(
        long,
        env = "URR_MOCK_PROVIDER_WEBHOOK_SECRET",
        default_value = "whsec_test_mock"
    )]
    webhook_secret: String,
    /// Where webhooks go, e.g. http://localhost:3001/api/v1/payments/webhook
    #[arg(long)]
    webhook_url: Option<String>,
    /// Scenario for every charge: approve, decline, timeout, approve_with_delayed_webhook,
    /// unknown_outcome (per order or amount: POST /_mock/scenario).
    #[arg(long, default_value = "approve")]
    scenario: String,
    #[arg(long, default_value_t = 30_000)]
    timeout_delay_ms: u64,
    /// A JSON array of payments captured before this process started (`paymentKey`,
    /// `orderId`, `amount`, `status`, `method`), remembered so they can be refunded: a local
    /// database outlives the development provider's memory (`urr-edge up` writes this file).
    #[arg(long)]
    history: Option<std::path::PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let scenario: Scenario =
        serde_json::from_value(serde_json::Value::String(args.scenario.clone()))
            .map_err(|_| anyhow::anyhow!("unknown scenario `{}`", args.scenario))?;
    let provider = MockProvider::start(
        &args.listen,
        Config {
            secret_key: args.secret_key,
            webhook_secret: args.webhook_secret,
            webhook_url: args.webhook_url,
            timeout_delay: Duration::from_millis(args.timeout_delay_ms),
            ..Config::default()
        },
    )
    .await?;
    provider.set_default_scenario(scenario);
    if let Some(path) = &args.history {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        let captured: Vec<urr_payments::provider::PaymentObject> = serde_json::from_str(&text)
            .map_err(|e| {
                anyhow::anyhow!("{} is not a JSON array of payments: {e}", path.display())
            })?;
        let added = provider.remember_captures(captured);
        println!(
            "remembered {added} earlier captures from {}",
            path.display()
        );
    }
    println!(
        "mock payment provider on {} (counts: {}/_mock/counts)",
        provider.url(),
        provider.url()
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}
