//! A small RADIUS server built on the crate: users from the command line, every client on
//! loopback (or `--client ADDR`) with one secret. It answers Access-Requests (PAP, CHAP,
//! MS-CHAPv1, MS-CHAPv2) with Access-Accept plus a Mikrotik-Rate-Limit, or Access-Reject;
//! Accounting-Requests with Accounting-Response; Status-Server with Access-Accept.
//!
//! cargo run -p radius --example server -- --listen 127.0.0.1:18120 --secret testing123 \
//!     --user alice:secret1 [--client 127.0.0.1] [--no-require-message-authenticator]
//!
//! It prints `listening on ADDR` once ready, and stops on end of standard input.

#![allow(clippy::print_stdout)] // printing its address and figures is its job

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

use radius::attrs;
use radius::server::{Handler, NasClient, Request, Server, ServerConfig};
use radius::{Code, Packet};
use tokio::io::AsyncReadExt;

struct Users(HashMap<String, String>);

impl Handler for Users {
    async fn handle(&self, request: Request) -> Option<Packet> {
        match request.packet.code {
            Code::AccessRequest => {
                let name = request.packet.value(attrs::USER_NAME)?.ok()?;
                let outcome = self.0.get(&name).map(|pw| request.check_password(pw));
                Some(match outcome {
                    Some(radius::auth::Outcome::Accept { reply, .. }) => {
                        let mut accept = request.reply(Code::AccessAccept);
                        accept.attributes = reply;
                        accept.add(attrs::MIKROTIK_RATE_LIMIT, &"10M/50M".to_owned());
                        accept.add(attrs::SESSION_TIMEOUT, &3600);
                        accept
                    }
                    Some(radius::auth::Outcome::Reject { reply, .. }) => {
                        let mut reject = request.reply(Code::AccessReject);
                        reject.attributes = reply;
                        reject
                    }
                    None => request.reply(Code::AccessReject),
                })
            }
            Code::AccountingRequest => Some(request.reply(Code::AccountingResponse)),
            Code::StatusServer => Some(request.reply(Code::AccessAccept)),
            _ => None,
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() -> ExitCode {
    let mut listen: SocketAddr = ([127, 0, 0, 1], 18120).into();
    let mut secret = String::from("testing123");
    let mut clients: Vec<IpAddr> = Vec::new();
    let mut users = HashMap::new();
    let mut require_ma = true;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "--no-require-message-authenticator" => {
                require_ma = false;
                continue;
            }
            _ => args.next().unwrap_or_default(),
        };
        match arg.as_str() {
            "--listen" => match value.parse() {
                Ok(addr) => listen = addr,
                Err(err) => return fail(&format!("--listen {value}: {err}")),
            },
            "--secret" => secret = value,
            "--client" => match value.parse() {
                Ok(ip) => clients.push(ip),
                Err(err) => return fail(&format!("--client {value}: {err}")),
            },
            "--user" => match value.split_once(':') {
                Some((name, password)) => {
                    users.insert(name.to_owned(), password.to_owned());
                }
                None => return fail("--user takes NAME:PASSWORD"),
            },
            other => return fail(&format!("unknown argument {other}")),
        }
    }
    if clients.is_empty() {
        clients.push(listen.ip());
    }
    let nas = NasClient::new(&secret).require_message_authenticator(require_ma);
    let table: HashMap<IpAddr, NasClient> =
        clients.into_iter().map(|ip| (ip, nas.clone())).collect();
    let server = match Server::bind(listen, table, Users(users), ServerConfig::default()).await {
        Ok(server) => server,
        Err(err) => return fail(&format!("bind {listen}: {err}")),
    };
    match server.local_addr() {
        Ok(addr) => println!("listening on {addr}"),
        Err(err) => return fail(&err.to_string()),
    }
    let stop = async {
        let mut sink = Vec::new();
        let _ = tokio::io::stdin().read_to_end(&mut sink).await;
    };
    match server.run(stop).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(&err.to_string()),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("server: {message}");
    ExitCode::from(2)
}
