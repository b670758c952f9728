//! `lastmile radius ...`: RADIUS tools for operators. `lastmile radius test auth|acct|coa|
//! disconnect` sends one request to a RADIUS server or a NAS, like `radtest`/`radclient`, and
//! prints the reply with every attribute by dictionary name. Exit code: 0 on Accept/ACK, 1 on
//! Reject/NAK, 2 on timeout or error. Only argument parsing and printing live here; the
//! protocol is the `radius` crate's.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use radius::auth::{self, Method};
use radius::client::{Client, ClientConfig, Response};
use radius::{Attribute, Code, Dictionary, Packet, attrs};

/// RADIUS subcommands.
#[derive(Debug, Subcommand)]
pub enum RadiusCommand {
    /// Send one request to a RADIUS server or NAS and print the reply.
    Test {
        #[command(subcommand)]
        command: TestCommand,
    },
    /// Compare the FreeRADIUS tables with what lastmile decides; report (and repair) drift.
    Verify(super::freeradius::VerifyArgs),
    /// Write a FreeRADIUS 3.2 configuration directory pointed at lastmile's database.
    FreeradiusConfig(super::freeradius::FreeradiusConfigArgs),
}

/// What `lastmile radius test` sends.
#[derive(Debug, Subcommand)]
pub enum TestCommand {
    /// An Access-Request for a user (PAP, CHAP, MS-CHAPv1 or MS-CHAPv2).
    Auth(AuthArgs),
    /// An Accounting-Request (Start, Interim-Update or Stop).
    Acct(AcctArgs),
    /// A CoA-Request (RFC 5176) to a NAS, usually on port 3799.
    Coa(Target),
    /// A Disconnect-Request (RFC 5176) to a NAS, usually on port 3799.
    Disconnect(Target),
}

/// Where to send, with what secret, and extra attributes.
#[derive(Debug, Args)]
pub struct Target {
    /// The server or NAS, HOST:PORT (the port defaults to 1812, 1813 or 3799).
    #[arg(long)]
    server: String,
    /// The shared secret.
    #[arg(long, env = "LASTMILE_RADIUS_SECRET", hide_env_values = true)]
    secret: String,
    /// An attribute to add, `Name=value` or `Name:tag=value` (repeatable).
    #[arg(long = "attr", value_name = "NAME=VALUE")]
    attrs: Vec<String>,
    /// Seconds to wait for the first reply; each retransmission waits twice as long.
    #[arg(long, default_value_t = 3.0)]
    timeout: f64,
    /// Retransmissions after the first transmission.
    #[arg(long, default_value_t = 2)]
    retries: u32,
    /// Refuse replies without a Message-Authenticator.
    #[arg(long)]
    require_message_authenticator: bool,
    /// The address to send from (a router's own address, to test as that router).
    #[arg(long)]
    source: Option<std::net::IpAddr>,
    /// Extra FreeRADIUS-format dictionary files, loaded over the built-in one (repeatable).
    #[arg(long, value_name = "FILE")]
    dictionary: Vec<PathBuf>,
}

/// Arguments of `lastmile radius test auth`.
#[derive(Debug, Args)]
pub struct AuthArgs {
    #[command(flatten)]
    target: Target,
    /// The user name.
    #[arg(long)]
    user: String,
    /// The user's password.
    #[arg(long, env = "LASTMILE_RADIUS_PASSWORD", hide_env_values = true)]
    password: String,
    /// The authentication method.
    #[arg(long, value_enum, default_value_t = AuthMethod::Pap)]
    method: AuthMethod,
}

/// Authentication methods of `lastmile radius test auth`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AuthMethod {
    /// PAP (User-Password).
    Pap,
    /// CHAP (CHAP-Password).
    Chap,
    /// MS-CHAPv1.
    Mschapv1,
    /// MS-CHAPv2, with the server's MS-CHAP2-Success checked.
    Mschapv2,
}

/// Arguments of `lastmile radius test acct`.
#[derive(Debug, Args)]
pub struct AcctArgs {
    #[command(flatten)]
    target: Target,
    /// Acct-Status-Type.
    #[arg(long, value_enum)]
    status: AcctStatus,
    /// Acct-Session-Id.
    #[arg(long)]
    session_id: String,
    /// User-Name, if any.
    #[arg(long)]
    user: Option<String>,
}

/// Acct-Status-Type values of `lastmile radius test acct`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AcctStatus {
    /// Start.
    Start,
    /// Interim-Update.
    Interim,
    /// Stop.
    Stop,
}

/// Runs a RADIUS subcommand.
pub async fn run(command: RadiusCommand) -> ExitCode {
    let command = match command {
        RadiusCommand::Test { command } => command,
        RadiusCommand::Verify(args) => return super::freeradius::verify(args).await,
        RadiusCommand::FreeradiusConfig(args) => {
            return super::freeradius::freeradius_config(args).await;
        }
    };
    match test(command).await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("lastmile radius test: {message}");
            ExitCode::from(2)
        }
    }
}

async fn test(command: TestCommand) -> Result<ExitCode, String> {
    let (target, code, default_port) = match &command {
        TestCommand::Auth(args) => (&args.target, Code::AccessRequest, 1812),
        TestCommand::Acct(args) => (&args.target, Code::AccountingRequest, 1813),
        TestCommand::Coa(target) => (target, Code::CoaRequest, 3799),
        TestCommand::Disconnect(target) => (target, Code::DisconnectRequest, 3799),
    };
    let dict = load_dictionary(&target.dictionary)?;
    let server = resolve(&target.server, default_port).await?;
    let secret = target.secret.as_bytes();
    let mut request = Packet::new(code, rand::random());
    let mut exchange = None;
    match &command {
        TestCommand::Auth(args) => {
            request.add(attrs::USER_NAME, &args.user);
            add_attributes(&mut request, &dict, &target.attrs)?;
            add_nas_identifier(&mut request);
            exchange =
                auth::add_credentials(&mut request, method(args.method), &args.password, secret)
                    .map_err(|err| format!("password: {err}"))?;
        }
        TestCommand::Acct(args) => {
            request.add(attrs::ACCT_STATUS_TYPE, &status(args.status));
            request.add(attrs::ACCT_SESSION_ID, &args.session_id);
            if let Some(user) = &args.user {
                request.add(attrs::USER_NAME, user);
            }
            add_attributes(&mut request, &dict, &target.attrs)?;
            add_nas_identifier(&mut request);
        }
        TestCommand::Coa(_) | TestCommand::Disconnect(_) => {
            add_attributes(&mut request, &dict, &target.attrs)?;
        }
    }
    let config = ClientConfig {
        timeout: Duration::try_from_secs_f64(target.timeout)
            .map_err(|err| format!("--timeout: {err}"))?,
        retries: target.retries,
        require_message_authenticator: target.require_message_authenticator,
        source: target.source,
        ..ClientConfig::default()
    };
    let client = Client::with_config(server, secret, config);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "Sent {} Id {} to {server}", code, request.identifier);
    let response = client.send(&request).await.map_err(|err| err.to_string())?;
    print_response(&mut out, &dict, server, &response);
    if let Some(exchange) = exchange
        && response.packet.code == Code::AccessAccept
    {
        if !exchange.verify_success(&response.packet) {
            return Err("MS-CHAP2-Success does not prove the server knows the password".into());
        }
        let _ = writeln!(
            out,
            "MS-CHAP2-Success verified: the server knows the password"
        );
    }
    Ok(if response.is_positive() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn load_dictionary(files: &[PathBuf]) -> Result<Dictionary, String> {
    let mut dict = Dictionary::builtin().clone();
    for file in files {
        dict.load_file(file).map_err(|err| err.to_string())?;
    }
    Ok(dict)
}

async fn resolve(server: &str, default_port: u16) -> Result<SocketAddr, String> {
    let with_port = if server.parse::<SocketAddr>().is_ok()
        || server
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.contains(':') && port.parse::<u16>().is_ok())
    {
        server.to_owned()
    } else {
        format!("{server}:{default_port}")
    };
    tokio::net::lookup_host(&with_port)
        .await
        .map_err(|err| format!("--server {server}: {err}"))?
        .next()
        .ok_or_else(|| format!("--server {server}: no address"))
}

fn add_attributes(
    request: &mut Packet,
    dict: &Dictionary,
    assignments: &[String],
) -> Result<(), String> {
    for text in assignments {
        let attribute: Attribute = dict
            .parse_assignment(text)
            .map_err(|err| format!("--attr {text}: {err}"))?;
        request.attributes.push(attribute);
    }
    Ok(())
}

/// RFC 2865 and 2866 want NAS-IP-Address or NAS-Identifier; add one unless given.
fn add_nas_identifier(request: &mut Packet) {
    if !request.contains(attrs::NAS_IP_ADDRESS.id())
        && !request.contains(attrs::NAS_IDENTIFIER.id())
    {
        request.add(attrs::NAS_IDENTIFIER, &"lastmile-radius-test".to_owned());
    }
}

fn method(method: AuthMethod) -> Method {
    match method {
        AuthMethod::Pap => Method::Pap,
        AuthMethod::Chap => Method::Chap,
        AuthMethod::Mschapv1 => Method::MsChapV1,
        AuthMethod::Mschapv2 => Method::MsChapV2,
    }
}

fn status(status: AcctStatus) -> u32 {
    match status {
        AcctStatus::Start => attrs::acct_status_type::START,
        AcctStatus::Interim => attrs::acct_status_type::INTERIM_UPDATE,
        AcctStatus::Stop => attrs::acct_status_type::STOP,
    }
}

fn print_response(
    out: &mut impl Write,
    dict: &Dictionary,
    server: SocketAddr,
    response: &Response,
) {
    let packet = &response.packet;
    let _ = writeln!(
        out,
        "Received {} Id {} from {server}",
        packet.code, packet.identifier
    );
    for attribute in &packet.attributes {
        let _ = writeln!(out, "\t{}", dict.format(attribute));
    }
    for cause in response.error_causes() {
        let _ = writeln!(out, "Error-Cause: {cause}");
    }
}
