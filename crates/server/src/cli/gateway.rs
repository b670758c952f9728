//! `lastmile sim-gateway --listen ADDR`: a simulated payment provider on this machine
//! (`gateways::sim`), speaking Stripe's and the generic gateway's API and webhooks, for the
//! demo, tests and trying lastmile's online payments without a merchant account. Flags make
//! it misbehave as real providers do: duplicate, dropped, reordered, tampered or badly
//! signed notices, a confirmation API that fails, declined payments, slow deliveries.

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Args;

/// Arguments of `lastmile sim-gateway`.
#[derive(Debug, Args)]
pub struct SimGatewayArgs {
    /// HOST:PORT to listen on (port 0 picks a free port).
    #[arg(long)]
    listen: SocketAddr,
    /// The API key lastmile's merchant account uses.
    #[arg(long, env = "LASTMILE_SIM_GATEWAY_KEY", hide_env_values = true)]
    secret_key: String,
    /// The secret it signs notices with.
    #[arg(
        long,
        env = "LASTMILE_SIM_GATEWAY_WEBHOOK_SECRET",
        hide_env_values = true
    )]
    webhook_secret: String,
    /// Deliver each notice this many extra times.
    #[arg(long, default_value_t = 0)]
    duplicates: u32,
    /// Take payments but send no notice.
    #[arg(long)]
    drop_webhooks: bool,
    /// Deliver a stale notice after the success.
    #[arg(long)]
    reorder: bool,
    /// Claim another amount in the notices.
    #[arg(long)]
    tamper_amount: bool,
    /// Sign notices with another secret.
    #[arg(long)]
    wrong_secret: bool,
    /// Sign notices with a timestamp ten minutes old.
    #[arg(long)]
    stale_signature: bool,
    /// Answer confirmations with an error.
    #[arg(long)]
    fail_confirm: bool,
    /// Decline every payment.
    #[arg(long)]
    declined: bool,
    /// Wait this long before each delivery, in milliseconds.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
}

/// Runs the simulated provider until interrupted.
pub async fn sim_gateway(args: SimGatewayArgs) -> ExitCode {
    let scenario = gateways::sim::Scenario {
        duplicates: args.duplicates,
        drop_webhooks: args.drop_webhooks,
        reorder: args.reorder,
        tamper_amount: args.tamper_amount,
        wrong_secret: args.wrong_secret,
        stale_signature: args.stale_signature,
        fail_confirm: args.fail_confirm,
        declined: args.declined,
        delay_ms: args.delay_ms,
    };
    let config = gateways::sim::SimConfig {
        listen: args.listen,
        secret_key: args.secret_key,
        webhook_secret: args.webhook_secret,
        scenario,
    };
    let sim = match gateways::sim::SimGateway::start(config).await {
        Ok(sim) => sim,
        Err(error) => {
            eprintln!("lastmile sim-gateway: {error}");
            return ExitCode::from(1);
        }
    };
    {
        let mut out = std::io::stdout().lock();
        for provider in gateways::Provider::ALL {
            let _ = writeln!(out, "{} {}", provider.as_str(), sim.base_url(provider));
        }
        let _ = writeln!(out, "ready");
        let _ = out.flush();
    }
    super::router::wait_for_shutdown().await;
    sim.shutdown().await;
    ExitCode::SUCCESS
}
