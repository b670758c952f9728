//! `webhook::verify` and `webhook::callback`: Stripe and generic signatures, tolerance, rotation
//! and hostile input; SSLCommerz IPNs and their `verify_sign`; bKash callbacks and their bounds.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use gateways::webhook::{self, Notice, TOLERANCE_SECONDS, WebhookError};
use gateways::{GatewayConfig, Provider};
use http::{HeaderMap, HeaderValue};

/// The providers whose webhooks are signed in a header (Stripe, generic); bKash and
/// SSLCommerz have tests of their own.
const SIGNED: [Provider; 2] = [Provider::Stripe, Provider::Generic];

const NOW: i64 = 1_700_000_000;
const SECRET: &str = "whsec_test_secret";

fn cfg(provider: Provider) -> GatewayConfig {
    GatewayConfig {
        provider,
        base_url: "https://api.example.com".to_owned(),
        key_id: String::new(),
        username: String::new(),
        secret_key: "sk_test_key".to_owned(),
        webhook_secret: SECRET.to_owned(),
    }
}

fn body(provider: Provider) -> Vec<u8> {
    match provider {
        Provider::Stripe => br#"{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","type":"checkout.session.completed","data":{"object":{"id":"cs_test_a1b2c3","object":"checkout.session","amount_total":2000}}}"#.to_vec(),
        _ => br#"{"event_id":"evt_9","type":"payment.succeeded","payment_id":"pay_7","amount":2000,"currency":"USD","unknown":{"nested":[1,2,3]}}"#.to_vec(),
    }
}

fn expected(provider: Provider) -> Notice {
    match provider {
        Provider::Stripe => Notice {
            event_id: "evt_1NG8Du2eZvKYlo2CUI79vXWy".to_owned(),
            provider_payment_id: "cs_test_a1b2c3".to_owned(),
            kind: "checkout.session.completed".to_owned(),
        },
        _ => Notice {
            event_id: "evt_9".to_owned(),
            provider_payment_id: "pay_7".to_owned(),
            kind: "payment.succeeded".to_owned(),
        },
    }
}

fn headers(provider: Provider, value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        provider.signature_header().unwrap(),
        HeaderValue::from_str(value).unwrap(),
    );
    headers
}

fn signed(provider: Provider, body: &[u8], timestamp: i64) -> HeaderMap {
    headers(provider, &webhook::sign(SECRET, timestamp, body))
}

#[test]
fn a_good_signature_gives_the_events_identifiers() {
    for provider in SIGNED {
        let body = body(provider);
        let notice = webhook::verify(&cfg(provider), &signed(provider, &body, NOW), &body, NOW);
        assert_eq!(notice, Ok(expected(provider)), "{provider}");
    }
}

#[test]
fn a_signature_computed_independently_verifies() {
    // HMAC-SHA256("whsec_test_secret", "1700000000." + body), computed outside this crate.
    let value = "t=1700000000,v1=fdf01ae0e3b9d326bbfc7a353490f99cda1b1acad887b0e49f091fb87da425c1";
    let body = body(Provider::Stripe);
    let notice = webhook::verify(
        &cfg(Provider::Stripe),
        &headers(Provider::Stripe, value),
        &body,
        NOW,
    );
    assert_eq!(notice, Ok(expected(Provider::Stripe)));
}

#[test]
fn a_tampered_body_is_a_bad_signature() {
    for provider in SIGNED {
        let body = body(provider);
        let headers = signed(provider, &body, NOW);
        let tampered = String::from_utf8(body)
            .unwrap()
            .replace("2000", "200000")
            .into_bytes();
        assert_eq!(
            webhook::verify(&cfg(provider), &headers, &tampered, NOW),
            Err(WebhookError::BadSignature),
            "{provider}"
        );
    }
}

#[test]
fn a_body_signed_with_another_secret_is_a_bad_signature() {
    for provider in SIGNED {
        let body = body(provider);
        let headers = headers(provider, &webhook::sign("whsec_other", NOW, &body));
        assert_eq!(
            webhook::verify(&cfg(provider), &headers, &body, NOW),
            Err(WebhookError::BadSignature),
            "{provider}"
        );
    }
}

#[test]
fn timestamps_up_to_the_tolerance_either_way_are_accepted_and_beyond_are_stale() {
    for provider in SIGNED {
        let body = body(provider);
        let at = |t: i64| webhook::verify(&cfg(provider), &signed(provider, &body, t), &body, NOW);
        assert!(at(NOW - TOLERANCE_SECONDS).is_ok(), "{provider}");
        assert!(at(NOW + TOLERANCE_SECONDS).is_ok(), "{provider}");
        assert_eq!(at(NOW - TOLERANCE_SECONDS - 1), Err(WebhookError::Stale));
        assert_eq!(at(NOW + TOLERANCE_SECONDS + 1), Err(WebhookError::Stale));
        assert_eq!(at(0), Err(WebhookError::Stale));
    }
}

#[test]
fn a_stale_timestamp_with_a_forged_signature_is_a_bad_signature() {
    let body = body(Provider::Stripe);
    let headers = headers(
        Provider::Stripe,
        &webhook::sign("whsec_other", NOW - 3600, &body),
    );
    assert_eq!(
        webhook::verify(&cfg(Provider::Stripe), &headers, &body, NOW),
        Err(WebhookError::BadSignature)
    );
}

#[test]
fn one_good_signature_among_several_is_enough_during_a_rotation() {
    for provider in SIGNED {
        let body = body(provider);
        let good = webhook::sign(SECRET, NOW, &body);
        let good_v1 = good.split_once(",v1=").unwrap().1;
        let old = webhook::sign("whsec_old", NOW, &body);
        let old_v1 = old.split_once(",v1=").unwrap().1;
        for value in [
            format!("t={NOW},v1={old_v1},v1={good_v1}"),
            format!("t={NOW},v1={good_v1},v1={old_v1}"),
            format!("t={NOW}, v0=deadbeef, v1=zz-not-hex, v1={good_v1}"),
        ] {
            let result = webhook::verify(&cfg(provider), &headers(provider, &value), &body, NOW);
            assert_eq!(result, Ok(expected(provider)), "{provider}: {value}");
        }
        let none_good = format!("t={NOW},v1={old_v1},v1=0123");
        assert_eq!(
            webhook::verify(&cfg(provider), &headers(provider, &none_good), &body, NOW),
            Err(WebhookError::BadSignature)
        );
    }
}

#[test]
fn an_unsigned_webhook_is_a_bad_signature() {
    for provider in SIGNED {
        let body = body(provider);
        assert_eq!(
            webhook::verify(&cfg(provider), &HeaderMap::new(), &body, NOW),
            Err(WebhookError::BadSignature)
        );
    }
}

#[test]
fn the_other_providers_header_is_not_read() {
    let body = body(Provider::Stripe);
    let headers = signed(Provider::Generic, &body, NOW);
    assert_eq!(
        webhook::verify(&cfg(Provider::Stripe), &headers, &body, NOW),
        Err(WebhookError::BadSignature)
    );
}

#[test]
fn an_empty_webhook_secret_verifies_nothing() {
    for provider in SIGNED {
        let body = body(provider);
        let mut cfg = cfg(provider);
        cfg.webhook_secret = String::new();
        let headers = headers(provider, &webhook::sign("", NOW, &body));
        assert_eq!(
            webhook::verify(&cfg, &headers, &body, NOW),
            Err(WebhookError::BadSignature)
        );
    }
}

#[test]
fn malformed_signature_headers_are_refused() {
    for provider in SIGNED {
        let body = body(provider);
        let good = webhook::sign(SECRET, NOW, &body);
        let good_v1 = good.split_once(",v1=").unwrap().1.to_owned();
        let huge = format!("t={NOW},v1={good_v1},{}", "v1=00,".repeat(1000));
        for value in [
            format!("v1={good_v1}"),
            format!("t=,v1={good_v1}"),
            format!("t=abc,v1={good_v1}"),
            format!("t=-{NOW},v1={good_v1}"),
            format!("t={NOW},t={NOW},v1={good_v1}"),
            format!("t={NOW};v1={good_v1}"),
            "garbage".to_owned(),
            String::new(),
            huge,
        ] {
            let result = webhook::verify(&cfg(provider), &headers(provider, &value), &body, NOW);
            assert!(
                matches!(result, Err(WebhookError::Malformed(_))),
                "{provider}: {value:.60}: {result:?}"
            );
        }
    }
}

#[test]
fn a_header_that_is_not_ascii_or_repeated_is_malformed() {
    for provider in SIGNED {
        let body = body(provider);
        let good = webhook::sign(SECRET, NOW, &body);
        let mut repeated = headers(provider, &good);
        repeated.append(
            provider.signature_header().unwrap(),
            HeaderValue::from_str(&good).unwrap(),
        );
        let result = webhook::verify(&cfg(provider), &repeated, &body, NOW);
        assert!(
            matches!(result, Err(WebhookError::Malformed(_))),
            "{result:?}"
        );

        let mut binary = HeaderMap::new();
        binary.insert(
            provider.signature_header().unwrap(),
            HeaderValue::from_bytes(b"t=1,v1=\xff\xfe").unwrap(),
        );
        let result = webhook::verify(&cfg(provider), &binary, &body, NOW);
        assert!(
            matches!(result, Err(WebhookError::Malformed(_))),
            "{result:?}"
        );
    }
}

#[test]
fn a_correctly_signed_body_that_is_not_an_event_is_malformed() {
    let long_id = format!(
        r#"{{"event_id":"{}","type":"payment.succeeded","payment_id":"p"}}"#,
        "e".repeat(300)
    );
    let cases: [(Provider, &[u8]); 9] = [
        (Provider::Stripe, b"not json"),
        (Provider::Stripe, b"{\"id\":\"evt_1\",\"type\":\"x\"}"),
        (
            Provider::Stripe,
            b"{\"id\":\"evt_1\",\"type\":\"x\",\"data\":{\"object\":{}}}",
        ),
        (
            Provider::Stripe,
            b"{\"id\":42,\"type\":\"x\",\"data\":{\"object\":{\"id\":\"cs_1\"}}}",
        ),
        (
            Provider::Stripe,
            b"{\"id\":\"evt 1\",\"type\":\"x\",\"data\":{\"object\":{\"id\":\"cs_1\"}}}",
        ),
        (Provider::Generic, b""),
        (Provider::Generic, b"[]"),
        (
            Provider::Generic,
            b"{\"event_id\":\"e\",\"type\":\"payment.succeeded\"}",
        ),
        (Provider::Generic, long_id.as_bytes()),
    ];
    for (provider, body) in cases {
        let result = webhook::verify(&cfg(provider), &signed(provider, body, NOW), body, NOW);
        assert!(
            matches!(result, Err(WebhookError::Malformed(_))),
            "{provider}: {}: {result:?}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn deeply_nested_unknown_fields_are_skipped_and_huge_bodies_refused_without_panicking() {
    let provider = Provider::Generic;
    let nested = format!(
        r#"{{"event_id":"e","type":"t","payment_id":"p","x":{}{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let body = nested.as_bytes();
    let result = webhook::verify(&cfg(provider), &signed(provider, body, NOW), body, NOW);
    assert_eq!(result.map(|n| n.event_id), Ok("e".to_owned()));

    let nested_known = format!(
        r#"{{"event_id":{}1{}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let body = nested_known.as_bytes();
    let result = webhook::verify(&cfg(provider), &signed(provider, body, NOW), body, NOW);
    assert!(
        matches!(result, Err(WebhookError::Malformed(_))),
        "{result:?}"
    );

    let huge = vec![b' '; (1 << 20) + 1];
    let result = webhook::verify(&cfg(provider), &signed(provider, &huge, NOW), &huge, NOW);
    assert!(
        matches!(result, Err(WebhookError::Malformed(_))),
        "{result:?}"
    );
}

#[test]
fn errors_do_not_show_the_secret() {
    let body = b"{}";
    let result = webhook::verify(
        &cfg(Provider::Stripe),
        &signed(Provider::Stripe, body, NOW),
        body,
        NOW,
    );
    let shown = format!("{} {:?}", result.clone().unwrap_err(), result);
    assert!(!shown.contains(SECRET), "{shown}");
}

// SSLCommerz IPNs and bKash callbacks.

/// An SSLCommerz account whose store password is `store1@ssl`.
fn sslcommerz() -> GatewayConfig {
    GatewayConfig {
        provider: Provider::Sslcommerz,
        base_url: "https://sandbox.sslcommerz.com".to_owned(),
        key_id: "store1".to_owned(),
        username: String::new(),
        secret_key: "store1@ssl".to_owned(),
        webhook_secret: String::new(),
    }
}

fn bkash() -> GatewayConfig {
    GatewayConfig {
        provider: Provider::Bkash,
        base_url: "https://tokenized.sandbox.bka.sh/v1.2.0-beta".to_owned(),
        key_id: "app_key".to_owned(),
        username: "user".to_owned(),
        secret_key: "app_secret".to_owned(),
        webhook_secret: "password".to_owned(),
    }
}

fn md5_hex(text: &str) -> String {
    use md5::Digest as _;
    hex::encode(md5::Md5::digest(text.as_bytes()))
}

/// An IPN form body with `verify_sign` computed here, independently of the crate: MD5 of
/// the `verify_key` fields plus `store_passwd=md5(password)`, sorted, `k=v&…`.
fn ipn(fields: &[(&str, &str)], verify_key: &str, password: &str) -> String {
    let mut signed: Vec<(String, String)> = verify_key
        .split(',')
        .map(|k| {
            let v = fields.iter().find(|(n, _)| *n == k).map_or("", |(_, v)| *v);
            (k.to_owned(), v.to_owned())
        })
        .collect();
    signed.push(("store_passwd".to_owned(), md5_hex(password)));
    signed.sort();
    let joined: Vec<String> = signed.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let sign = md5_hex(&joined.join("&"));
    let mut body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace(' ', "+")))
        .collect();
    body.push(format!("verify_sign={sign}"));
    body.push(format!("verify_key={}", verify_key.replace(',', "%2C")));
    body.join("&")
}

const IPN_FIELDS: [(&str, &str); 8] = [
    ("tran_id", "lm123"),
    ("val_id", "2405011234567abcDEF"),
    ("amount", "500.00"),
    ("currency", "BDT"),
    ("status", "VALID"),
    ("bank_tran_id", "240501123456ABC"),
    ("card_type", "BKASH-BKash"),
    ("risk_title", "Safe"),
];
const IPN_KEY: &str = "amount,bank_tran_id,card_type,currency,risk_title,status,tran_id,val_id";

fn verify_ipn(body: &str) -> Result<Notice, WebhookError> {
    webhook::verify(&sslcommerz(), &HeaderMap::new(), body.as_bytes(), NOW)
}

#[test]
fn an_ipn_with_a_good_verify_sign_gives_its_identifiers() {
    let body = ipn(&IPN_FIELDS, IPN_KEY, "store1@ssl");
    assert_eq!(
        verify_ipn(&body),
        Ok(Notice {
            event_id: "2405011234567abcDEF".to_owned(),
            provider_payment_id: "lm123".to_owned(),
            kind: "VALID".to_owned(),
        })
    );
    // No timestamp: the same IPN verifies whenever it comes (dedupe on event_id).
    let later = webhook::verify(&sslcommerz(), &HeaderMap::new(), body.as_bytes(), NOW * 2);
    assert!(later.is_ok());
    // Upper-case hex is the same signature.
    let sign = body
        .split("verify_sign=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let upper = body.replace(sign, &sign.to_ascii_uppercase());
    assert!(verify_ipn(&upper).is_ok());
}

#[test]
fn a_failed_ipn_without_val_id_is_keyed_by_tran_id_and_status() {
    let fields = [("tran_id", "lm9"), ("status", "FAILED"), ("amount", "5.00")];
    let body = ipn(&fields, "amount,status,tran_id", "store1@ssl");
    let notice = verify_ipn(&body).unwrap();
    assert_eq!(notice.event_id, "lm9:FAILED");
    assert_eq!(notice.kind, "FAILED");
}

#[test]
fn an_ipn_with_a_bad_verify_sign_is_refused() {
    let good = ipn(&IPN_FIELDS, IPN_KEY, "store1@ssl");
    // Another password.
    let other = ipn(&IPN_FIELDS, IPN_KEY, "store2@ssl");
    assert_eq!(verify_ipn(&other), Err(WebhookError::BadSignature));
    // A signed field changed after signing.
    let tampered = good.replace("amount=500.00", "amount=5000.00");
    assert_eq!(verify_ipn(&tampered), Err(WebhookError::BadSignature));
    // Not hex, or cut short.
    let sign = good
        .split("verify_sign=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    assert_eq!(
        verify_ipn(&good.replace(sign, "zz")),
        Err(WebhookError::BadSignature)
    );
    assert_eq!(
        verify_ipn(&good.replace(sign, &sign[..30])),
        Err(WebhookError::BadSignature)
    );
    // An account without a password verifies nothing.
    let mut empty = sslcommerz();
    empty.secret_key = String::new();
    let unsigned = ipn(&IPN_FIELDS, IPN_KEY, "");
    let result = webhook::verify(&empty, &HeaderMap::new(), unsigned.as_bytes(), NOW);
    assert_eq!(result, Err(WebhookError::BadSignature));
}

#[test]
fn an_ipn_missing_a_field_or_its_signature_is_refused() {
    let good = ipn(&IPN_FIELDS, IPN_KEY, "store1@ssl");
    // No verify_sign, or no verify_key: unsigned.
    let no_sign: Vec<&str> = good
        .split('&')
        .filter(|f| !f.starts_with("verify_sign="))
        .collect();
    assert_eq!(
        verify_ipn(&no_sign.join("&")),
        Err(WebhookError::BadSignature)
    );
    let no_key: Vec<&str> = good
        .split('&')
        .filter(|f| !f.starts_with("verify_key="))
        .collect();
    assert_eq!(
        verify_ipn(&no_key.join("&")),
        Err(WebhookError::BadSignature)
    );
    // A field verify_key names is missing from the body.
    let no_card: Vec<&str> = good
        .split('&')
        .filter(|f| !f.starts_with("card_type="))
        .collect();
    assert!(matches!(
        verify_ipn(&no_card.join("&")),
        Err(WebhookError::Malformed(_))
    ));
    // Signed, but not over the identifiers handed on.
    let partial = ipn(&IPN_FIELDS, "amount,currency,status,val_id", "store1@ssl");
    assert_eq!(verify_ipn(&partial), Err(WebhookError::BadSignature));
    let no_val = ipn(&IPN_FIELDS, "amount,status,tran_id", "store1@ssl");
    assert_eq!(verify_ipn(&no_val), Err(WebhookError::BadSignature));
    // A field given twice, a reserved name in verify_key, a body that is not UTF-8.
    let twice = format!("{good}&tran_id=lm999");
    assert!(matches!(
        verify_ipn(&twice),
        Err(WebhookError::Malformed(_))
    ));
    let reserved = ipn(&IPN_FIELDS, "status,tran_id,store_passwd", "store1@ssl");
    assert!(matches!(
        verify_ipn(&reserved),
        Err(WebhookError::Malformed(_))
    ));
    let binary = webhook::verify(&sslcommerz(), &HeaderMap::new(), b"a=\xff", NOW);
    assert!(matches!(binary, Err(WebhookError::Malformed(_))));
    let huge = vec![b'a'; 1024 * 1024 + 1];
    let huge = webhook::verify(&sslcommerz(), &HeaderMap::new(), &huge, NOW);
    assert!(matches!(huge, Err(WebhookError::Malformed(_))));
}

#[test]
fn a_bkash_callback_gives_the_payment_and_status() {
    for query in [
        "paymentID=TR0011abc&status=success",
        "?paymentID=TR0011abc&status=success",
        "account=7&status=success&paymentID=TR0011abc&apiVersion=1.2.0-beta",
        "paymentID=TR0011%61bc&status=succ%65ss",
    ] {
        assert_eq!(
            webhook::callback(&bkash(), query),
            Ok(Notice {
                event_id: "TR0011abc:success".to_owned(),
                provider_payment_id: "TR0011abc".to_owned(),
                kind: "success".to_owned(),
            }),
            "{query}"
        );
    }
    for status in ["failure", "cancel"] {
        let notice = webhook::callback(&bkash(), &format!("paymentID=P1&status={status}"));
        assert_eq!(notice.unwrap().kind, status);
    }
}

#[test]
fn bkash_callbacks_are_bounded() {
    let max_id = "p".repeat(255 - ":success".len());
    assert!(webhook::callback(&bkash(), &format!("paymentID={max_id}&status=success")).is_ok());
    let refused = [
        String::new(),
        "status=success".to_owned(),
        "paymentID=P1".to_owned(),
        "paymentID=&status=success".to_owned(),
        "paymentID=P1&status=".to_owned(),
        "paymentID=P+1&status=success".to_owned(),
        "paymentID=P%0A1&status=success".to_owned(),
        "paymentID=P1&status=succ-ess".to_owned(),
        "paymentID=P1&status=a".to_owned(),
        "paymentID=P1&status=Success".to_owned(),
        "paymentID=P1&status=%3Cscript%3E".to_owned(),
        format!("paymentID=P1&status={}", "s".repeat(33)),
        format!("paymentID={}&status=success", "p".repeat(256)),
        // Within each bound alone, but an event id longer than 255.
        format!("paymentID={max_id}x&status=success"),
        "paymentID=P1&paymentID=P2&status=success".to_owned(),
        "paymentID=P1&status=success&status=failure".to_owned(),
        "paymentID=%FF&status=success".to_owned(),
        format!(
            "paymentID=P1&status=success&pad={}",
            "x".repeat(webhook::MAX_CALLBACK_QUERY)
        ),
    ];
    for query in refused {
        let result = webhook::callback(&bkash(), &query);
        assert!(
            matches!(result, Err(WebhookError::Malformed(_))),
            "{query:.60}: {result:?}"
        );
    }
}

#[test]
fn each_provider_reads_only_its_own_kind_of_notice() {
    let result = webhook::verify(&bkash(), &HeaderMap::new(), b"{}", NOW);
    assert!(
        matches!(result, Err(WebhookError::Malformed(_))),
        "{result:?}"
    );
    for cfg in [sslcommerz(), cfg(Provider::Stripe), cfg(Provider::Generic)] {
        let result = webhook::callback(&cfg, "paymentID=P1&status=success");
        assert!(
            matches!(result, Err(WebhookError::Malformed(_))),
            "{result:?}"
        );
    }
}
