use super::*;
use crate::network::provision::{Change, Item, diff, strays};

fn account(router: &str) -> Account<'static> {
    Account {
        password: "pw",
        address: Ipv4Addr::new(10, 99, 0, 2),
        rate_kbps: 5120,
        router: router.parse().unwrap(),
        disabled: false,
        tenant_archived: false,
    }
}

#[test]
fn a_server_takes_l2tp_over_ipsec_and_the_reference_ports_unless_told_otherwise() {
    let input = ServerInput {
        router_id: 3,
        public_host: "VPN.Example.net.".into(),
        pool_id: 4,
        local_address: "10.99.0.1".into(),
        ..ServerInput::default()
    };
    let server = input.parse().unwrap();
    assert_eq!(server.protocol, Protocol::L2tpIpsec);
    assert_eq!(server.public_host.as_str(), "vpn.example.net");
    assert_eq!(
        server.ports,
        PortRange {
            first: 5001,
            last: 5499
        }
    );
    assert_eq!(server.rate_kbps, DEFAULT_RATE_KBPS);
}

#[test]
fn a_server_reports_every_bad_field() {
    let input = ServerInput {
        router_id: 0,
        protocol: Some("openvpn".into()),
        public_host: "bad host!".into(),
        pool_id: 0,
        local_address: "10.99.0".into(),
        port_first: Some(6000),
        port_last: Some(5000),
        rate_kbps: Some(1),
    };
    let errors = input.parse().unwrap_err();
    let mut fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "local_address",
            "pool_id",
            "port_last",
            "protocol",
            "public_host",
            "rate_kbps",
            "router_id"
        ]
    );
}

#[test]
fn port_ranges_are_checked_and_the_first_free_port_is_taken() {
    assert!(PortRange::parse(80, 90).is_err(), "privileged ports");
    assert!(PortRange::parse(1024, 70_000).is_err(), "past 65535");
    assert!(PortRange::parse(2000, 20_000).is_err(), "too many");
    let range = PortRange::parse(5001, 5003).unwrap();
    assert_eq!(range.size(), 3);
    assert_eq!(free_port(range, &[5001]), Some(5002));
    assert_eq!(free_port(range, &[5001, 5002, 5003]), None);
}

#[test]
fn hosts_are_addresses_or_dns_names() {
    assert_eq!(
        Host::parse("203.0.113.7").unwrap().address(),
        Some(Ipv4Addr::new(203, 0, 113, 7))
    );
    assert_eq!(Host::parse("vpn-1.isp.example").unwrap().address(), None);
    for bad in ["", "-a.example", "a..b", "1.2.3", "a b", &"x".repeat(64)] {
        assert!(Host::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn credentials_are_spelled_from_every_random_byte_without_look_alikes() {
    let a = Credentials::from_random(&[0u8; 36]);
    let mut bytes = [0u8; 36];
    bytes[35] = 1;
    let b = Credentials::from_random(&bytes);
    assert!(a.username.starts_with(USERNAME_PREFIX));
    assert_eq!(a.username.len(), USERNAME_PREFIX.len() + 12);
    assert_eq!(a.password.len(), 24);
    assert_ne!(a.password, b.password, "the last byte counts");
    let all = Credentials::from_random(&[0xff; 36]);
    assert!(!all.password.contains(['0', 'o', '1', 'l']));
    assert!(
        !format!("{a:?}").contains(&a.password),
        "Debug hides the password"
    );
    assert!(
        crate::customer::Username::parse(&a.username).is_err(),
        "a customer cannot take a VPN account's name"
    );
}

#[test]
fn the_rows_accept_the_account_from_its_vpn_router_only() {
    let p = project(&account("192.0.2.1"));
    assert!(
        p.check
            .iter()
            .any(|i| i.attribute == "Packet-Src-IP-Address"
                && i.op == "=="
                && i.value == "192.0.2.1")
    );
    assert!(
        p.reply
            .iter()
            .any(|i| i.attribute == "Framed-IP-Address" && i.value == "10.99.0.2")
    );
    assert_eq!(p.rate_limit(), Some("5120k/5120k"));
    let v6 = project(&account("2001:db8::1"));
    assert!(
        v6.check
            .iter()
            .any(|i| i.attribute == "Packet-Src-IPv6-Address")
    );

    let disabled = Account {
        disabled: true,
        ..account("192.0.2.1")
    };
    assert!(project(&disabled).rejects());
    let gone = Account {
        tenant_archived: true,
        ..account("192.0.2.1")
    };
    assert_eq!(project(&gone), Projection::default());

    let from = |a: &str| a.parse::<IpAddr>().unwrap();
    assert!(matches!(
        decide(&account("192.0.2.1"), from("192.0.2.1")),
        Decision::Accept { .. }
    ));
    assert_eq!(
        decide(&account("192.0.2.1"), from("192.0.2.9")),
        Decision::Reject(RejectReason::WrongRouter)
    );
    assert_eq!(
        decide(&disabled, from("192.0.2.1")),
        Decision::Reject(RejectReason::Disabled)
    );
}

fn plan() -> ServerPlan<'static> {
    ServerPlan {
        protocol: Protocol::L2tpIpsec,
        local_address: Ipv4Addr::new(10, 99, 0, 1),
        ipsec_secret: Some("psk"),
        public_address: Some(Ipv4Addr::new(203, 0, 113, 7)),
    }
}

fn forward(id: i64, port: u16) -> Forward {
    Forward {
        account_id: id,
        port,
        address: Ipv4Addr::new(10, 99, 0, u8::try_from(id).unwrap()),
        disabled: false,
    }
}

fn rule(id: &str, comment: &str) -> Item {
    Item {
        id: Some(id.into()),
        props: BTreeMap::from([
            ("comment".into(), comment.into()),
            ("chain".into(), "dstnat".into()),
        ]),
    }
}

#[test]
fn the_vpn_router_gets_the_server_and_one_rule_per_account_found_by_its_own_comment() {
    let wants = wants(&plan(), &[forward(2, 5001), forward(3, 5002)]);
    let menus: Vec<&str> = wants.iter().map(|w| w.menu.as_str()).collect();
    assert_eq!(
        menus,
        [
            "/ppp/profile",
            "/interface/l2tp-server/server",
            "/ip/firewall/nat",
            "/ip/firewall/nat"
        ]
    );
    assert_eq!(wants[1].props["use-ipsec"], "required");
    assert_eq!(wants[2].find, Find::Comment("lastmile:vpn:2".into()));
    assert_eq!(wants[3].props["dst-port"], "5002");
    assert_eq!(wants[3].props["to-ports"], "8291");
    assert_eq!(wants[3].props["dst-address"], "203.0.113.7");
    assert_eq!(wants[3].props["disabled"], "no");
    let off = Forward {
        disabled: true,
        ..forward(2, 5001)
    };
    assert_eq!(super::wants(&plan(), &[off])[2].props["disabled"], "yes");

    let sstp = ServerPlan {
        protocol: Protocol::Sstp,
        ipsec_secret: None,
        ..plan()
    };
    let w = super::wants(&sstp, &[]);
    assert_eq!(w[1].menu, "/interface/sstp-server/server");
    assert!(!w[1].props.contains_key("ipsec-secret"));
}

#[test]
fn a_deleted_accounts_rule_is_removed_and_no_one_elses() {
    let wanted = wants(&plan(), &[forward(2, 5001)]);
    let current = BTreeMap::from([(
        "/ip/firewall/nat".to_owned(),
        vec![
            rule("*1", "lastmile:vpn:2"),
            rule("*2", "lastmile:vpn:3"),
            rule("*3", "port forward typed by hand"),
            rule("*4", "lastmile:vpn:not-a-number"),
            rule("*5", "lastmile:radius"),
        ],
    )]);
    let steps = strays("/ip/firewall/nat", is_rule, &wanted, &current, "gone");
    assert_eq!(steps.len(), 1);
    match &steps[0].change {
        Change::Remove { id, props } => {
            assert_eq!(id, "*2");
            assert_eq!(props["comment"], "lastmile:vpn:3");
        }
        other => panic!("{other:?}"),
    }
    // The wanted rule exists: diff only sets what differs, never adds a second.
    let planned = diff(&wanted, &current);
    assert!(
        !planned
            .iter()
            .any(|s| s.menu == "/ip/firewall/nat" && matches!(s.change, Change::Add { .. })),
        "{planned:?}"
    );
}

#[test]
fn the_remote_routers_commands_carry_its_credentials_and_tunnel() {
    let creds = Credentials::from_random(&[7u8; 36]);
    let host = Host::parse("vpn.example.net").unwrap();
    let l2tp = client_script(Protocol::L2tpIpsec, &host, &creds, Some("psk"));
    assert!(l2tp.starts_with("/interface l2tp-client add"));
    assert!(l2tp.contains("use-ipsec=yes ipsec-secret=psk"));
    assert!(l2tp.contains(&format!("user={}", creds.username)));
    let pptp = client_script(Protocol::Pptp, &host, &creds, None);
    assert!(pptp.starts_with("/interface pptp-client add"));
}
