//! The simulated router held to the protocol facts with hand-built sentences, the way other
//! clients send them: untagged and tagged, both query spellings, `getall`, `!empty`, cancel.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test on error"
)]

mod common;

use common::{PASSWORD, Raw, USER, router, router_with};
use routeros::sim::{Group, SimConfig};

#[tokio::test]
async fn untagged_commands_get_untagged_replies() {
    let router = router().await;
    let mut raw = Raw::logged_in(router.address()).await;
    raw.send(&["/system/identity/print"]).await;
    assert_eq!(
        raw.recv_until_done().await,
        [vec!["!re", "=name=MikroTik"], vec!["!done"]]
    );
}

#[tokio::test]
async fn a_tagged_command_gets_every_reply_tagged() {
    let router = router().await;
    router.insert("/ppp/secret", &[("name", "a")]).unwrap();
    router.insert("/ppp/secret", &[("name", "b")]).unwrap();
    let mut raw = Raw::connect(router.address()).await;
    raw.send(&[
        "/login",
        &format!("=name={USER}"),
        &format!("=password={PASSWORD}"),
        ".tag=login",
    ])
    .await;
    assert_eq!(raw.recv().await, ["!done", ".tag=login"]);
    raw.send(&["/ppp/secret/print", "=.proplist=.id,name", ".tag=p1"])
        .await;
    let replies = raw.recv_until_done().await;
    assert_eq!(
        replies,
        [
            vec!["!re", "=.id=*1", "=name=a", ".tag=p1"],
            vec!["!re", "=.id=*2", "=name=b", ".tag=p1"],
            vec!["!done", ".tag=p1"]
        ]
    );
    raw.send(&["/ppp/secret/add", "=name=a", ".tag=dup"]).await;
    let replies = raw.recv_until_done().await;
    assert_eq!(replies[0][0], "!trap");
    assert!(replies[0].contains(&".tag=dup".to_owned()));
    assert_eq!(replies[1], ["!done", ".tag=dup"]);
}

#[tokio::test]
async fn add_returns_the_new_id_in_ret_and_ids_count_up_in_hex() {
    let router = router().await;
    let mut raw = Raw::logged_in(router.address()).await;
    for (i, expected) in (1..=11).zip([
        "*1", "*2", "*3", "*4", "*5", "*6", "*7", "*8", "*9", "*A", "*B",
    ]) {
        raw.send(&[
            "/ip/firewall/filter/add",
            "=chain=forward",
            &format!("=comment=rule {i}"),
        ])
        .await;
        assert_eq!(raw.recv().await, ["!done", &format!("=ret={expected}")]);
    }
}

#[tokio::test]
async fn both_equality_spellings_and_stack_operations_filter_a_print() {
    let router = router().await;
    for (name, profile) in [("a", "gold"), ("b", "silver"), ("c", "bronze")] {
        router
            .insert("/ppp/secret", &[("name", name), ("profile", profile)])
            .unwrap();
    }
    let mut raw = Raw::logged_in(router.address()).await;
    let names = |replies: Vec<Vec<String>>| -> Vec<String> {
        replies
            .into_iter()
            .filter(|s| s[0] == "!re")
            .map(|s| s[1].clone())
            .collect()
    };
    raw.send(&["/ppp/secret/print", "=.proplist=name", "?profile=gold"])
        .await;
    assert_eq!(names(raw.recv_until_done().await), ["=name=a"]);
    raw.send(&["/ppp/secret/print", "=.proplist=name", "?=profile=silver"])
        .await;
    assert_eq!(names(raw.recv_until_done().await), ["=name=b"]);
    raw.send(&[
        "/ppp/secret/print",
        "=.proplist=name",
        "?profile=gold",
        "?profile=silver",
        "?#|!",
    ])
    .await;
    assert_eq!(names(raw.recv_until_done().await), ["=name=c"]);
    raw.send(&["/ppp/secret/getall", "=.proplist=name", "?>name=a"])
        .await;
    assert_eq!(names(raw.recv_until_done().await), ["=name=b", "=name=c"]);
    raw.send(&["/ppp/secret/print", "=count-only="]).await;
    assert_eq!(raw.recv_until_done().await, [vec!["!done", "=ret=3"]]);
}

#[tokio::test]
async fn an_empty_print_is_just_done_unless_empty_replies_are_on() {
    let router = router().await;
    let mut raw = Raw::logged_in(router.address()).await;
    raw.send(&["/ip/pool/print", ".tag=1"]).await;
    assert_eq!(raw.recv_until_done().await, [vec!["!done", ".tag=1"]]);

    let mut config = SimConfig::new(USER, PASSWORD, Group::Full);
    config.empty_replies = true;
    let router = router_with(config).await;
    let mut raw = Raw::logged_in(router.address()).await;
    raw.send(&["/ip/pool/print", ".tag=1"]).await;
    assert_eq!(
        raw.recv_until_done().await,
        [vec!["!empty", ".tag=1"], vec!["!done", ".tag=1"]]
    );
}

#[tokio::test]
async fn cancel_ends_a_listen_with_an_interrupted_trap_then_done() {
    let router = router().await;
    let mut raw = Raw::logged_in(router.address()).await;
    raw.send(&["/ppp/active/listen", ".tag=L"]).await;
    raw.send(&["/system/identity/print", ".tag=sync"]).await;
    raw.recv_until_done().await;
    router
        .add_ppp_session("dave", "10.1.1.1", "AA:AA:AA:AA:AA:AA")
        .unwrap();
    let added = raw.recv().await;
    assert_eq!(
        (added[0].as_str(), added.last().map(String::as_str)),
        ("!re", Some(".tag=L"))
    );
    assert!(added.contains(&"=name=dave".to_owned()));
    raw.send(&["/cancel", "=tag=L", ".tag=C"]).await;
    let mut replies = vec![raw.recv().await, raw.recv().await, raw.recv().await];
    replies.sort();
    assert_eq!(
        replies,
        [
            vec!["!done", ".tag=C"],
            vec!["!done", ".tag=L"],
            vec!["!trap", "=category=2", "=message=interrupted", ".tag=L"]
        ]
    );
}

#[tokio::test]
async fn removed_items_arrive_in_listen_as_dead() {
    let router = router().await;
    let id = router
        .insert(
            "/ip/firewall/nat",
            &[("chain", "dstnat"), ("comment", "vpn")],
        )
        .unwrap();
    let mut raw = Raw::logged_in(router.address()).await;
    raw.send(&["/ip/firewall/nat/listen", ".tag=L"]).await;
    raw.send(&["/ip/firewall/nat/remove", &format!("=.id={id}"), ".tag=R"])
        .await;
    let mut replies = vec![raw.recv().await, raw.recv().await];
    replies.sort();
    assert_eq!(
        replies,
        [
            vec!["!done", ".tag=R"],
            vec!["!re", &format!("=.id={id}"), "=.dead=yes", ".tag=L"]
        ]
    );
}

#[tokio::test]
async fn commands_before_login_end_the_connection() {
    let router = router().await;
    let mut raw = Raw::connect(router.address()).await;
    raw.send(&["/ppp/secret/print"]).await;
    assert_eq!(raw.until_closed().await, [vec!["!fatal", "not logged in"]]);
}

#[tokio::test]
async fn a_failed_login_is_a_trap_then_done_and_may_be_retried() {
    let router = router().await;
    let mut raw = Raw::connect(router.address()).await;
    raw.send(&["/login", "=name=api", "=password=nope"]).await;
    assert_eq!(
        raw.recv_until_done().await,
        [
            vec!["!trap", "=message=invalid user name or password (6)"],
            vec!["!done"]
        ]
    );
    raw.send(&[
        "/login",
        &format!("=name={USER}"),
        &format!("=password={PASSWORD}"),
    ])
    .await;
    assert_eq!(raw.recv().await, ["!done"]);
}

#[tokio::test]
async fn set_and_remove_accept_names_as_well_as_ids() {
    let router = router().await;
    router
        .insert(
            "/ip/pool",
            &[("name", "p1"), ("ranges", "10.0.0.1-10.0.0.9")],
        )
        .unwrap();
    let mut raw = Raw::logged_in(router.address()).await;
    raw.send(&["/ip/pool/set", "=numbers=p1", "=ranges=10.0.0.1-10.0.0.99"])
        .await;
    assert_eq!(raw.recv().await, ["!done"]);
    raw.send(&["/ip/pool/print", "=.proplist=ranges"]).await;
    assert_eq!(
        raw.recv_until_done().await[0],
        ["!re", "=ranges=10.0.0.1-10.0.0.99"]
    );
    raw.send(&["/ip/pool/remove", "=.id=*99"]).await;
    assert_eq!(
        raw.recv_until_done().await,
        [
            vec!["!trap", "=category=0", "=message=no such item"],
            vec!["!done"]
        ]
    );
}
