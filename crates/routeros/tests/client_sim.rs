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
