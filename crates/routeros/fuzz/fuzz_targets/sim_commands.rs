//! Fuzzes the simulated router's command handling: a logged-in connection followed by any
//! bytes must end (the client closes its side) without a panic or a hang.

#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use routeros::codec::encode_sentence;
use routeros::sim::{Group, SimConfig, SimRouter};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
    })
}

fuzz_target!(|data: &[u8]| {
    runtime().block_on(async {
        let router = SimRouter::start(SimConfig::new("api", "pw", Group::Full)).await.expect("router");
        let (mut client, server) = tokio::io::duplex(64 * 1024);
        let mut input = Vec::new();
        encode_sentence(&["/login", "=name=api", "=password=pw"], &mut input).expect("login");
        input.extend_from_slice(data);
        let talk = async {
            client.write_all(&input).await.ok();
            client.shutdown().await.ok();
            let mut sink = vec![0u8; 64 * 1024];
            while let Ok(n) = client.read(&mut sink).await {
                if n == 0 {
                    break;
                }
            }
        };
        let run = async { tokio::join!(router.serve(server), talk) };
        tokio::time::timeout(Duration::from_secs(5), run).await.expect("the session ended");
    });
});
