//! Per-core codec and authentication figures: decode an Access-Request, decode and verify its
//! Message-Authenticator, PAP, CHAP and MS-CHAPv2 checks, and encoding a signed Access-Accept
//! with six attributes. Run with `cargo bench -p radius --bench codec`; criterion prints the
//! time per operation and the operations per second ("thrpt").

use std::hint::black_box;
use std::net::Ipv4Addr;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use radius::auth::{chap, mschap, pap};
use radius::sign::verify_request;
use radius::{Code, Packet, attrs};

const SECRET: &[u8] = b"testing123";

/// An Access-Request as a MikroTik PPPoE server sends it, plus the credentials.
fn access_request() -> Packet {
    let mut request = Packet::new(Code::AccessRequest, 17);
    request.add_message_authenticator();
    request.add(attrs::SERVICE_TYPE, &2);
    request.add(attrs::FRAMED_PROTOCOL, &1);
    request.add(attrs::NAS_PORT, &15_728_654);
    request.add(attrs::NAS_PORT_TYPE, &15);
    request.add(attrs::USER_NAME, &"alice@isp".to_owned());
    request.add(attrs::CALLING_STATION_ID, &"AA:BB:CC:DD:EE:FF".to_owned());
    request.add(attrs::CALLED_STATION_ID, &"pppoe-service".to_owned());
    request.add(attrs::NAS_PORT_ID, &"ether2".to_owned());
    request.add(attrs::NAS_IDENTIFIER, &"mt-core-1".to_owned());
    request.add(attrs::NAS_IP_ADDRESS, &Ipv4Addr::new(10, 0, 0, 1));
    request
}

fn codec(c: &mut Criterion) {
    let mut group = c.benchmark_group("radius");
    group.throughput(Throughput::Elements(1));

    let mut pap_request = access_request();
    pap::add_user_password(&mut pap_request, b"secret1", SECRET).unwrap_or_default();
    let pap_bytes = pap_request.encode_request(SECRET).unwrap_or_default();
    group.bench_function("decode Access-Request", |b| {
        b.iter(|| Packet::decode(black_box(&pap_bytes)))
    });
    group.bench_function("decode + verify Message-Authenticator", |b| {
        b.iter(|| verify_request(black_box(&pap_bytes), SECRET, true))
    });
    group.bench_function("PAP check", |b| {
        b.iter(|| pap::verify(black_box(&pap_request), SECRET, b"secret1"))
    });

    let mut chap_request = access_request();
    chap::add_chap_password(&mut chap_request, 1, b"secret1", None);
    group.bench_function("CHAP check", |b| {
        b.iter(|| chap::verify(black_box(&chap_request), b"secret1"))
    });

    let mut mschap_request = access_request();
    mschap::add_v2(&mut mschap_request, "secret1");
    group.bench_function("MS-CHAPv2 check (with Success and MPPE keys)", |b| {
        b.iter(|| mschap::verify_v2(black_box(&mschap_request), SECRET, "secret1"))
    });

    let mut accept = pap_request.reply(Code::AccessAccept);
    accept.add(attrs::SESSION_TIMEOUT, &3600);
    accept.add(attrs::IDLE_TIMEOUT, &600);
    accept.add(attrs::ACCT_INTERIM_INTERVAL, &300);
    accept.add(attrs::FRAMED_IP_ADDRESS, &Ipv4Addr::new(10, 0, 0, 7));
    accept.add(attrs::MIKROTIK_RATE_LIMIT, &"10M/50M".to_owned());
    accept.add(attrs::MIKROTIK_ADDRESS_LIST, &"active".to_owned());
    let request_authenticator = pap_request.authenticator;
    group.bench_function("encode signed Access-Accept (6 attributes)", |b| {
        b.iter(|| black_box(&accept).encode_reply(&request_authenticator, SECRET))
    });
    group.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
