//! Shared helpers for the integration tests: starting a simulated router, client
//! configurations for it, and a raw API connection that sends hand-built sentences the way
//! other clients do.

#![allow(dead_code, reason = "each test crate uses a different part")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test on error"
)]

use std::net::SocketAddr;
use std::time::Duration;

use routeros::codec::{Decoder, Limits, encode_sentence};
use routeros::sim::{Group, SimConfig, SimRouter};
use routeros::{Client, ClientConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const USER: &str = "api";
pub const PASSWORD: &str = "secret-password";

/// A router with one `full` user on a free loopback port.
pub async fn router() -> SimRouter {
    SimRouter::start(SimConfig::new(USER, PASSWORD, Group::Full))
        .await
        .unwrap()
}

/// A router started with `config`.
pub async fn router_with(config: SimConfig) -> SimRouter {
    SimRouter::start(config).await.unwrap()
}

/// A client configuration for the router's plain port.
pub fn config(router: &SimRouter) -> ClientConfig {
    ClientConfig::new(router.address().to_string(), USER, PASSWORD)
}

/// A logged-in client.
pub async fn client(router: &SimRouter) -> Client {
    Client::connect(&config(router)).await.unwrap()
}

/// A raw connection: sentences in, sentences out, no client logic.
pub struct Raw {
    stream: TcpStream,
    decoder: Decoder,
    buf: Vec<u8>,
    pending: std::collections::VecDeque<Vec<String>>,
}

impl Raw {
    pub async fn connect(address: SocketAddr) -> Self {
        let stream = TcpStream::connect(address).await.unwrap();
        Self {
            stream,
            decoder: Decoder::new(Limits::default()),
            buf: Vec::new(),
            pending: Default::default(),
        }
    }

    /// Connects and logs in with an untagged `/login`.
    pub async fn logged_in(address: SocketAddr) -> Self {
        let mut raw = Self::connect(address).await;
        raw.send(&[
            "/login",
            &format!("=name={USER}"),
            &format!("=password={PASSWORD}"),
        ])
        .await;
        assert_eq!(raw.recv().await, ["!done"]);
        raw
    }

    pub async fn send(&mut self, words: &[&str]) {
        let mut bytes = Vec::new();
        encode_sentence(words, &mut bytes).unwrap();
        self.send_bytes(&bytes).await;
    }

    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// The next sentence, words lossily decoded; panics after 10 s or at end of stream.
    pub async fn recv(&mut self) -> Vec<String> {
        tokio::time::timeout(Duration::from_secs(10), self.next())
            .await
            .expect("no reply in 10 s")
            .expect("connection closed")
    }

    async fn next(&mut self) -> Option<Vec<String>> {
        loop {
            if let Some(sentence) = self.pending.pop_front() {
                return Some(sentence);
            }
            let mut sentences = Vec::new();
            let used = self.decoder.decode_all(&self.buf, &mut sentences).unwrap();
            self.buf.drain(..used);
            for sentence in sentences {
                self.pending.push_back(
                    sentence
                        .words
                        .iter()
                        .map(|w| String::from_utf8_lossy(w).into_owned())
                        .collect(),
                );
            }
            if !self.pending.is_empty() {
                continue;
            }
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Sentences until (and including) one whose first word is `!done`.
    pub async fn recv_until_done(&mut self) -> Vec<Vec<String>> {
        let mut sentences = Vec::new();
        loop {
            let sentence = self.recv().await;
            let done = sentence.first().is_some_and(|w| w == "!done");
            sentences.push(sentence);
            if done {
                return sentences;
            }
        }
    }

    /// Reads until the peer closes; returns the sentences received before that. Panics if the
    /// peer keeps the connection open for 10 s.
    pub async fn until_closed(&mut self) -> Vec<Vec<String>> {
        let mut sentences = Vec::new();
        let read_all = async {
            while let Some(sentence) = self.next().await {
                sentences.push(sentence);
            }
        };
        tokio::time::timeout(Duration::from_secs(10), read_all)
            .await
            .expect("the peer did not close the connection");
        sentences
    }
}
