//! `lastmile sim-sms --listen ADDR`: a simulated SMS gateway on this machine
//! (`gateways::sms::sim`), speaking Twilio's, BulkSMSBD's, SSL Wireless's, Africa's
//! Talking's and a generic template's send APIs and sending their delivery reports, for the
//! demo, tests and trying lastmile's SMS without a provider account. It prints each API's
//! base URL (for a gateway's `base_url`, or the generic template's URL) and keeps what it
//! takes at `GET /_messages?to=`. Flags make it misbehave as real gateways do.

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Args;
use gateways::sms::SmsProvider;
use gateways::sms::sim::{ReportOutcome, SimSms, SimSmsConfig, SmsScenario};

/// Arguments of `lastmile sim-sms`.
#[derive(Debug, Args)]
pub struct SimSmsArgs {
    /// HOST:PORT to listen on (port 0 picks a free port).
    #[arg(long)]
    listen: SocketAddr,
    /// Twilio's Account SID and Africa's Talking's user name.
    #[arg(long, default_value = "ACsim")]
    username: String,
    /// The key every API checks (Twilio's Auth Token, the others' API key).
    #[arg(long, env = "LASTMILE_SIM_SMS_SECRET", hide_env_values = true)]
    secret: String,
    /// Where the delivery reports of every provider but Twilio go (Twilio's go to each
    /// message's StatusCallback), e.g. `http://127.0.0.1:8080/hooks/sms/1`.
    #[arg(long)]
    callback_url: Option<String>,
    /// Refuse numbers starting with this E.164 prefix for good (`+88019`).
    #[arg(long)]
    reject_prefix: Option<String>,
    /// Wait this long before answering each request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// Report every message as failed instead of delivered.
    #[arg(long)]
    report_failed: bool,
    /// Send no delivery reports.
    #[arg(long)]
    silent: bool,
    /// Wait this long before each report, in milliseconds.
    #[arg(long, default_value_t = 0)]
    report_delay_ms: u64,
    /// Send each report this many extra times.
    #[arg(long, default_value_t = 0)]
    duplicate_reports: u32,
    /// Answer the first N requests with 503.
    #[arg(long, default_value_t = 0)]
    fail_first: u32,
}

/// Runs the simulated gateway until interrupted.
pub async fn sim_sms(args: SimSmsArgs) -> ExitCode {
    let report = if args.silent {
        ReportOutcome::Silent
    } else if args.report_failed {
        ReportOutcome::Failed
    } else {
        ReportOutcome::Delivered
    };
    let config = SimSmsConfig {
        listen: args.listen,
        username: args.username,
        secret: args.secret,
        callback_url: args.callback_url,
        scenario: SmsScenario {
            reject_prefix: args.reject_prefix,
            delay_ms: args.delay_ms,
            report,
            report_delay_ms: args.report_delay_ms,
            duplicate_reports: args.duplicate_reports,
        },
    };
    let sim = match SimSms::start(config).await {
        Ok(sim) => sim,
        Err(error) => {
            eprintln!("lastmile sim-sms: {error}");
            return ExitCode::from(1);
        }
    };
    sim.fail_next(args.fail_first);
    {
        let mut out = std::io::stdout().lock();
        for provider in SmsProvider::ALL {
            let _ = writeln!(out, "{} {}", provider.as_str(), sim.base_url(provider));
        }
        let _ = writeln!(out, "messages http://{}/_messages", sim.addr());
        let _ = writeln!(out, "ready");
        let _ = out.flush();
    }
    super::router::wait_for_shutdown().await;
    sim.shutdown().await;
    ExitCode::SUCCESS
}
