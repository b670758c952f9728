use super::*;

fn account(id: i64, state: CustomerState, devices: usize, this_device: bool) -> Account {
    Account {
        id,
        state,
        used_up: false,
        devices,
        this_device,
        bound_elsewhere: false,
        sessions: 0,
        simultaneous_use: 2,
    }
}

fn facts(accounts: &[Account]) -> Facts<'_> {
    Facts {
        accounts,
        chosen: None,
        max_devices: 2,
        elsewhere: None,
        trial: Trial::NotOffered,
    }
}

#[test]
fn the_chap_offer_is_read_from_octal_escapes_and_answered_as_md5_js_does() {
    let chap = Chap::parse(
        "\\371",
        "\\357\\015\\330\\000\\001\\002\\003\\004\\005\\006\\007\\010\\011\\012\\013\\377",
    )
    .unwrap()
    .unwrap();
    assert_eq!(chap.id, 0o371);
    assert_eq!(chap.challenge.len(), 16);
    assert_eq!(chap.challenge[0], 0o357);
    assert_eq!(chap.challenge[15], 0xff);
    // RFC 1994: MD5 over id, secret, challenge; the answer for id 1, secret "secret" and a
    // challenge of 16 zero bytes, computed apart (Python's hashlib).
    let zero = Chap {
        id: 1,
        challenge: vec![0; 16],
    };
    assert_eq!(zero.response(b"secret"), "7570c653cdf4755ccffcaa80f29268d1");
    // Kept as hex and read back.
    let kept = Chap::from_kept(i32::from(chap.id), &chap.challenge_hex()).unwrap();
    assert_eq!(kept, chap);
    // No offer.
    assert_eq!(Chap::parse("", "").unwrap(), None);
    // Forged: not escapes, a digit past 7, an escape past 255, two id bytes, too long.
    for (id, challenge) in [
        ("\\371", "abc"),
        ("\\371", "\\378"),
        ("\\371", "\\777"),
        ("\\371\\001", "\\001"),
        ("\\371", &"\\001".repeat(MAX_CHALLENGE + 1)),
        ("", "\\001"),
    ] {
        assert!(Chap::parse(id, challenge).is_err(), "{id} {challenge}");
    }
}

#[test]
fn the_login_address_must_be_the_routers_own() {
    let hosts = vec!["hotspot.isp.example".to_owned()];
    for ok in [
        "http://10.5.50.1/login",
        "http://192.168.88.1:8080/login",
        "https://hotspot.isp.example/login",
        "http://HOTSPOT.isp.example/login",
        "http://100.64.0.1/login",
        "http://127.0.0.1:45123/login",
    ] {
        assert!(LoginUrl::parse(ok, &hosts).is_ok(), "{ok}");
    }
    for (bad, code) in [
        ("http://8.8.8.8/login", "foreign_login_url"),
        ("http://evil.example/login", "foreign_login_url"),
        ("http://10.5.50.1.evil.example/login", "foreign_login_url"),
        ("javascript:alert(1)//login", "invalid_login_url"),
        ("http://10.5.50.1/login?x=1", "invalid_login_url"),
        ("http://user@10.5.50.1/login", "invalid_login_url"),
        ("http://10.5.50.1/logout", "invalid_login_url"),
        ("http://10.5.50.1:0/login", "invalid_login_url"),
        ("http://10.5.50.1:99999/login", "invalid_login_url"),
        ("//10.5.50.1/login", "invalid_login_url"),
        ("", "invalid_login_url"),
    ] {
        assert_eq!(
            LoginUrl::parse(bad, &hosts).unwrap_err().code,
            code,
            "{bad}"
        );
    }
}

#[test]
fn the_hand_off_escapes_what_it_carries() {
    let url = LoginUrl::parse("http://10.5.50.1/login", &[]).unwrap();
    assert_eq!(
        url.hand_off(
            "8801712345678@isp",
            "ab12",
            Some("http://x.example/?a=1&b=2")
        ),
        "http://10.5.50.1/login?username=8801712345678%40isp&password=ab12\
         &dst=http%3A%2F%2Fx.example%2F%3Fa%3D1%26b%3D2"
    );
    assert_eq!(
        url.hand_off("u", "p", None),
        "http://10.5.50.1/login?username=u&password=p"
    );
    assert_eq!(
        first_address("http://a.example/x").as_deref(),
        Some("http://a.example/x")
    );
    assert_eq!(first_address("javascript:alert(1)"), None);
    assert_eq!(first_address("http://a.example/\nx"), None);
}

#[test]
fn keys_errors_and_devices_are_read() {
    assert!(is_key("abcdefghijklmnopqrs2"));
    assert!(!is_key("abcdefghijklmnopqrs1"));
    assert!(!is_key("ABCDEFGHIJKLMNOPQRS2"));
    assert!(!is_key("short"));
    assert_eq!(router_error(""), None);
    assert_eq!(
        router_error("invalid username or password"),
        Some("wrong_credentials")
    );
    assert_eq!(
        router_error("RADIUS server is not responding"),
        Some("radius_down")
    );
    assert_eq!(router_error("<script>"), Some("router_error"));
    assert_eq!(
        device_label("Mozilla/5.0 (Linux; Android 14; Pixel 8)"),
        "Android"
    );
    assert_eq!(
        device_label("Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)"),
        "iPhone"
    );
    assert_eq!(device_label(""), "Device");
}

#[test]
fn one_account_signs_in_binding_a_new_device_up_to_the_limit() {
    let known = [account(7, CustomerState::Active, 1, true)];
    assert_eq!(
        decide(&facts(&known)),
        Next::SignIn {
            account: 7,
            bind: false
        }
    );
    let new_device = [account(7, CustomerState::Active, 1, false)];
    assert_eq!(
        decide(&facts(&new_device)),
        Next::SignIn {
            account: 7,
            bind: true
        }
    );
    let full = [account(7, CustomerState::Active, 2, false)];
    assert_eq!(decide(&facts(&full)), Next::DeviceLimit { account: 7 });
    // A device already bound signs in even at the limit.
    let full_known = [account(7, CustomerState::Active, 2, true)];
    assert_eq!(
        decide(&facts(&full_known)),
        Next::SignIn {
            account: 7,
            bind: false
        }
    );
}

#[test]
fn an_account_staff_bound_to_another_mac_is_not_handed_to_this_phone() {
    let bound = [Account {
        bound_elsewhere: true,
        ..account(4, CustomerState::Active, 0, false)
    }];
    assert_eq!(decide(&facts(&bound)), Next::BoundElsewhere { account: 4 });
    // Paying comes first: the phone may still recharge the account.
    let expired = [Account {
        bound_elsewhere: true,
        ..account(4, CustomerState::Expired, 0, false)
    }];
    assert_eq!(
        decide(&facts(&expired)),
        Next::Recharge {
            account: 4,
            why: Blocked::Expired
        }
    );
}

#[test]
fn a_blocked_account_is_told_why_and_sent_to_pay() {
    for (state, used_up, why) in [
        (CustomerState::Expired, false, Blocked::Expired),
        (CustomerState::Suspended, false, Blocked::Suspended),
        (CustomerState::Active, true, Blocked::UsedUp),
    ] {
        let accounts = [Account {
            used_up,
            ..account(3, state, 0, false)
        }];
        assert_eq!(
            decide(&facts(&accounts)),
            Next::Recharge { account: 3, why }
        );
    }
}

#[test]
fn several_accounts_on_one_mobile_are_a_choice_not_a_crash() {
    let two = [
        account(1, CustomerState::Active, 1, true),
        account(2, CustomerState::Expired, 0, false),
        account(3, CustomerState::Disabled, 0, false),
    ];
    assert_eq!(decide(&facts(&two)), Next::Choose(vec![1, 2]));
    let chosen = Facts {
        chosen: Some(2),
        ..facts(&two)
    };
    assert_eq!(
        decide(&chosen),
        Next::Recharge {
            account: 2,
            why: Blocked::Expired
        }
    );
    // A disabled or foreign choice is asked again.
    let foreign = Facts {
        chosen: Some(3),
        ..facts(&two)
    };
    assert_eq!(decide(&foreign), Next::Choose(vec![1, 2]));
    // A lone disabled account is as none.
    let disabled = [account(3, CustomerState::Disabled, 0, false)];
    assert_eq!(decide(&facts(&disabled)), Next::SignUp { trial: false });
}

#[test]
fn an_unknown_mobile_signs_up_or_is_told_its_network() {
    let none: [Account; 0] = [];
    for (trial, expected) in [
        (Trial::NotOffered, false),
        (Trial::Available, true),
        (Trial::Used, false),
    ] {
        let f = Facts {
            trial,
            ..facts(&none)
        };
        assert_eq!(decide(&f), Next::SignUp { trial: expected });
    }
    let elsewhere = Facts {
        elsewhere: Some("Other Net"),
        ..facts(&none)
    };
    assert_eq!(
        decide(&elsewhere),
        Next::OtherNetwork("Other Net".to_owned())
    );
}

#[test]
fn the_router_pages_carry_variables_only_in_hidden_fields() {
    let pages = router_pages("https://portal.isp.example/", "abcdefghijklmnopqrs2");
    let names: Vec<&str> = pages.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        ["login.html", "alogin.html", "status.html", "logout.html"]
    );
    let (_, login) = &pages[0];
    assert!(login.contains("action=\"https://portal.isp.example/hs/abcdefghijklmnopqrs2/start\""));
    for page in pages.iter().map(|(_, p)| p) {
        assert!(page.len() < 2048, "{page}");
        // Every variable sits in a value attribute.
        for (i, _) in page.match_indices("$(") {
            assert!(page[..i].ends_with("value=\""), "{page}");
        }
    }
}

#[test]
fn an_account_with_all_its_sessions_open_elsewhere_is_in_use_not_handed_to_the_router() {
    let full = |sessions, simultaneous_use| Account {
        sessions,
        simultaneous_use,
        ..account(5, CustomerState::Active, 1, false)
    };
    // One session of one allowed: RADIUS would refuse the hand-off.
    assert_eq!(decide(&facts(&[full(1, 1)])), Next::InUse { account: 5 });
    // A limit of zero is read as one, as RADIUS reads it.
    assert_eq!(decide(&facts(&[full(1, 0)])), Next::InUse { account: 5 });
    // Room for another session: this device is bound and signs in.
    assert_eq!(
        decide(&facts(&[full(1, 2)])),
        Next::SignIn {
            account: 5,
            bind: true
        }
    );
    // A device over the limit is the first thing to settle; a blocked account pays first.
    let limited = Account {
        devices: 2,
        ..full(2, 2)
    };
    assert_eq!(decide(&facts(&[limited])), Next::DeviceLimit { account: 5 });
    let expired = Account {
        state: CustomerState::Expired,
        ..full(1, 1)
    };
    assert_eq!(
        decide(&facts(&[expired])),
        Next::Recharge {
            account: 5,
            why: Blocked::Expired
        }
    );
}

#[test]
fn a_merchant_accounts_checkout_hosts_are_let_through_the_walled_garden() {
    assert_eq!(
        payment_hosts("sslcommerz", "https://sandbox.sslcommerz.com/gwprocess"),
        ["sandbox.sslcommerz.com", "*.sslcommerz.com"]
    );
    assert_eq!(
        payment_hosts("generic", "http://127.0.0.1:9000/generic"),
        ["127.0.0.1"]
    );
    assert_eq!(
        payment_hosts("stripe", "https://API.stripe.com"),
        ["api.stripe.com", "*.stripe.com", "*.stripe.network"]
    );
    // Nothing that is not a host name goes on the router.
    assert_eq!(
        payment_hosts("generic", "https://a b;c/"),
        Vec::<String>::new()
    );
    assert_eq!(payment_hosts("bkash", ""), ["*.bka.sh", "*.bkash.com"]);
}
