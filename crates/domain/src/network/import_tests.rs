use super::*;

fn pool(name: &str, ranges: &str) -> RouterPool {
    RouterPool {
        name: name.to_owned(),
        ranges: ranges.to_owned(),
    }
}

fn profile(name: &str) -> RouterProfile {
    RouterProfile {
        name: name.to_owned(),
        local_address: Some("10.0.0.1".to_owned()),
        remote_address: Some("pppoe".to_owned()),
        rate_limit: Some("10M/10M".to_owned()),
    }
}

fn secret(name: &str, profile: &str) -> RouterSecret {
    RouterSecret {
        name: name.to_owned(),
        password: "s3cret-pw".to_owned(),
        service: "pppoe".to_owned(),
        profile: profile.to_owned(),
        remote_address: None,
        comment: None,
        disabled: false,
    }
}

fn existing() -> Existing {
    Existing {
        pools: vec![ExistingPool {
            id: 7,
            name: "Office".to_owned(),
            pool: Pool::parse("172.16.0.0/24").unwrap(),
        }],
        holders: HashMap::from([
            (
                "karim".to_owned(),
                Holder {
                    customer_id: 70,
                    on_this_router: true,
                },
            ),
            (
                "rahim".to_owned(),
                Holder {
                    customer_id: 71,
                    on_this_router: false,
                },
            ),
        ]),
        packages: BTreeMap::from([(1, "Home 10M".to_owned()), (2, "Biz".to_owned())]),
    }
}

fn action_of<'a>(plan: &'a Plan, name: &str) -> &'a SecretAction {
    &plan.secrets.iter().find(|s| s.name == name).unwrap().action
}

#[test]
fn every_range_form_is_kept_as_its_exact_blocks() {
    let snapshot = Snapshot {
        pools: vec![
            pool("a", "10.0.0.1-10.0.0.254"),
            pool("b", "10.1.0.0/24"),
            pool("c", "10.2.0.5"),
            pool("d", "10.3.0.10-10.3.0.20,10.3.1.0/30,10.3.2.9"),
            pool("e", "192.168.1.10-192.168.1.200"),
        ],
        ..Snapshot::default()
    };
    let plan = plan(&snapshot, &Existing::default(), &Choices::default());
    let capacity: Vec<u64> = plan.pools.iter().map(|p| p.capacity).collect();
    assert_eq!(capacity, [254, 256, 1, 11 + 4 + 1, 191]);
    assert_eq!(
        plan.pools[0].blocks,
        [
            "10.0.0.1/32",
            "10.0.0.2/31",
            "10.0.0.4/30",
            "10.0.0.8/29",
            "10.0.0.16/28",
            "10.0.0.32/27",
            "10.0.0.64/26",
            "10.0.0.128/26",
            "10.0.0.192/27",
            "10.0.0.224/28",
            "10.0.0.240/29",
            "10.0.0.248/30",
            "10.0.0.252/31",
            "10.0.0.254/32",
        ]
    );
    assert!(plan.pools.iter().all(|p| p.action == PoolAction::Create));
    assert_eq!(plan.counts.pools_created, 5);
}

#[test]
fn a_pool_the_tenant_has_is_never_overwritten() {
    let snapshot = Snapshot {
        pools: vec![
            pool("office", "172.16.0.0/24"),
            pool("OFFICE2", "172.16.0.128/25"),
            pool("Office", "172.16.0.0/25"),
            pool("broken", "10.0.0.9-10.0.0.1"),
            pool("x", "10.9.0.0/24"),
            pool("X", "10.8.0.0/24"),
        ],
        ..Snapshot::default()
    };
    let plan = plan(&snapshot, &existing(), &Choices::default());
    let actions: Vec<&PoolAction> = plan.pools.iter().map(|p| &p.action).collect();
    assert_eq!(actions[0], &PoolAction::Unchanged { pool_id: 7 });
    assert_eq!(
        actions[1],
        &PoolAction::Overlaps {
            with: "Office".to_owned()
        }
    );
    assert_eq!(
        actions[2],
        &PoolAction::NameTaken {
            pool_id: 7,
            ranges: "172.16.0.0-172.16.0.255".to_owned()
        }
    );
    assert!(matches!(actions[3], PoolAction::Unreadable { .. }));
    assert_eq!(actions[4], &PoolAction::Create);
    assert!(matches!(actions[5], PoolAction::Unreadable { .. }));
    assert_eq!(
        (plan.counts.pools_created, plan.counts.pools_skipped),
        (1, 5)
    );
}

#[test]
fn each_secret_is_created_skipped_or_known_with_its_reason() {
    let mut disabled = secret("off", "home 10m");
    disabled.disabled = true;
    let mut vpn = secret("vpn1", "home 10m");
    vpn.service = "l2tp".to_owned();
    let mut fixed = secret("fixed", "Home 10M");
    fixed.remote_address = Some("172.16.0.9".to_owned());
    let mut lost = secret("lost", "Home 10M");
    lost.remote_address = Some("100.64.0.1".to_owned());
    let mut from_pool = secret("dyn", "Home 10M");
    from_pool.remote_address = Some("pppoe-pool".to_owned());
    let mut short = secret("short", "Home 10M");
    short.password = "ab".to_owned();
    let snapshot = Snapshot {
        profiles: vec![profile("Home 10M"), profile("gold"), profile("silver")],
        secrets: vec![
            secret("new1", "Home 10M"),
            secret("Karim", "Home 10M"),
            secret("rahim", "Home 10M"),
            secret("NEW1", "gold"),
            secret("g1", "gold"),
            secret("s1", "silver"),
            secret("bad name", "Home 10M"),
            disabled,
            vpn,
            fixed,
            lost,
            from_pool,
            short,
            secret("d1", "default"),
        ],
        ..Snapshot::default()
    };
    let choices = Choices {
        packages: BTreeMap::from([
            ("gold".to_owned(), 2),
            ("silver".to_owned(), 99),
            ("default".to_owned(), 1),
        ]),
        include_disabled: false,
    };
    let plan = plan(&snapshot, &existing(), &choices);
    let create = |static_ip| SecretAction::Create {
        package_id: 1,
        static_ip,
    };
    assert_eq!(action_of(&plan, "new1"), &create(None));
    assert_eq!(
        action_of(&plan, "Karim"),
        &SecretAction::AlreadyImported { customer_id: 70 }
    );
    assert_eq!(action_of(&plan, "rahim"), &SecretAction::Duplicate);
    assert_eq!(action_of(&plan, "NEW1"), &SecretAction::Duplicate);
    assert_eq!(
        action_of(&plan, "g1"),
        &SecretAction::Create {
            package_id: 2,
            static_ip: None
        }
    );
    // A package id the importer may not use is no choice: nothing is named "silver".
    assert_eq!(action_of(&plan, "s1"), &SecretAction::NoPackage);
    assert!(matches!(
        action_of(&plan, "bad name"),
        SecretAction::Invalid { field, .. } if field == "username"
    ));
    assert_eq!(action_of(&plan, "off"), &SecretAction::Disabled);
    assert_eq!(action_of(&plan, "vpn1"), &SecretAction::Service);
    assert_eq!(
        action_of(&plan, "fixed"),
        &create(Some(("172.16.0.9".parse().unwrap(), "Office".to_owned())))
    );
    assert_eq!(
        action_of(&plan, "lost"),
        &SecretAction::AddressOutsidePools {
            address: "100.64.0.1".to_owned()
        }
    );
    assert_eq!(action_of(&plan, "dyn"), &create(None));
    assert!(matches!(
        action_of(&plan, "short"),
        SecretAction::Invalid { field, .. } if field == "password"
    ));
    assert_eq!(action_of(&plan, "d1"), &create(None));
    let profiles: Vec<(Option<i64>, bool, usize)> = plan
        .profiles
        .iter()
        .map(|p| (p.package_id, p.matched_by_name, p.secrets))
        .collect();
    assert_eq!(
        profiles,
        [(Some(1), true, 8), (Some(2), false, 2), (None, false, 1)]
    );
    assert_eq!(
        (
            plan.counts.customers_created,
            plan.counts.already_imported,
            plan.counts.secrets_skipped
        ),
        (5, 1, 8)
    );
}

#[test]
fn disabled_secrets_come_when_asked_for_and_addresses_find_the_pools_of_the_import() {
    let mut off = secret("off", "p");
    off.disabled = true;
    off.remote_address = Some("10.5.0.7".to_owned());
    let snapshot = Snapshot {
        pools: vec![pool("new-pool", "10.5.0.0/24")],
        profiles: vec![profile("p")],
        secrets: vec![off],
    };
    let choices = Choices {
        packages: BTreeMap::from([("p".to_owned(), 2)]),
        include_disabled: true,
    };
    let plan = plan(&snapshot, &existing(), &choices);
    assert_eq!(
        action_of(&plan, "off"),
        &SecretAction::Create {
            package_id: 2,
            static_ip: Some(("10.5.0.7".parse().unwrap(), "new-pool".to_owned()))
        }
    );
}

#[test]
fn the_plan_reads_as_json_with_each_action_named() {
    let snapshot = Snapshot {
        pools: vec![pool("a", "10.0.0.0/30")],
        profiles: vec![],
        secrets: vec![secret("x", "none")],
    };
    let json = serde_json::to_value(plan(&snapshot, &existing(), &Choices::default())).unwrap();
    assert_eq!(json["pools"][0]["action"], "create");
    assert_eq!(json["secrets"][0]["action"], "no_package");
    assert_eq!(json["counts"]["secrets_skipped"], 1);
}
