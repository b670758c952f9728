//! The simulated router answers a RouterOS API client lastmile did not write (the
//! `librouteros` Python package, installed by `.ci/run`) as a router would: login, prints
//! with queries and proplists, add, set, remove, typed booleans, and a trap for a menu it does
//! not have. `LASTMILE_TEST_PYTHON` names the Python that has it (default: the virtual
//! environment `.ci/run` makes, `~/.cache/lastmile/python`, else `python3`); a missing
//! package fails the test with how to install it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use routeros::sim::{Group, SimConfig, SimRouter};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn librouteros_drives_the_simulated_router_as_a_router() {
    let sim = SimRouter::start(SimConfig::new("outside", "outside-pass", Group::Full))
        .await
        .unwrap();
    let python = std::env::var("LASTMILE_TEST_PYTHON").unwrap_or_else(|_| {
        let venv = std::env::var("HOME").unwrap_or_default() + "/.cache/lastmile/python/bin/python";
        if std::path::Path::new(&venv).exists() {
            venv
        } else {
            "python3".to_owned()
        }
    });
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/outside/librouteros_client.py"
    );
    let port = sim.address().port().to_string();
    let output = tokio::process::Command::new(&python)
        .args([script, "127.0.0.1", &port, "outside", "outside-pass"])
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{python} {script} failed (is librouteros installed? `{python} -m pip install \
         librouteros`, or run .ci/run): {stderr}"
    );
    let seen: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(seen["identity"][0]["name"], "MikroTik", "{seen}");
    assert!(
        seen["version"][0].as_str().unwrap().starts_with('7'),
        "{seen}"
    );
    let id = seen["added_id"].as_str().unwrap();
    assert!(id.starts_with('*'), "{seen}");
    assert_eq!(seen["found"][0][".id"], id, "{seen}");
    assert_eq!(
        seen["found"][0]["ranges"], "10.77.0.2-10.77.0.254",
        "{seen}"
    );
    assert_eq!(seen["after_update"][0]["ranges"], "10.77.0.0/24", "{seen}");
    assert_eq!(seen["after_remove"], serde_json::json!([]), "{seen}");
    // librouteros turns `true`/`false` into booleans, as a router prints them.
    assert_eq!(
        seen["secrets"],
        serde_json::json!([{"name": "outside-user", "service": "pppoe", "disabled": false}])
    );
    assert!(
        seen["trap"]
            .as_str()
            .is_some_and(|t| t.contains("no such command")),
        "{seen}"
    );
    // What the client wrote is on the router.
    let secrets = sim.rows("/ppp/secret").unwrap();
    assert_eq!(secrets.len(), 1);
    assert_eq!(secrets[0].text("password").as_deref(), Some("outside-pw"));
    assert!(sim.rows("/ip/pool").unwrap().is_empty());
}
