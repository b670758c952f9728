use super::*;

fn routers() -> Vec<RouterNode> {
    vec![
        RouterNode {
            id: 1,
            name: "core-1".into(),
        },
        RouterNode {
            id: 2,
            name: "=evil".into(),
        },
    ]
}

fn zones() -> Vec<ZoneNode> {
    vec![
        ZoneNode {
            id: 10,
            name: "Dhaka".into(),
            parent: None,
        },
        ZoneNode {
            id: 11,
            name: "Mirpur".into(),
            parent: Some(10),
        },
        ZoneNode {
            id: 12,
            name: "Uttara".into(),
            parent: Some(10),
        },
    ]
}

fn place(router: Option<i64>, zone: Option<i64>) -> Place {
    Place { router, zone }
}

fn subscriber<'a>(v4: &'a [String], v6: &'a [String]) -> Subscriber<'a> {
    Subscriber {
        customer_id: 7,
        name: "Rahim Uddin",
        username: "rahim",
        mac: Some("AA:BB:CC:DD:EE:FF"),
        place: place(Some(1), Some(11)),
        state: Some(CustomerState::Active),
        static_ip: None,
        session_ipv4: v4,
        session_ipv6: v6,
        down_kbps: 20_000,
        up_kbps: 5_000,
        package: "Home 20M",
    }
}

fn line(row: &Row) -> String {
    let mut out = Vec::new();
    row.write_to(&mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn rates_are_written_in_mbps_with_only_the_decimals_they_need() {
    assert_eq!(mbps(20_000), "20");
    assert_eq!(mbps(1_500), "1.5");
    assert_eq!(mbps(512), "0.512");
    assert_eq!(mbps(2_050), "2.05");
    assert_eq!(mbps(100_000_000), "100000");
}

#[test]
fn a_router_and_its_zones_make_a_nested_tree_whose_names_the_rows_use() {
    let network = Network::build(
        Layout::Tree,
        1_000,
        &routers(),
        &zones(),
        &[place(Some(1), Some(11)), place(Some(1), None)],
    );
    let json = network.to_json();
    let router = &json["core-1"];
    assert_eq!(router["downloadBandwidthMbps"], 1_000);
    assert_eq!(router["uploadBandwidthMbps"], 1_000);
    let dhaka = &router["children"]["Dhaka @ core-1"];
    assert!(dhaka["children"]["Mirpur @ core-1"].is_object());
    assert!(
        dhaka["children"]["Mirpur @ core-1"]
            .get("children")
            .is_none()
    );
    assert_eq!(network.len(), 3);
    assert_eq!(
        network.parent_node(place(Some(1), Some(11))),
        "Mirpur @ core-1"
    );
    assert_eq!(network.parent_node(place(Some(1), None)), "core-1");
    // A place the tree was not built with gets no Parent Node rather than a dangling one.
    assert_eq!(network.parent_node(place(Some(1), Some(12))), "");
    assert_eq!(network.parent_node(place(None, None)), "");
}

#[test]
fn zones_without_a_router_stand_at_the_top_and_unknown_records_are_ignored() {
    let network = Network::build(
        Layout::Tree,
        DEFAULT_NODE_MBPS,
        &routers(),
        &zones(),
        &[place(None, Some(12)), place(Some(99), Some(404))],
    );
    let json = network.to_json();
    assert!(json["Dhaka"]["children"]["Uttara"].is_object());
    assert_eq!(network.parent_node(place(None, Some(12))), "Uttara");
    assert_eq!(network.parent_node(place(Some(99), Some(404))), "");
    assert_eq!(network.len(), 2);
}

#[test]
fn hostile_node_names_are_neutralised_alike_in_the_tree_and_the_rows() {
    let network = Network::build(
        Layout::Tree,
        DEFAULT_NODE_MBPS,
        &routers(),
        &zones(),
        &[place(Some(2), None)],
    );
    assert_eq!(network.parent_node(place(Some(2), None)), "'=evil");
    assert!(network.to_json()["'=evil"].is_object());
}

#[test]
fn a_name_two_nodes_would_share_gets_the_ids_appended() {
    let routers = vec![RouterNode {
        id: 3,
        name: "Mirpur".into(),
    }];
    let zones = vec![ZoneNode {
        id: 11,
        name: "Mirpur".into(),
        parent: None,
    }];
    let network = Network::build(
        Layout::Tree,
        DEFAULT_NODE_MBPS,
        &routers,
        &zones,
        &[place(Some(3), None), place(None, Some(11))],
    );
    let names: HashSet<&str> = network.node_names().collect();
    assert_eq!(names.len(), 2);
    assert_eq!(network.parent_node(place(Some(3), None)), "Mirpur");
    assert_eq!(network.parent_node(place(None, Some(11))), "Mirpur [z11]");
}

#[test]
fn a_loop_among_zones_still_gives_a_tree_that_holds_every_node() {
    let zones = vec![
        ZoneNode {
            id: 1,
            name: "A".into(),
            parent: Some(2),
        },
        ZoneNode {
            id: 2,
            name: "B".into(),
            parent: Some(1),
        },
    ];
    let network = Network::build(
        Layout::Tree,
        DEFAULT_NODE_MBPS,
        &[],
        &zones,
        &[place(None, Some(1)), place(None, Some(2))],
    );
    let text = network.to_json().to_string();
    assert!(text.contains("\"A\"") && text.contains("\"B\""), "{text}");
}

#[test]
fn a_flat_layout_has_no_nodes_and_empty_parent_nodes() {
    let network = Network::build(
        Layout::Flat,
        DEFAULT_NODE_MBPS,
        &routers(),
        &zones(),
        &[place(Some(1), Some(11))],
    );
    assert_eq!(network.to_json(), serde_json::json!({}));
    assert_eq!(network.parent_node(place(Some(1), Some(11))), "");
    assert_eq!(Layout::parse("flat"), Some(Layout::Flat));
    assert_eq!(Layout::parse("mesh"), None);
}

#[test]
fn a_customer_online_is_shaped_at_its_package_rate_on_its_session_address() {
    let network = Network::build(
        Layout::Tree,
        DEFAULT_NODE_MBPS,
        &routers(),
        &zones(),
        &[place(Some(1), Some(11))],
    );
    let v4 = vec!["100.64.0.9".to_owned(), "100.64.0.2".to_owned()];
    let v6 = vec![
        "2001:db8:1::/56".to_owned(),
        "2001:db8::5".to_owned(),
        "junk".to_owned(),
    ];
    let row = row(&subscriber(&v4, &v6), &network).unwrap();
    assert_eq!(
        line(&row),
        "7,Rahim Uddin,7,rahim,Mirpur @ core-1,AA:BB:CC:DD:EE:FF,\"100.64.0.2, 100.64.0.9\",\
         \"2001:db8::5/128, 2001:db8:1::/56\",1,1,20,5,Home 20M\n"
    );
}

#[test]
fn a_static_address_wins_over_session_addresses() {
    let network = Network::build(Layout::Flat, 1, &[], &[], &[]);
    let v4 = vec!["100.64.0.9".to_owned()];
    let sub = Subscriber {
        static_ip: Some(i64::from(u32::from(Ipv4Addr::new(10, 0, 3, 7)))),
        ..subscriber(&v4, &[])
    };
    let row = row(&sub, &network).unwrap();
    assert_eq!(row.0[6], "10.0.3.7");
    assert_eq!(row.0[4], "");
}

#[test]
fn customers_are_left_out_for_no_address_no_service_or_a_rate_too_low() {
    let network = Network::build(Layout::Flat, 1, &[], &[], &[]);
    let junk = vec!["".to_owned(), "0.0.0.0".to_owned()];
    assert_eq!(
        row(&subscriber(&junk, &[]), &network).unwrap_err(),
        Skip::NoAddress
    );
    let v4 = vec!["100.64.0.9".to_owned()];
    for state in [
        CustomerState::Expired,
        CustomerState::Suspended,
        CustomerState::Disabled,
    ] {
        let sub = Subscriber {
            state: Some(state),
            ..subscriber(&v4, &[])
        };
        assert_eq!(row(&sub, &network).unwrap_err(), Skip::NotInService);
    }
    let slow = Subscriber {
        up_kbps: 128,
        ..subscriber(&v4, &[])
    };
    assert_eq!(row(&slow, &network).unwrap_err(), Skip::RateTooLow);
    let mut report = Report::default();
    report.count(Err(Skip::NoAddress));
    report.count(Err(Skip::RateTooLow));
    report.count(Ok(()));
    assert_eq!((report.shaped, report.skipped()), (1, 2));
}

#[test]
fn a_slow_package_is_guaranteed_its_whole_rate() {
    let network = Network::build(Layout::Flat, 1, &[], &[], &[]);
    let v4 = vec!["100.64.0.9".to_owned()];
    let sub = Subscriber {
        down_kbps: 512,
        up_kbps: 256,
        ..subscriber(&v4, &[])
    };
    let row = row(&sub, &network).unwrap();
    assert_eq!(&row.0[8..12], ["0.512", "0.256", "0.512", "0.256"]);
}

#[test]
fn hostile_names_are_quoted_and_kept_from_reading_as_formulas() {
    let network = Network::build(Layout::Flat, 1, &[], &[], &[]);
    let v4 = vec!["100.64.0.9".to_owned()];
    let sub = Subscriber {
        name: "=cmd|' /C calc'!A0",
        package: "Gold, \"Fast\"",
        username: "+8801711",
        ..subscriber(&v4, &[])
    };
    let text = line(&row(&sub, &network).unwrap());
    assert!(
        text.starts_with("7,'=cmd|' /C calc'!A0,7,'+8801711,"),
        "{text}"
    );
    assert!(text.ends_with(",\"Gold, \"\"Fast\"\"\"\n"), "{text}");
    let mut header = Vec::new();
    write_header(&mut header);
    assert_eq!(
        String::from_utf8(header).unwrap(),
        "Circuit ID,Circuit Name,Device ID,Device Name,Parent Node,MAC,IPv4,IPv6,\
         Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps,Comment\n"
    );
}

#[test]
fn those_who_run_the_network_or_sell_export_and_others_are_refused() {
    use crate::access::{Actor, Permission, PermissionSet, Role, export_shaping};
    use crate::ids::{TenantId, UserId};
    let actor = |role: Role, granted: &[Permission]| {
        let tenant = (!role.is_platform()).then_some(TenantId(1));
        Actor::new(
            UserId(5),
            role,
            tenant,
            granted.iter().copied().collect::<PermissionSet>(),
        )
    };
    for role in [
        Role::Developer,
        Role::SuperAdmin,
        Role::Admin,
        Role::Operator,
        Role::SubOperator,
    ] {
        assert!(export_shaping(&actor(role, &[])).is_ok(), "{role:?}");
    }
    for role in [Role::Accountant, Role::SalesManager, Role::CardDistributor] {
        assert!(export_shaping(&actor(role, &[])).is_err(), "{role:?}");
    }
    for role in [Role::Manager, Role::Staff] {
        assert!(export_shaping(&actor(role, &[Permission::ViewCustomers])).is_err());
        assert!(export_shaping(&actor(role, &[Permission::ManageNetwork])).is_err());
        let both = [Permission::ManageNetwork, Permission::ManageCustomers];
        assert!(export_shaping(&actor(role, &both)).is_ok(), "{role:?}");
    }
}
