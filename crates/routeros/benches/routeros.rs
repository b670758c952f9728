//! Benchmark figures for the RouterOS API crate (`cargo bench -p routeros`):
//!
//! - codec words per second on one core (encode, decode);
//! - round trips per second against the simulated router on loopback, one command at a time
//!   and with 64 commands in flight on one connection;
//! - printing 100 000 `/ppp/secret` entries: time, and peak memory (VmHWM) of the simulator
//!   and of the client, each measured in its own process.
//!
//! The simulator and the printing client run as child processes of this same binary
//! (`ROUTEROS_BENCH_ROLE`), so their peak memory is their own. Figures are medians.

#![allow(
    clippy::print_stdout,
    reason = "a benchmark reports its figures on stdout"
)]

use std::error::Error;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use routeros::codec::{Decoder, Limits, encode_sentence};
use routeros::menu;
use routeros::sim::{Group, SimConfig, SimRouter};
use routeros::{Client, ClientConfig, Command, Query};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const ROLE: &str = "ROUTEROS_BENCH_ROLE";
const SECRETS: usize = 100_000;
const RUNS: usize = 5;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Peak resident memory of this process in KiB (Linux), from /proc/self/status.
fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn main() -> Result<()> {
    match std::env::var(ROLE).as_deref() {
        Ok("sim") => return sim_process(),
        Ok("print") => return print_process(),
        _ => {}
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not and only wants a build.
    if !std::env::args().any(|a| a == "--bench") {
        return Ok(());
    }
    println!("routeros benchmark: medians of {RUNS} runs; the machine is shared, expect noise");
    codec()?;
    let mut sim = Process::new(std::env::current_exe()?)
        .env(ROLE, "sim")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut lines = BufReader::new(sim.stdout.take().ok_or("no stdout")?).lines();
    let ready = lines.next().ok_or("simulator exited")??;
    let address = ready
        .strip_prefix("ready ")
        .ok_or("unexpected simulator output")?
        .to_owned();
    let seeded_kib = lines.next().ok_or("simulator exited")??;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(round_trips(&address))?;
    let print = Process::new(std::env::current_exe()?)
        .env(ROLE, "print")
        .env("ROUTEROS_BENCH_ADDRESS", &address)
        .output()?;
    print!("{}", String::from_utf8_lossy(&print.stdout));
    let mut stdin = sim.stdin.take().ok_or("no stdin")?;
    writeln!(stdin, "hwm")?;
    let after = lines.next().ok_or("simulator exited")??;
    println!(
        "simulator peak memory: {seeded_kib} KiB after seeding {SECRETS} secrets, {after} KiB after the prints"
    );
    drop(stdin);
    sim.wait()?;
    Ok(())
}

fn codec() -> Result<()> {
    let words: Vec<Vec<u8>> = (0..64)
        .map(|i| format!("=name=customer-{i:05}").into_bytes())
        .collect();
    let mut sentence = Vec::new();
    encode_sentence(&words, &mut sentence)?;
    let repeats = 20_000;
    let total_words = (words.len() * repeats) as f64;
    let mut encode_rates = Vec::new();
    let mut decode_rates = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        let mut out = Vec::with_capacity(sentence.len() * 64);
        for _ in 0..repeats {
            out.clear();
            encode_sentence(&words, &mut out)?;
        }
        std::hint::black_box(&out);
        encode_rates.push(total_words / start.elapsed().as_secs_f64());

        let stream: Vec<u8> = sentence.repeat(1000);
        let start = Instant::now();
        let mut decoded = 0usize;
        for _ in 0..repeats / 1000 {
            let mut decoder = Decoder::new(Limits::default());
            let mut sentences = Vec::new();
            decoder.decode_all(&stream, &mut sentences)?;
            decoded += sentences.iter().map(|s| s.words.len()).sum::<usize>();
        }
        decode_rates.push(decoded as f64 / start.elapsed().as_secs_f64());
    }
    println!(
        "codec, one core: encode {:.1} M words/s, decode {:.1} M words/s",
        median(encode_rates) / 1e6,
        median(decode_rates) / 1e6
    );
    Ok(())
}

async fn round_trips(address: &str) -> Result<()> {
    let client = Client::connect(&ClientConfig::new(address, "bench", "bench")).await?;
    let command = Command::new("/system/identity/print");
    let mut sequential = Vec::new();
    let mut concurrent = Vec::new();
    for _ in 0..RUNS {
        let n = 2_000;
        let start = Instant::now();
        for _ in 0..n {
            client.run(&command).await?;
        }
        sequential.push(f64::from(n) / start.elapsed().as_secs_f64());

        let per_task = 200;
        let start = Instant::now();
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let client = client.clone();
                let command = command.clone();
                tokio::spawn(async move {
                    for _ in 0..per_task {
                        client.run(&command).await?;
                    }
                    Ok::<(), routeros::Error>(())
                })
            })
            .collect();
        for task in tasks {
            task.await??;
        }
        concurrent.push(f64::from(64 * per_task) / start.elapsed().as_secs_f64());
    }
    println!(
        "round trips on loopback, one connection: {:.0}/s one at a time, {:.0}/s with 64 in flight",
        median(sequential),
        median(concurrent)
    );
    Ok(())
}

/// Child: the simulated router with 100 000 secrets; prints its address and peak memory.
fn sim_process() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let router = SimRouter::start(SimConfig::new("bench", "bench", Group::Full)).await?;
        for i in 0..SECRETS {
            let name = format!("customer-{i:06}");
            let password = format!("pw-{i:08x}");
            let address = format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256);
            router.insert(
                "/ppp/secret",
                &[
                    ("name", &name),
                    ("password", &password),
                    ("profile", "default"),
                    ("remote-address", &address),
                    ("comment", "imported"),
                ],
            )?;
        }
        println!("ready {}", router.address());
        println!("{}", peak_kib());
        std::io::stdout().flush()?;
        let stdin = tokio::task::spawn_blocking(|| {
            for line in std::io::stdin().lock().lines() {
                match line {
                    Ok(line) if line == "hwm" => println!("{}", peak_kib()),
                    _ => break,
                }
            }
        });
        stdin.await?;
        drop(router);
        Ok(())
    })
}

/// Child: prints all secrets a few times; reports the time and its own peak memory.
fn print_process() -> Result<()> {
    let address = std::env::var("ROUTEROS_BENCH_ADDRESS")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let before = peak_kib();
    let mut times = Vec::new();
    runtime.block_on(async {
        let config = ClientConfig::new(address, "bench", "bench")
            .with_command_timeout(Duration::from_secs(300));
        let client = Client::connect(&config).await?;
        for _ in 0..3 {
            let start = Instant::now();
            let secrets = menu::PPP_SECRETS.print(&client, &Query::new()).await?;
            times.push(start.elapsed().as_secs_f64());
            if secrets.len() != SECRETS {
                return Err(
                    format!("printed {} secrets, expected {SECRETS}", secrets.len()).into(),
                );
            }
        }
        Ok::<(), Box<dyn Error>>(())
    })?;
    println!(
        "print {SECRETS} /ppp/secret (typed, 9 properties): {:.2} s (median of 3); client peak memory {} KiB (process baseline {before} KiB)",
        median(times),
        peak_kib()
    );
    Ok(())
}
