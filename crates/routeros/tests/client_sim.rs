//! The client against the simulated router over real TCP sockets: login, concurrent tagged
//! commands, traps, fatals, cancellation, timeouts, reconnection and permissions.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test on error"
)]

mod common;

use std::time::Duration;

use common::{PASSWORD, USER, client, config, router, router_with};
use routeros::menu::{self, Props};
use routeros::sim::{Faults, Group, SimConfig, SimLogin, SimUser};
use routeros::{Client, Command, Error, LoginMethod, Query, TrapCategory};

#[tokio::test]
async fn a_client_logs_in_and_reads_identity_version_and_board() {
    let router = router().await;
    let client = client(&router).await;
    assert_eq!(menu::IDENTITY.get(&client).await.unwrap().name, "MikroTik");
    let resource = menu::RESOURCE.get(&client).await.unwrap();
    assert!(resource.version.starts_with("7."));
    assert_eq!(resource.board_name, "CHR");
    assert_eq!(menu::api_user_group(&client).await.unwrap(), "full");
}

#[tokio::test]
async fn sixty_four_commands_in_flight_on_one_connection_each_get_their_own_replies() {
    let router = router().await;
    let client = client(&router).await;
    let adds = (0..64).map(|i| {
        let client = client.clone();
        async move {
            let props = Props::new()
                .with("name", format!("user{i}"))
                .with("password", format!("pw{i}"));
            menu::PPP_SECRETS.add(&client, &props).await
        }
    });
    let ids = futures_join_all(adds).await;
    assert!(ids.iter().all(Result::is_ok));
    let finds = (0..64).map(|i| {
        let client = client.clone();
        async move { menu::PPP_SECRETS.find(&client, &format!("user{i}")).await }
    });
    for (i, found) in futures_join_all(finds).await.into_iter().enumerate() {
        let secret = found.unwrap().unwrap();
        assert_eq!(secret.name, format!("user{i}"));
        assert_eq!(secret.password, format!("pw{i}"));
    }
    assert_eq!(router.rows("/ppp/secret").unwrap().len(), 64);
}

/// Joins futures without an extra dependency: spawn each, await in order.
async fn futures_join_all<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

#[tokio::test]
async fn a_duplicate_name_is_a_trap_and_the_connection_stays_usable() {
    let router = router().await;
    let client = client(&router).await;
    let props = Props::new()
        .with("name", "pool1")
        .with("ranges", "10.0.0.2-10.0.0.254");
    menu::IP_POOLS.add(&client, &props).await.unwrap();
    let error = menu::IP_POOLS.add(&client, &props).await.unwrap_err();
    assert!(
        matches!(&error, Error::Trap { message, .. } if message.contains("already exists")),
        "{error}"
    );
    assert!(client.is_alive());
    assert_eq!(
        menu::IP_POOLS
            .print(&client, &Query::new())
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn unknown_commands_and_properties_are_traps_with_their_category() {
    let router = router().await;
    let client = client(&router).await;
    let error = client
        .run(&Command::new("/ppp/secret/frobnicate"))
        .await
        .unwrap_err();
    assert_eq!(
        error.trap_category(),
        Some(TrapCategory::MissingItemOrCommand)
    );
    let error = client
        .run(&Command::new("/no/such/menu/print"))
        .await
        .unwrap_err();
    assert_eq!(
        error.trap_category(),
        Some(TrapCategory::MissingItemOrCommand)
    );
    let error = menu::PPP_SECRETS
        .add(
            &client,
            &Props::new().with("name", "a").with("colour", "blue"),
        )
        .await
        .unwrap_err();
    assert_eq!(error.trap_category(), Some(TrapCategory::ArgumentValue));
}

#[tokio::test]
async fn typed_helpers_add_find_set_and_remove_by_id_and_by_key() {
    let router = router().await;
    let client = client(&router).await;
    let id = menu::PPP_SECRETS
        .add(
            &client,
            &Props::new()
                .with("name", "alice")
                .with("password", "pw")
                .with("comment", "lastmile:7"),
        )
        .await
        .unwrap();
    menu::PPP_SECRETS
        .set(
            &client,
            &id,
            &Props::new().with("profile", "default-encryption"),
        )
        .await
        .unwrap();
    let alice = menu::PPP_SECRETS
        .find(&client, "alice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            alice.id.clone(),
            alice.profile.as_str(),
            alice.comment.as_deref()
        ),
        (id.clone(), "default-encryption", Some("lastmile:7"))
    );
    menu::PPP_SECRETS
        .set_by_key(&client, "alice", &Props::new().with("disabled", "yes"))
        .await
        .unwrap();
    let disabled = menu::PPP_SECRETS
        .print(&client, &Query::new().eq("disabled", "yes"))
        .await
        .unwrap();
    assert_eq!(disabled.len(), 1);
    let rows = menu::PPP_SECRETS
        .print_rows(&client, &Query::new(), &["name"])
        .await
        .unwrap();
    assert_eq!(
        rows[0].iter().map(|(n, _)| n.to_vec()).collect::<Vec<_>>(),
        [b"name".to_vec()]
    );
    assert_eq!(
        menu::PPP_SECRETS
            .remove_by_key(&client, "alice")
            .await
            .unwrap(),
        1
    );
    assert!(
        menu::PPP_SECRETS
            .find(&client, "alice")
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        menu::PPP_SECRETS.remove(&client, &id).await,
        Err(Error::Trap { .. })
    ));
}

#[tokio::test]
async fn singletons_are_read_and_set_without_ids() {
    let router = router().await;
    let client = client(&router).await;
    menu::IDENTITY
        .set(&client, &Props::new().with("name", "7--acme--hq--10.0.0.1"))
        .await
        .unwrap();
    menu::PPP_AAA
        .set(
            &client,
            &Props::new()
                .with("use-radius", "yes")
                .with("interim-update", "5m"),
        )
        .await
        .unwrap();
    menu::RADIUS_INCOMING
        .set(&client, &Props::new().with("accept", "yes"))
        .await
        .unwrap();
    assert_eq!(
        menu::IDENTITY.get(&client).await.unwrap().name,
        "7--acme--hq--10.0.0.1"
    );
    let aaa = menu::PPP_AAA.get(&client).await.unwrap();
    assert_eq!(aaa.flag("use-radius"), Some(true));
    assert_eq!(aaa.text("interim-update").as_deref(), Some("5m"));
    assert!(aaa.id().is_none());
    assert_eq!(
        menu::RADIUS_INCOMING
            .get(&client)
            .await
            .unwrap()
            .flag("accept"),
        Some(true)
    );
}

#[tokio::test]
async fn the_default_ppp_profile_is_there_and_cannot_be_removed() {
    let router = router().await;
    let client = client(&router).await;
    let defaults = menu::PPP_PROFILES
        .print(&client, &Query::new().eq("default", "yes"))
        .await
        .unwrap();
    let names: Vec<_> = defaults.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["default", "default-encryption"]);
    assert!(matches!(
        menu::PPP_PROFILES.remove(&client, &defaults[0].id).await,
        Err(Error::Trap { .. })
    ));
    assert!(
        menu::PPPOE_SERVERS
            .find(&client, "service1")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        menu::HOTSPOT_PROFILES
            .find(&client, "default")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn values_that_are_not_utf8_round_trip_exactly() {
    let router = router().await;
    let client = client(&router).await;
    let comment: &[u8] = b"caf\xe9 = \x00\xff";
    let id = menu::PPP_SECRETS
        .add(
            &client,
            &Props::new().with("name", "bob").with("comment", comment),
        )
        .await
        .unwrap();
    let rows = menu::PPP_SECRETS
        .print_rows(&client, &Query::new().eq(".id", id.as_str()), &[])
        .await
        .unwrap();
    assert_eq!(rows[0].get("comment"), Some(comment));
}

#[tokio::test]
async fn a_session_created_on_the_router_is_listed_and_removed_by_the_client() {
    let router = router().await;
    let client = client(&router).await;
    router
        .add_ppp_session("alice", "10.0.0.5", "AA:BB:CC:DD:EE:FF")
        .unwrap();
    router
        .add_ppp_session("alice", "10.0.0.6", "AA:BB:CC:DD:EE:01")
        .unwrap();
    let sessions = menu::PPP_ACTIVE
        .print(&client, &Query::new().eq("name", "alice"))
        .await
        .unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0].address, "10.0.0.5");
    menu::PPP_ACTIVE
        .remove(&client, &sessions[0].id)
        .await
        .unwrap();
    let left = router.rows("/ppp/active").unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].text("address").as_deref(), Some("10.0.0.6"));
    assert!(matches!(
        menu::PPP_ACTIVE
            .add(&client, &Props::new().with("name", "x"))
            .await,
        Err(Error::Trap { .. })
    ));
}

#[tokio::test]
async fn cancelling_a_listen_ends_its_stream_and_leaves_the_connection_usable() {
    let router = router().await;
    let client = client(&router).await;
    let mut stream = menu::PPP_ACTIVE.listen(&client).await.unwrap();
    // The listen is registered once a later command on the same connection has completed.
    menu::IDENTITY.get(&client).await.unwrap();
    let id = router
        .add_ppp_session("carol", "10.0.0.9", "AA:BB:CC:DD:EE:02")
        .unwrap();
    let added = stream.next().await.unwrap().unwrap();
    assert_eq!(added.text("name").as_deref(), Some("carol"));
    menu::PPP_ACTIVE.remove(&client, &id).await.unwrap();
    let removed = stream.next().await.unwrap().unwrap();
    assert_eq!(
        (removed.id(), removed.flag(".dead")),
        (Some(id), Some(true))
    );
    stream.cancel().await.unwrap();
    assert!(stream.next().await.is_none());
    assert!(client.is_alive());
    assert_eq!(menu::IDENTITY.get(&client).await.unwrap().name, "MikroTik");
}

#[tokio::test]
async fn a_command_past_its_timeout_fails_with_timeout_and_the_connection_stays_usable() {
    let router = router().await;
    let client = client(&router).await;
    router.set_faults(Faults {
        reply_delay: Some(Duration::from_secs(3)),
        ..Faults::default()
    });
    let command = Command::new("/system/identity/print");
    let error = client
        .run_with_timeout(&command, Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "{error}");
    router.set_faults(Faults::default());
    assert!(client.is_alive());
    assert_eq!(menu::IDENTITY.get(&client).await.unwrap().name, "MikroTik");
}

#[tokio::test]
async fn a_fatal_kills_the_connection_and_every_later_call_fails_at_once() {
    let router = router().await;
    let client = client(&router).await;
    router.set_faults(Faults {
        fatal_on_command: Some("/system/reboot".into()),
        ..Faults::default()
    });
    let error = client
        .run(&Command::new("/system/reboot"))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Fatal { reason } if reason == "simulated failure"),
        "{error}"
    );
    assert!(!client.is_alive());
    let later = menu::IDENTITY.get(&client).await.unwrap_err();
    assert!(matches!(later, Error::Fatal { .. }), "{later}");
}

#[tokio::test]
async fn quit_ends_the_session_with_a_fatal() {
    let router = router().await;
    let client = client(&router).await;
    let error = client.run(&Command::new("/quit")).await.unwrap_err();
    assert!(
        matches!(&error, Error::Fatal { reason } if reason.contains("terminated")),
        "{error}"
    );
    assert!(!client.is_alive());
}

#[tokio::test]
async fn a_dropped_connection_is_reported_and_a_new_connection_works() {
    let router = router().await;
    router.set_faults(Faults {
        drop_after_sentences: Some(3),
        ..Faults::default()
    });
    for i in 0..10 {
        router
            .insert("/ppp/secret", &[("name", &format!("s{i}"))])
            .unwrap();
    }
    let client = client(&router).await;
    let error = menu::PPP_SECRETS
        .print(&client, &Query::new())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::ConnectionLost { .. }), "{error}");
    assert!(!client.is_alive());
    router.set_faults(Faults::default());
    let again = common::client(&router).await;
    assert_eq!(
        menu::PPP_SECRETS
            .print(&again, &Query::new())
            .await
            .unwrap()
            .len(),
        10
    );
}

#[tokio::test]
async fn a_wrong_password_is_refused_with_the_routers_message() {
    let router = router().await;
    let mut config = config(&router);
    config.password = "wrong".into();
    let error = Client::connect(&config).await.unwrap_err();
    assert!(
        matches!(&error, Error::LoginRefused { message } if message.contains("invalid user name or password")),
        "{error}"
    );
}

#[tokio::test]
async fn a_router_refusing_every_login_is_reported_as_a_refused_login() {
    let router = router().await;
    router.set_faults(Faults {
        refuse_login: true,
        ..Faults::default()
    });
    assert!(matches!(
        Client::connect(&config(&router)).await,
        Err(Error::LoginRefused { .. })
    ));
}

#[tokio::test]
async fn the_legacy_challenge_login_works_against_an_old_router() {
    let mut sim = SimConfig::new(USER, PASSWORD, Group::Full);
    sim.login = SimLogin::Legacy;
    let router = router_with(sim).await;
    let auto = Client::connect(&config(&router)).await.unwrap();
    assert_eq!(menu::IDENTITY.get(&auto).await.unwrap().name, "MikroTik");
    let legacy = Client::connect(&config(&router).with_login(LoginMethod::Legacy))
        .await
        .unwrap();
    assert!(legacy.is_alive());
    let mut wrong = config(&router);
    wrong.password = "wrong".into();
    assert!(matches!(
        Client::connect(&wrong).await,
        Err(Error::LoginRefused { .. })
    ));
}

#[tokio::test]
async fn a_read_user_may_print_but_not_write() {
    let router = router_with(SimConfig::new("reader", "pw", Group::Read)).await;
    let client = Client::connect(&routeros::ClientConfig::new(
        router.address().to_string(),
        "reader",
        "pw",
    ))
    .await
    .unwrap();
    assert_eq!(menu::api_user_group(&client).await.unwrap(), "read");
    assert!(
        menu::PPP_SECRETS
            .print(&client, &Query::new())
            .await
            .is_ok()
    );
    let error = menu::PPP_SECRETS
        .add(&client, &Props::new().with("name", "x"))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Trap { message, .. } if message.contains("not enough permissions")),
        "{error}"
    );
    assert!(router.rows("/ppp/secret").unwrap().is_empty());
}

#[tokio::test]
async fn a_write_user_may_configure_but_not_manage_users() {
    let mut sim = SimConfig::new("writer", "pw", Group::Write);
    sim.users.push(SimUser {
        name: "admin".into(),
        password: "adminpw".into(),
        group: Group::Full,
    });
    let router = router_with(sim).await;
    let writer = Client::connect(&routeros::ClientConfig::new(
        router.address().to_string(),
        "writer",
        "pw",
    ))
    .await
    .unwrap();
    assert!(
        menu::PPP_SECRETS
            .add(&writer, &Props::new().with("name", "x"))
            .await
            .is_ok()
    );
    let error = menu::USERS
        .add(
            &writer,
            &Props::new().with("name", "eve").with("group", "full"),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Trap { .. }), "{error}");
    let admin = Client::connect(&routeros::ClientConfig::new(
        router.address().to_string(),
        "admin",
        "adminpw",
    ))
    .await
    .unwrap();
    menu::USERS
        .add(
            &admin,
            &Props::new()
                .with("name", "eve")
                .with("group", "read")
                .with("password", "evepw"),
        )
        .await
        .unwrap();
    let eve = Client::connect(&routeros::ClientConfig::new(
        router.address().to_string(),
        "eve",
        "evepw",
    ))
    .await
    .unwrap();
    assert_eq!(menu::api_user_group(&eve).await.unwrap(), "read");
}

#[tokio::test]
async fn the_state_file_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("router.json");
    let mut sim = SimConfig::new(USER, PASSWORD, Group::Full);
    sim.state_file = Some(path.clone());
    let router = router_with(sim.clone()).await;
    let client = client(&router).await;
    menu::PPP_SECRETS
        .add(
            &client,
            &Props::new()
                .with("name", "kept")
                .with("comment", b"\xe9t\xe9"),
        )
        .await
        .unwrap();
    menu::IDENTITY
        .set(&client, &Props::new().with("name", "rehearsal"))
        .await
        .unwrap();
    client.close().await;
    router.shutdown().await.unwrap();
    let router = router_with(sim).await;
    let client = common::client(&router).await;
    let kept = menu::PPP_SECRETS
        .print_rows(&client, &Query::new().eq("name", "kept"), &["comment"])
        .await
        .unwrap();
    assert_eq!(kept[0].get("comment"), Some(&b"\xe9t\xe9"[..]));
    assert_eq!(menu::IDENTITY.get(&client).await.unwrap().name, "rehearsal");
    let next = menu::PPP_SECRETS
        .add(&client, &Props::new().with("name", "next"))
        .await
        .unwrap();
    assert_eq!(next.as_str(), "*2");
}

#[tokio::test]
async fn connecting_to_a_closed_port_is_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let error = Client::connect(&routeros::ClientConfig::new(
        address.to_string(),
        USER,
        PASSWORD,
    ))
    .await
    .unwrap_err();
    assert!(matches!(error, Error::Connect { .. }), "{error}");
}
