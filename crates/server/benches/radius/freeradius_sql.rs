//! FreeRADIUS 3.2 with `rlm_sql` on the installation's PostgreSQL database, configured by
//! `lastmile radius freeradius-config` and logged in as the limited role it scripts: the
//! baseline the built-in server is measured against.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use sea_orm::ConnectionTrait as _;

use crate::common::{Install, free_udp_port};
use crate::{SECRET, raddb, wait_answering};

/// FreeRADIUS with the configuration `lastmile radius freeradius-config` writes, on the
/// installation's PostgreSQL database, logged in as the limited role it scripts.
pub struct SqlRadius {
    pub child: Child,
    pub auth: SocketAddr,
    pub acct: SocketAddr,
    role: String,
    url: String,
    _dir: tempfile::TempDir,
}

impl SqlRadius {
    pub async fn start(install: &Install) -> Result<SqlRadius, String> {
        let url = install.database_url();
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let raddb = dir.path().join("raddb");
        let role = format!("lastmile_fr_bench_{}", std::process::id());
        aaa::freeradius::generate(&aaa::freeradius::Options {
            from: aaa::freeradius::DEFAULT_FROM.into(),
            out: raddb.clone(),
            database_url: url.clone(),
            db_login: Some(aaa::freeradius_edit::Login {
                user: role.clone(),
                password: "bench-role-password".into(),
            }),
            client_lifetime: 10,
        })
        .map_err(|e| e.to_string())?;
        let script = std::fs::read_to_string(raddb.join("lastmile-freeradius-role.sql"))
            .map_err(|e| e.to_string())?;
        install
            .connect()
            .await
            .execute_unprepared(&script)
            .await
            .map_err(|e| e.to_string())?;
        for sub in ["log", "run"] {
            std::fs::create_dir_all(dir.path().join(sub)).map_err(|e| e.to_string())?;
        }
        let conf = raddb.join("radiusd.conf");
        let text = std::fs::read_to_string(&conf).map_err(|e| e.to_string())?;
        let text = text
            .replace(
                "logdir = /var/log/freeradius",
                &format!("logdir = {}", dir.path().join("log").display()),
            )
            .replace(
                "run_dir = ${localstatedir}/run/${name}",
                &format!("run_dir = {}", dir.path().join("run").display()),
            );
        std::fs::write(&conf, text).map_err(|e| e.to_string())?;
        let (auth_port, acct_port) = (free_udp_port(), free_udp_port());
        let available = raddb.join("sites-available");
        raddb::replace_listens(
            &raddb.join("sites-enabled/default"),
            &available.join("default"),
            &|kind| match kind {
                "auth" => auth_port,
                "acct" => acct_port,
                _ => 0,
            },
        );
        raddb::replace_listens(
            &raddb.join("sites-enabled/inner-tunnel"),
            &available.join("inner-tunnel"),
            &|_| 0,
        );
        raddb::run(
            Command::new("chown")
                .args(["-R", "freerad:freerad"])
                .arg(dir.path()),
        );
        raddb::run(Command::new("chmod").arg("755").arg(dir.path()));
        let child = Command::new("/usr/sbin/freeradius")
            .arg("-f")
            .arg("-d")
            .arg(&raddb)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("freeradius: {e}"))?;
        let server = SqlRadius {
            child,
            auth: SocketAddr::from(([127, 0, 0, 1], auth_port)),
            acct: SocketAddr::from(([127, 0, 0, 1], acct_port)),
            role,
            url,
            _dir: dir,
        };
        wait_answering(server.auth, "nobody", SECRET).await;
        Ok(server)
    }
}

impl Drop for SqlRadius {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = Command::new("psql")
            .arg(&self.url)
            .args(["-q", "-c"])
            .arg(format!(
                "DROP OWNED BY \"{0}\"; DROP ROLE \"{0}\";",
                self.role
            ))
            .output();
    }
}
