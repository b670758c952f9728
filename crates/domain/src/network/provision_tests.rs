use super::*;

fn settings() -> Settings {
    Settings {
        radius_address: Ipv4Addr::new(198, 51, 100, 10),
        secret: "s3cret-of-router".to_owned(),
        auth_port: 1812,
        acct_port: 1813,
        coa_port: 3799,
        interim_seconds: 300,
        portal_address: Some(Ipv4Addr::new(198, 51, 100, 20)),
        suspended: Some((
            "suspended".to_owned(),
            Pool::parse("100.65.96.0/20").unwrap(),
        )),
        identity: None,
        snmp_community: None,
        message_auth: true,
        portal_pages: None,
        payment_hosts: Vec::new(),
    }
}

fn item(id: Option<&str>, props: &[(&str, &str)]) -> Item {
    Item {
        id: id.map(str::to_owned),
        props: props
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

/// The router after `steps` are applied to `current`, as a router would hold it.
fn applied(current: &BTreeMap<String, Vec<Item>>, steps: &[Step]) -> BTreeMap<String, Vec<Item>> {
    let mut next = current.clone();
    for (n, step) in steps.iter().enumerate() {
        let items = next.entry(step.menu.clone()).or_default();
        match &step.change {
            Change::Add { props } => items.push(Item {
                id: Some(format!("*new{n}")),
                props: props.clone(),
            }),
            Change::Set { id, props, .. } => {
                if id.is_none() && items.is_empty() {
                    items.push(Item::default());
                }
                let target = items.iter_mut().find(|i| i.id == *id).unwrap();
                target.props.extend(props.clone());
            }
            Change::Remove { id, .. } => items.retain(|i| i.id.as_deref() != Some(id)),
        }
    }
    next
}

#[test]
fn a_blank_router_gets_every_item_and_a_second_run_plans_nothing() {
    let wants = wants(&settings());
    let blank = BTreeMap::from([
        (
            "/ppp/aaa".to_owned(),
            vec![item(
                None,
                &[("use-radius", "false"), ("accounting", "true")],
            )],
        ),
        (
            "/interface/pppoe-server/server".to_owned(),
            vec![item(
                Some("*1"),
                &[("authentication", "pap,chap,mschap1,mschap2")],
            )],
        ),
    ]);
    let steps = diff(&wants, &blank);
    let menus: Vec<&str> = steps.iter().map(|s| s.menu.as_str()).collect();
    assert_eq!(
        menus,
        [
            "/radius",
            "/radius/incoming",
            "/ppp/aaa",
            "/interface/pppoe-server/server",
            "/ip/hotspot/walled-garden/ip",
            "/ip/pool",
            "/ip/firewall/filter",
            "/system/script",
            "/system/scheduler",
        ]
    );
    let Change::Add { props } = &steps[0].change else {
        panic!("{:?}", steps[0]);
    };
    assert_eq!(props["comment"], "lastmile:radius");
    assert_eq!(props["address"], "198.51.100.10");
    assert_eq!(props["require-message-auth"], "yes");
    // Only what differs is set, and what it replaces is kept for the undo.
    let Change::Set { props, before, .. } = &steps[2].change else {
        panic!("{:?}", steps[2]);
    };
    assert_eq!(
        props.keys().collect::<Vec<_>>(),
        ["interim-update", "use-radius"]
    );
    assert_eq!(before["use-radius"], "false");
    assert_eq!(before["interim-update"], "");
    // One source of truth: the suspended pool's ranges are the rule's source.
    let Change::Add { props } = &steps[6].change else {
        panic!();
    };
    assert_eq!(props["src-address"], "100.65.96.0/20");
    assert_eq!(props["dst-address"], "!198.51.100.20");

    let after = applied(&blank, &steps);
    assert_eq!(diff(&wants, &after), [], "the second run plans nothing");
}

#[test]
fn items_of_others_are_left_and_ours_are_found_by_their_comment() {
    let wants = wants(&settings());
    let mut current = BTreeMap::from([(
        "/radius".to_owned(),
        vec![
            item(
                Some("*1"),
                &[
                    ("address", "10.9.9.9"),
                    ("service", "login"),
                    ("comment", "noc"),
                ],
            ),
            item(
                Some("*2"),
                &[
                    ("address", "198.51.100.10"),
                    ("secret", "old-secret"),
                    ("service", "hotspot,ppp"),
                    ("authentication-port", "1812"),
                    ("accounting-port", "1813"),
                    ("timeout", "3s"),
                    ("disabled", "false"),
                    ("require-message-auth", "true"),
                    ("comment", "lastmile:radius"),
                ],
            ),
        ],
    )]);
    current.insert(
        "/ip/firewall/filter".to_owned(),
        vec![item(
            Some("*9"),
            &[
                ("chain", "forward"),
                ("action", "accept"),
                ("comment", "by hand"),
            ],
        )],
    );
    let steps = diff(&wants, &current);
    let radius: Vec<&Step> = steps.iter().filter(|s| s.menu == "/radius").collect();
    assert_eq!(radius.len(), 1, "{steps:?}");
    assert_eq!(
        radius[0].change,
        Change::Set {
            id: Some("*2".to_owned()),
            props: BTreeMap::from([("secret".to_owned(), "s3cret-of-router".to_owned())]),
            before: BTreeMap::from([("secret".to_owned(), "old-secret".to_owned())]),
        },
        "the service list's order and true/yes are the same value"
    );
    assert!(
        steps.iter().all(
            |s| !matches!(&s.change, Change::Set { id: Some(id), .. } if id == "*1" || id == "*9")
        ),
        "{steps:?}"
    );
}

#[test]
fn what_is_optional_comes_only_when_set() {
    let mut s = settings();
    s.portal_address = None;
    s.suspended = None;
    s.message_auth = false;
    s.identity = Some("core-1".to_owned());
    s.snmp_community = Some("lastmile".to_owned());
    let wants = wants(&s);
    let menus: Vec<&str> = wants.iter().map(|w| w.menu.as_str()).collect();
    assert_eq!(
        menus,
        [
            "/radius",
            "/radius/incoming",
            "/ppp/aaa",
            "/interface/pppoe-server/server",
            "/ip/hotspot/profile",
            "/system/script",
            "/system/scheduler",
            "/system/identity",
            "/snmp",
            "/snmp/community",
        ]
    );
    assert!(!wants[0].props.contains_key("require-message-auth"));
    assert!(wants.iter().all(|w| MENUS.contains(&w.menu.as_str())));
    assert_eq!(
        proplist(&wants, "/snmp/community"),
        [".id", "addresses", "comment", "name"]
    );
}

#[test]
fn durations_read_as_routeros_writes_them() {
    assert_eq!(duration(300), "5m");
    assert_eq!(duration(90), "90s");
    assert_eq!(duration(7200), "2h");
}

#[test]
fn secrets_are_hidden_in_what_is_shown() {
    let steps = diff(&wants(&settings()), &BTreeMap::new());
    let shown = serde_json::to_string(&redacted(&steps)).unwrap();
    assert!(!shown.contains("s3cret-of-router"), "{shown}");
    assert!(shown.contains("(hidden)"));
    assert!(
        serde_json::to_string(&steps)
            .unwrap()
            .contains("s3cret-of-router")
    );
}

#[test]
fn pools_are_pushed_by_name_and_a_second_push_plans_nothing() {
    let pools = [
        ("home".to_owned(), Pool::parse("10.0.0.0/23").unwrap()),
        (
            "fixed".to_owned(),
            Pool::parse("203.0.113.8-203.0.113.20").unwrap(),
        ),
    ];
    let wants = pool_wants(&pools, Some(Ipv4Addr::new(172, 31, 255, 1)));
    // The router has a pool "home" of other ranges (set by hand) and nothing else.
    let mut current = BTreeMap::new();
    current.insert(
        "/ip/pool".to_owned(),
        vec![item(
            Some("*1"),
            &[("name", "home"), ("ranges", "10.9.0.2-10.9.0.9")],
        )],
    );
    let steps = diff(&wants, &current);
    let shown: Vec<(&str, &str)> = steps
        .iter()
        .map(|s| {
            let action = match s.change {
                Change::Add { .. } => "add",
                Change::Set { .. } => "set",
                Change::Remove { .. } => "remove",
            };
            (s.menu.as_str(), action)
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("/ip/pool", "set"),
            ("/ppp/profile", "add"),
            ("/ip/pool", "add"),
            ("/ppp/profile", "add")
        ]
    );
    let Change::Set { props, before, .. } = &steps[0].change else {
        unreachable!()
    };
    assert_eq!(props["ranges"], "10.0.0.0-10.0.1.255");
    assert_eq!(before["ranges"], "10.9.0.2-10.9.0.9");
    let Change::Add { props } = &steps[1].change else {
        unreachable!()
    };
    assert_eq!(props["local-address"], "172.31.255.1");
    assert_eq!(props["remote-address"], "home");
    assert!(diff(&wants, &applied(&current, &steps)).is_empty());
}

#[test]
fn the_suspended_rule_goes_before_every_rule_of_its_chain() {
    let mut current = BTreeMap::new();
    current.insert(
        "/ip/firewall/filter".to_owned(),
        vec![
            item(Some("*3"), &[("chain", "input"), ("action", "accept")]),
            item(Some("*7"), &[("chain", "forward"), ("action", "accept")]),
            item(Some("*9"), &[("chain", "forward"), ("action", "drop")]),
        ],
    );
    let steps = diff(&wants(&settings()), &current);
    let rules: Vec<&Step> = steps
        .iter()
        .filter(|s| s.menu == "/ip/firewall/filter")
        .collect();
    assert!(!rules.is_empty());
    for rule in rules {
        let Change::Add { props } = &rule.change else {
            panic!("{rule:?}")
        };
        assert_eq!(props.get("place-before").map(String::as_str), Some("*7"));
    }
    // On a router without a forward rule, it is simply added.
    let steps = diff(&wants(&settings()), &BTreeMap::new());
    assert!(steps.iter().all(|s| match &s.change {
        Change::Add { props } => !props.contains_key("place-before"),
        Change::Set { .. } | Change::Remove { .. } => true,
    }));
}

#[test]
fn the_duplicate_session_script_runs_every_minute_and_is_added_once() {
    let wants = wants(&settings());
    let script = wants.iter().find(|w| w.menu == "/system/script").unwrap();
    assert_eq!(script.find, Find::Name(DUPLICATES.to_owned()));
    assert!(script.props["source"].contains("/ppp active remove"));
    assert!(
        !DUPLICATES_SOURCE.contains(','),
        "comma lists are compared without regard to order"
    );
    let schedule = wants
        .iter()
        .find(|w| w.menu == "/system/scheduler")
        .unwrap();
    assert_eq!(schedule.props["on-event"], DUPLICATES);
    assert_eq!(schedule.props["interval"], "1m");
    // Once applied, a second plan finds both by name and changes nothing.
    let current = applied(&BTreeMap::new(), &diff(&wants, &BTreeMap::new()));
    let again = diff(&wants, &current);
    assert!(
        !again
            .iter()
            .any(|s| s.menu.starts_with("/system/sch") || s.menu == "/system/script"),
        "{again:?}"
    );
}
