use super::*;
use crate::package::BurstInput;
use chrono::TimeDelta;

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

fn subscriber() -> Subscriber<'static> {
    Subscriber {
        username: "alice",
        password: "s3cret!",
        billing: BillingType::Prepaid,
        status: CustomerStatus::Active,
        expires_at: Some(now() + TimeDelta::days(3)),
        mac: None,
        devices: &[],
        static_ip: None,
        simultaneous_use: 1,
        tenant_archived: false,
    }
}

#[test]
fn devices_bound_at_the_portal_are_the_only_ones_that_sign_in() {
    let mac = |s: &str| MacAddr::parse(s).unwrap();
    let (phone, tablet, stranger) = (
        mac("02:00:00:00:00:01"),
        mac("0a:1b:2c:3d:4e:5f"),
        mac("02:00:00:00:00:99"),
    );
    let free = subscriber();
    assert!(device_allowed(&free, Some(stranger)));
    assert!(device_allowed(&free, None));
    assert!(
        !project(&free, &service(), &SuspensionPolicy::Reject, 0)
            .check
            .iter()
            .any(|i| i.attribute == "Calling-Station-Id")
    );

    let devices = [phone, tablet];
    let bound = Subscriber {
        devices: &devices,
        ..subscriber()
    };
    assert!(device_allowed(&bound, Some(phone)));
    assert!(device_allowed(&bound, Some(tablet)));
    assert!(!device_allowed(&bound, Some(stranger)));
    assert!(
        !device_allowed(&bound, None),
        "no Calling-Station-Id, no device"
    );
    let p = project(&bound, &service(), &SuspensionPolicy::Reject, 0);
    let item = p
        .check
        .iter()
        .find(|i| i.attribute == "Calling-Station-Id")
        .unwrap();
    assert_eq!(item.op, "=~");
    assert_eq!(item.value, "^(02:00:00:00:00:01|0A:1B:2C:3D:4E:5F)$");

    // A MAC staff bound wins over the portal's devices.
    let staff = Subscriber {
        mac: Some(stranger),
        devices: &devices,
        ..subscriber()
    };
    assert!(device_allowed(&staff, Some(stranger)));
    assert!(!device_allowed(&staff, Some(phone)));
    let p = project(&staff, &service(), &SuspensionPolicy::Reject, 0);
    let items: Vec<_> = p
        .check
        .iter()
        .filter(|i| i.attribute == "Calling-Station-Id")
        .collect();
    assert_eq!(items.len(), 1);
    assert_eq!(
        (items[0].op, items[0].value.as_str()),
        ("==", "02:00:00:00:00:99")
    );

    // The most devices there may be fit a FreeRADIUS value.
    let many: Vec<MacAddr> = (0..MAX_DEVICES)
        .map(|i| mac(&format!("AA:BB:CC:DD:EE:{i:02X}")))
        .collect();
    let full = Subscriber {
        devices: &many,
        ..subscriber()
    };
    let p = project(&full, &service(), &SuspensionPolicy::Reject, 0);
    let item = p
        .check
        .iter()
        .find(|i| i.attribute == "Calling-Station-Id")
        .unwrap();
    assert!(item.value.len() <= 253, "{}", item.value.len());
}

static NO_FUP: Fup = Fup::none();

fn service() -> Service<'static> {
    Service {
        rate: RateLimit::parse(20_000, 5_000, BurstInput::default()).unwrap(),
        volume_bytes: None,
        fup: &NO_FUP,
        pool: Some("home"),
    }
}

fn attr<'a>(items: &'a [Item], name: &str) -> Option<&'a str> {
    items
        .iter()
        .find(|i| i.attribute == name)
        .map(|i| i.value.as_str())
}

#[test]
fn an_active_prepaid_subscriber_gets_its_rate_pool_and_expiry_as_unix_time() {
    let p = project(&subscriber(), &service(), &SuspensionPolicy::Reject, 0);
    assert_eq!(attr(&p.check, "Cleartext-Password"), Some("s3cret!"));
    assert_eq!(attr(&p.check, "Simultaneous-Use"), Some("1"));
    assert_eq!(attr(&p.check, "Expiration"), Some("1800259200"));
    assert_eq!(attr(&p.check, "Auth-Type"), None);
    assert_eq!(attr(&p.reply, "Mikrotik-Rate-Limit"), Some("5M/20M"));
    assert_eq!(attr(&p.reply, "Framed-Pool"), Some("home"));
}

#[test]
fn postpaid_and_free_subscribers_get_no_expiration() {
    for billing in [BillingType::Postpaid, BillingType::Free] {
        let sub = Subscriber {
            billing,
            expires_at: Some(now() - TimeDelta::days(9)),
            ..subscriber()
        };
        let p = project(&sub, &service(), &SuspensionPolicy::Reject, 0);
        assert_eq!(attr(&p.check, "Expiration"), None);
        assert!(matches!(
            decide(&sub, &service(), &SuspensionPolicy::Reject, 0, now()),
            Decision::Accept {
                session_timeout: None,
                ..
            }
        ));
    }
}

#[test]
fn a_static_address_and_a_mac_binding_are_projected() {
    let sub = Subscriber {
        static_ip: Some("10.9.0.7".parse().unwrap()),
        mac: MacAddr::parse("aa:bb:cc:00:11:22"),
        ..subscriber()
    };
    let p = project(&sub, &service(), &SuspensionPolicy::Reject, 0);
    assert_eq!(attr(&p.reply, "Framed-IP-Address"), Some("10.9.0.7"));
    assert_eq!(attr(&p.reply, "Framed-Pool"), None);
    let mac = p
        .check
        .iter()
        .find(|i| i.attribute == "Calling-Station-Id")
        .unwrap();
    assert_eq!((mac.op, mac.value.as_str()), ("==", "AA:BB:CC:00:11:22"));
}

#[test]
fn a_fup_step_passed_slows_the_reply_and_the_cap_refuses() {
    const GB: i64 = 1_000_000_000;
    let steps = Fup::parse(
        &[crate::fup::FupStepInput {
            after_bytes: 50 * GB,
            download_kbps: 2_000,
            upload_kbps: 1_000,
        }],
        &service().rate,
        Some(100 * GB),
    )
    .unwrap();
    let capped = Service {
        volume_bytes: Some(100 * GB),
        fup: &steps,
        ..service()
    };
    let rate = |used| {
        let p = project(&subscriber(), &capped, &SuspensionPolicy::Reject, used);
        attr(&p.reply, "Mikrotik-Rate-Limit").map(str::to_owned)
    };
    assert_eq!(rate(50 * GB - 1).as_deref(), Some("5M/20M"));
    assert_eq!(rate(50 * GB).as_deref(), Some("1M/2M"));
    assert_eq!(rate(100 * GB), None, "refused: no reply items");
    assert_eq!(
        decide(
            &subscriber(),
            &capped,
            &SuspensionPolicy::Reject,
            100 * GB,
            now()
        ),
        Decision::Reject(RejectReason::QuotaExhausted)
    );
}

#[test]
fn the_volume_left_is_sent_with_gigawords() {
    let big = Service {
        volume_bytes: Some(10 * (1 << 30)),
        ..service()
    };
    let p = project(&subscriber(), &big, &SuspensionPolicy::Reject, 1 << 30);
    let left: u64 = 9 * (1 << 30);
    assert_eq!(
        attr(&p.reply, "Mikrotik-Total-Limit"),
        Some((left & 0xFFFF_FFFF).to_string().as_str())
    );
    assert_eq!(attr(&p.reply, "Mikrotik-Total-Limit-Gigawords"), Some("2"));
    let spent = project(
        &subscriber(),
        &big,
        &SuspensionPolicy::Reject,
        10 * (1 << 30),
    );
    assert_eq!(attr(&spent.check, "Auth-Type"), Some("Reject"));
    assert_eq!(
        decide(
            &subscriber(),
            &big,
            &SuspensionPolicy::Reject,
            11 * (1 << 30),
            now()
        ),
        Decision::Reject(RejectReason::QuotaExhausted)
    );
}

#[test]
fn suspension_follows_the_tenants_policy_and_disabled_is_always_refused() {
    let suspended = Subscriber {
        status: CustomerStatus::Suspended,
        ..subscriber()
    };
    let p = project(&suspended, &service(), &SuspensionPolicy::Reject, 0);
    assert_eq!(attr(&p.check, "Auth-Type"), Some("Reject"));
    let p = project(
        &suspended,
        &service(),
        &SuspensionPolicy::Pool("suspended".into()),
        0,
    );
    assert_eq!(attr(&p.check, "Auth-Type"), None);
    assert_eq!(attr(&p.reply, "Framed-Pool"), Some("suspended"));
    let p = project(
        &suspended,
        &service(),
        &SuspensionPolicy::AddressList("unpaid".into()),
        0,
    );
    assert_eq!(attr(&p.reply, "Mikrotik-Address-List"), Some("unpaid"));
    assert_eq!(attr(&p.reply, "Framed-Pool"), Some("home"));
    let disabled = Subscriber {
        status: CustomerStatus::Disabled,
        ..subscriber()
    };
    for policy in [SuspensionPolicy::Reject, SuspensionPolicy::Pool("x".into())] {
        assert_eq!(
            attr(
                &project(&disabled, &service(), &policy, 0).check,
                "Auth-Type"
            ),
            Some("Reject")
        );
        assert_eq!(
            decide(&disabled, &service(), &policy, 0, now()),
            Decision::Reject(RejectReason::Disabled)
        );
    }
}

#[test]
fn the_customers_of_an_archived_tenant_vanish_from_radius_and_are_refused() {
    let sub = Subscriber {
        tenant_archived: true,
        ..subscriber()
    };
    for policy in [SuspensionPolicy::Reject, SuspensionPolicy::Pool("x".into())] {
        assert_eq!(project(&sub, &service(), &policy, 0), Projection::default());
        assert_eq!(
            decide(&sub, &service(), &policy, 0, now()),
            Decision::Reject(RejectReason::TenantArchived)
        );
    }
}

#[test]
fn the_decision_at_an_instant_refuses_the_expired_and_times_the_rest() {
    let sub = subscriber();
    match decide(&sub, &service(), &SuspensionPolicy::Reject, 0, now()) {
        Decision::Accept {
            session_timeout, ..
        } => assert_eq!(session_timeout, Some(3 * 86_400)),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        decide(
            &sub,
            &service(),
            &SuspensionPolicy::Reject,
            0,
            now() + TimeDelta::days(4)
        ),
        Decision::Reject(RejectReason::Expired)
    );
    let unpaid = Subscriber {
        expires_at: None,
        ..subscriber()
    };
    assert_eq!(
        attr(
            &project(&unpaid, &service(), &SuspensionPolicy::Reject, 0).check,
            "Expiration"
        ),
        Some("0")
    );
}

#[test]
fn suspension_policies_parse_with_router_safe_names() {
    assert_eq!(
        SuspensionPolicy::parse("reject", None),
        Ok(SuspensionPolicy::Reject)
    );
    assert_eq!(
        SuspensionPolicy::parse("pool", Some("suspended_pool")),
        Ok(SuspensionPolicy::Pool("suspended_pool".into()))
    );
    assert_eq!(
        SuspensionPolicy::parse("pool", None).unwrap_err().code,
        "required"
    );
    assert_eq!(
        SuspensionPolicy::parse("address_list", Some("bad name"))
            .unwrap_err()
            .code,
        "invalid_router_name"
    );
    assert_eq!(
        SuspensionPolicy::parse("drop", None).unwrap_err().code,
        "unknown_policy"
    );
}
