//! Customer imports and the jobs behind wide changes, through the API: a CSV import
//! reports bad rows and creates the good ones, imports are jobs the caller's scope lists
//! with their progress, and a change reaching many customers converges their FreeRADIUS
//! rows through a job.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::Backend;
use support::customers::{has, import, isp, rows, wait_for_job};
use support::spawn;

async fn a_csv_import_reports_bad_rows_and_creates_the_good_ones(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let csv = format!(
        "username,password,name,mobile,connection_type,package,status,expires_at,mac,owner\n\
         imp1,pass-one,Imported One,01710000001,pppoe,{pppoe},active,2030-01-31,,\n\
         imp2,pass-two,Imported Two,01710000002,pppoe,Home,suspended,,aa:bb:cc:dd:ee:01,\n\
         bad user,pass,No Good,notaphone,pppoe,{pppoe},sleeping,yesterday,zz,\n\
         imp1,pass-dup,Duplicate,,pppoe,{pppoe},,,,\n\
         imp3,pass-three,Of The Operator,,pppoe,Op home,,,,op@c.example\n\
         imp4,pass-four,Wrong Type,,hotspot,{pppoe},,,,\n",
        pppoe = isp.pppoe
    );
    let tenant = format!("tenant_id={}", isp.tenant);
    let (_, dry) = import(
        &app,
        &isp.dev,
        &format!("{tenant}&dry_run=true"),
        csv.clone().into(),
    )
    .await;
    assert_eq!(
        (dry["rows"].as_i64(), dry["created"].as_i64()),
        (Some(6), Some(0))
    );
    assert_eq!(app.count("customer").await, 0);
    let (status, report) = import(&app, &isp.dev, &tenant, csv.clone().into()).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(report["created"], 3, "{report}");
    let lines: std::collections::BTreeSet<i64> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines.into_iter().collect::<Vec<_>>(), [4, 5, 7], "{report}");
    let bad_fields: Vec<&str> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["line"] == 4)
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for field in ["username", "mobile", "status", "expires_at", "mac"] {
        assert!(bad_fields.contains(&field), "{field} in {bad_fields:?}");
    }
    assert!(
        report["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty())),
        "every refused row says why: {report}"
    );
    // Every created row has its projection.
    let (_, list) = app.get("/api/v1/customers?q=imp", &isp.dev).await;
    for c in list["items"].as_array().unwrap() {
        let (names, check, _) = rows(&app, c["id"].as_i64().unwrap()).await;
        assert_eq!(names, [c["username"].as_str().unwrap()]);
        assert!(check.iter().any(|r| r.starts_with("Cleartext-Password")));
    }
    let imp3 = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["username"] == "imp3")
        .unwrap();
    assert_eq!(imp3["operator_id"], isp.op);
    // The same file again is refused as a duplicate, naming the job that took it.
    let (status, refused) = import(&app, &isp.dev, &tenant, csv.clone().into()).await;
    assert_eq!(
        (status, refused["error"]["fields"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("duplicate_import")),
        "{refused}"
    );
    // Broken files: all or nothing, a bad encoding, an unknown column.
    let (_, all_or_nothing) = import(
        &app,
        &isp.dev,
        &format!("{tenant}&all_or_nothing=true"),
        csv.replace("imp1,", "imp9,")
            .replace("imp2,", "imp8,")
            .replace("imp3,", "imp7,")
            .into(),
    )
    .await;
    assert_eq!(all_or_nothing["created"], 0);
    let mut latin1 = b"username,name,connection_type,package\nlatin,Jos".to_vec();
    latin1.extend_from_slice(&[0xE9]);
    latin1.extend_from_slice(format!(",pppoe,{}\n", isp.pppoe).as_bytes());
    let (_, report) = import(&app, &isp.dev, &tenant, latin1).await;
    assert_eq!(
        (
            report["errors"][0]["code"].as_str(),
            report["created"].as_i64()
        ),
        (Some("not_utf8"), Some(0)),
        "{report}"
    );
    let (status, _) = import(&app, &isp.dev, &tenant, b"name,colour\nx,blue\n".to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("customer").await, 3);
}

async fn imports_are_jobs_the_callers_scope_lists_with_their_progress(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let tenant = format!("tenant_id={}", isp.tenant);
    let mut csv = String::from("username,password,name,connection_type,package\n");
    for n in 0..2500 {
        csv.push_str(&format!(
            "bulk{n},pass-{n:05},Bulk {n},pppoe,{}\n",
            isp.pppoe
        ));
    }
    // A file over a MiB passes with an Idempotency-Key, and a retry with the key replays
    // the answer instead of refusing a duplicate.
    let padded = format!("{csv}{}", "\n".repeat(1024 * 1024));
    let send = || {
        app.http
            .post(format!("{}/api/v1/customers/import?{tenant}", app.base))
            .bearer_auth(&isp.dev)
            .header("idempotency-key", "bulk-1")
            .body(padded.clone())
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let first: Value = first.json().await.unwrap();
    let again = send().await.unwrap();
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let job = wait_for_job(&app, &isp.dev, first["id"].as_i64().unwrap()).await;
    assert_eq!(job["result"]["created"], 2500, "{job}");
    assert_eq!(
        job["progress"],
        json!({"done": 2500, "total": 2500}),
        "{job}"
    );
    // Listed for the tenant's staff, not for another tenant's.
    let admin = app
        .user(&isp.dev, json!({"email": "admin@c.example", "name": "A", "role": "admin", "tenant_id": isp.tenant}))
        .await;
    assert!(admin > 0);
    let admin = app.login("admin@c.example", support::PASSWORD).await;
    let (_, jobs) = app.get("/api/v1/jobs?kind=customer.import", &admin).await;
    assert_eq!(jobs["items"][0]["id"], first["id"], "{jobs}");
    let (_, other) = app
        .post("/api/v1/tenants", &isp.dev, json!({"name": "Other ISP", "country": "BD", "currency": "BDT", "time_zone": "Asia/Dhaka"}))
        .await;
    app.user(
        &isp.dev,
        json!({"email": "other@c.example", "name": "O", "role": "admin", "tenant_id": other["id"]}),
    )
    .await;
    let stranger = app.login("other@c.example", support::PASSWORD).await;
    let (_, none) = app.get("/api/v1/jobs", &stranger).await;
    assert_eq!(none["items"], json!([]), "{none}");
    let (status, _) = app
        .get(&format!("/api/v1/jobs/{}", first["id"]), &stranger)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// A change that reaches more customers than a transaction should rewrite commits at once
/// and queues a job that converges their rows in batches: the job is the tenant's, its
/// progress counts customers, and FreeRADIUS's rows agree with the change when it is done.
async fn a_wide_package_change_commits_first_and_converges_through_a_job(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let wide = store::customer::INLINE_REWRITE as usize + 100;
    let mut csv = String::from("username,password,name,connection_type,package\n");
    for n in 0..wide {
        csv.push_str(&format!(
            "wide{n:05},pass-{n},Wide {n},pppoe,{}\n",
            isp.pppoe
        ));
    }
    let (_, report) = import(
        &app,
        &isp.dev,
        &format!("tenant_id={}", isp.tenant),
        csv.into(),
    )
    .await;
    assert_eq!(report["created"].as_u64(), Some(wide as u64), "{report}");
    let (status, changed) = app
        .patch(&format!("/api/v1/packages/{}", isp.pppoe), &isp.dev, json!({"connection_type": "pppoe", "download_kbps": 30000, "upload_kbps": 6000, "validity_days": 30, "ip_pool_id": isp.home, "version": 1}))
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    // A customer change while the rows converge takes its turn between two batches.
    let (_, first) = app.get("/api/v1/customers?q=wide00000", &isp.dev).await;
    let first = &first["items"][0];
    let (status, answer) = app
        .patch(
            &format!("/api/v1/customers/{}", first["id"]),
            &isp.dev,
            json!({"password": "meanwhile-1", "version": first["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (_, jobs) = app.get("/api/v1/jobs?kind=radius.converge", &isp.dev).await;
    let job = &jobs["items"][0];
    assert_eq!(job["tenant_id"], isp.tenant, "{jobs}");
    let job = wait_for_job(&app, &isp.dev, job["id"].as_i64().unwrap()).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(
        job["result"]["customers"].as_u64(),
        Some(wide as u64),
        "{job}"
    );
    assert_eq!(job["progress"]["done"], job["progress"]["total"], "{job}");
    let (_, last) = app
        .get(
            &format!("/api/v1/customers?q=wide{:05}", wide - 1),
            &isp.dev,
        )
        .await;
    let (_, _, reply) = rows(&app, last["items"][0]["id"].as_i64().unwrap()).await;
    assert!(has(&reply, "Mikrotik-Rate-Limit := 6M/30M"), "{reply:?}");
    let report = aaa::verify::verify(&app.state.db, false, app.clock().now())
        .await
        .unwrap();
    assert!(report.clean(), "{report:?}");
}

both_backends!(
    a_csv_import_reports_bad_rows_and_creates_the_good_ones,
    imports_are_jobs_the_callers_scope_lists_with_their_progress,
    a_wide_package_change_commits_first_and_converges_through_a_job,
);
