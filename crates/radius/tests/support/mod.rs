//! A small server built on the crate, run in the test process: users with cleartext
//! passwords, Access-Accept with a Mikrotik-Rate-Limit, accounting acknowledged, CoA and
//! Disconnect NAKed with Error-Cause 503 for unknown sessions.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use radius::auth::Outcome;
use radius::server::{Handler, NasClient, Request, Server, ServerConfig, Stats};
use radius::{Code, Packet, attrs};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const SECRET: &str = "testing123";

#[derive(Debug)]
pub struct TestHandler {
    pub users: HashMap<String, String>,
    pub calls: Arc<AtomicUsize>,
}

impl Handler for TestHandler {
    async fn handle(&self, request: Request) -> Option<Packet> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match request.packet.code {
            Code::AccessRequest => {
                let name = request.packet.value(attrs::USER_NAME)?.ok()?;
                if name == "slow" {
                    // Stands for a handler waiting on storage, to test shutdown.
                    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                    return Some(request.reply(Code::AccessReject));
                }
                let password = self.users.get(&name)?;
                Some(match request.check_password(password) {
                    Outcome::Accept { reply, .. } => {
                        let mut accept = request.reply(Code::AccessAccept);
                        accept.attributes = reply;
                        accept.add(attrs::MIKROTIK_RATE_LIMIT, &"10M/50M".to_owned());
                        accept
                    }
                    Outcome::Reject { reply, .. } => {
                        let mut reject = request.reply(Code::AccessReject);
                        reject.attributes = reply;
                        reject
                    }
                })
            }
            Code::AccountingRequest => Some(request.reply(Code::AccountingResponse)),
            Code::StatusServer => Some(request.reply(Code::AccessAccept)),
            Code::CoaRequest | Code::DisconnectRequest => {
                let known = request.packet.value(attrs::USER_NAME) == Some(Ok("alice".into()));
                let code = match (request.packet.code, known) {
                    (Code::CoaRequest, true) => Code::CoaAck,
                    (Code::CoaRequest, false) => Code::CoaNak,
                    (_, true) => Code::DisconnectAck,
                    (_, false) => Code::DisconnectNak,
                };
                let mut reply = request.reply(code);
                if !known {
                    reply.add(attrs::ERROR_CAUSE, &503);
                }
                Some(reply)
            }
            _ => None,
        }
    }
}

pub struct RunningServer {
    pub address: SocketAddr,
    pub stats: Arc<Stats>,
    pub calls: Arc<AtomicUsize>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl RunningServer {
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}

/// Starts the test server on a free loopback port, answering 127.0.0.1 with [`SECRET`].
pub async fn start_server(require_message_authenticator: bool) -> RunningServer {
    let mut users = HashMap::new();
    users.insert("alice".to_owned(), "secret1".to_owned());
    let calls = Arc::new(AtomicUsize::new(0));
    let handler = TestHandler {
        users,
        calls: Arc::clone(&calls),
    };
    let nas = NasClient::new(SECRET).require_message_authenticator(require_message_authenticator);
    let clients: HashMap<IpAddr, NasClient> = [(IpAddr::from([127, 0, 0, 1]), nas)].into();
    let server = Server::bind(
        "127.0.0.1:0".parse().unwrap(),
        clients,
        handler,
        ServerConfig::default(),
    )
    .await
    .unwrap();
    let address = server.local_addr().unwrap();
    let stats = server.stats();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    RunningServer {
        address,
        stats,
        calls,
        stop: Some(stop),
        task: Some(task),
    }
}
