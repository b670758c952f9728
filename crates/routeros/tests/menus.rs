//! Typed menu helpers and streams against the simulated router: list and single-item menus,
//! RouterOS defaults, exact byte values, sessions, `listen`/`follow` with cancel, and the
//! state file.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test on error"
)]

mod common;

use common::{PASSWORD, USER, client, router, router_with};
use routeros::menu::{self, Props};
use routeros::sim::{Group, SimConfig};
use routeros::{Command, Error, Query, TrapCategory};

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
async fn print_follow_sends_the_current_rows_then_changes_until_cancelled() {
    let router = router().await;
    router
        .insert(
            "/ip/pool",
            &[("name", "first"), ("ranges", "10.0.0.1-10.0.0.9")],
        )
        .unwrap();
    let client = client(&router).await;
    let mut stream = client
        .stream(&Command::new("/ip/pool/print").attr("follow", ""))
        .await
        .unwrap();
    assert_eq!(
        stream
            .next()
            .await
            .unwrap()
            .unwrap()
            .text("name")
            .as_deref(),
        Some("first")
    );
    menu::IP_POOLS
        .add(
            &client,
            &Props::new()
                .with("name", "second")
                .with("ranges", "10.0.1.1-10.0.1.9"),
        )
        .await
        .unwrap();
    assert_eq!(
        stream
            .next()
            .await
            .unwrap()
            .unwrap()
            .text("name")
            .as_deref(),
        Some("second")
    );
    stream.cancel().await.unwrap();
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn a_trap_inside_a_stream_is_returned_once_then_the_stream_ends() {
    let router = router().await;
    let client = client(&router).await;
    let mut stream = client
        .stream(&Command::new("/ip/pool/print").attr("colour", "blue"))
        .await
        .unwrap();
    let error = stream.next().await.unwrap().unwrap_err();
    assert_eq!(error.trap_category(), Some(TrapCategory::ArgumentValue));
    assert!(stream.next().await.is_none());
}
