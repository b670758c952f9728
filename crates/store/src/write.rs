//! The one write path. Every state change opens a [`Write`], makes its change through the
//! area functions that take `&mut Write`, and commits. In the same transaction go the audit
//! entry (who, what, when, before, after), the `aaa_change` entry when the change alters what
//! the AAA decision says for a subscriber, and the outbox jobs that carry the change's side
//! effects out after commit (design.md §2, §6). A `Write` committed without an audit entry
//! is refused, so a change cannot slip past the audit log.
//!
//! On SQLite the transaction starts `BEGIN IMMEDIATE`, taking the write lock up front, so two
//! writers queue on the busy timeout instead of deadlocking on a lock upgrade. No network
//! call may happen while a `Write` is open.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    DatabaseTransaction, EntityTrait, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use serde_json::Value;

use crate::db::Db;
use crate::entity::{aaa_change, audit_log};
use crate::error::{StoreError, StoreResult};
use crate::job::NewJob;
use domain::ids::{JobId, TenantId, UserId};

/// Who makes a change: a user (with the e-mail it had then and its address), or the system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    /// The user, `None` for the system (jobs, the command line before any account exists).
    pub user_id: Option<UserId>,
    /// How the audit log names the author.
    pub label: String,
    /// The client's address, when the change came over the network.
    pub ip: Option<String>,
}

impl Author {
    /// A signed-in user.
    pub fn user(user_id: UserId, label: impl Into<String>, ip: Option<String>) -> Self {
        Self {
            user_id: Some(user_id),
            label: label.into(),
            ip,
        }
    }

    /// The system itself (`"system:scheduler"`, `"cli"`).
    pub fn system(label: impl Into<String>) -> Self {
        Self {
            user_id: None,
            label: label.into(),
            ip: None,
        }
    }
}

/// One audit entry, written by the area function that makes the change.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// The tenant the change belongs to.
    pub tenant_id: Option<TenantId>,
    /// What was done, `area.verb` (`tenant.create`, `user.disable`).
    pub action: &'static str,
    /// The kind of record (`tenant`, `user`).
    pub entity: &'static str,
    /// The record.
    pub entity_id: Option<i64>,
    /// Its state before (secrets left out), `None` for a creation.
    pub before: Option<Value>,
    /// Its state after (secrets left out), `None` for a deletion.
    pub after: Option<Value>,
}

/// An open write transaction. See the module documentation.
#[derive(Debug)]
pub struct Write {
    tx: DatabaseTransaction,
    keyring: std::sync::Arc<crate::crypto::Keyring>,
    author: Author,
    now: DateTime<Utc>,
    name_rest: chrono::TimeDelta,
    audited: bool,
    /// The change appended to the AAA change log: counted by the database on commit.
    aaa_changed: bool,
    db: Db,
    /// This process's turn to write on SQLite, held until the transaction ends. Declared
    /// last, so dropped after the transaction: it ends before the next writer's turn.
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Db {
    /// Opens a write transaction for `author` at `now` (the time every row of the change
    /// carries).
    pub async fn write(&self, author: Author, now: DateTime<Utc>) -> StoreResult<Write> {
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        let turn = self.write_turn().await?;
        let tx = self.conn().begin_with_options(options).await?;
        Ok(Write {
            tx,
            keyring: self.keyring_arc(),
            author,
            now,
            name_rest: self.name_rest(),
            audited: false,
            aaa_changed: false,
            db: self.clone(),
            _turn: turn,
        })
    }
}

impl Write {
    /// The transaction, for the area functions' statements.
    pub fn tx(&self) -> &DatabaseTransaction {
        &self.tx
    }

    /// The time of the change.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// How long a user name freed by this change rests before another customer may take it.
    pub fn name_rest(&self) -> chrono::TimeDelta {
        self.name_rest
    }

    /// The keyring that seals the secrets the change stores.
    pub fn keyring(&self) -> &crate::crypto::Keyring {
        &self.keyring
    }

    /// The author of the change.
    pub fn author(&self) -> &Author {
        &self.author
    }

    /// Appends the audit entry of the change.
    pub async fn audit(&mut self, entry: AuditEntry) -> StoreResult<()> {
        let row = audit_log::ActiveModel {
            id: NotSet,
            at: Set(self.now),
            tenant_id: Set(entry.tenant_id.map(|t| t.0)),
            actor_id: Set(self.author.user_id.map(|u| u.0)),
            actor_label: Set(self.author.label.clone()),
            action: Set(entry.action.to_owned()),
            entity: Set(entry.entity.to_owned()),
            entity_id: Set(entry.entity_id),
            before: Set(entry.before.map(|v| v.to_string())),
            after: Set(entry.after.map(|v| v.to_string())),
            ip: Set(self.author.ip.clone()),
        };
        audit_log::Entity::insert(row)
            .exec_without_returning(&self.tx)
            .await?;
        self.audited = true;
        Ok(())
    }

    /// Appends the audit entries of a bulk change (one per record), in one statement.
    pub async fn audit_many(&mut self, entries: Vec<AuditEntry>) -> StoreResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let rows: Vec<audit_log::ActiveModel> = entries
            .into_iter()
            .map(|entry| audit_log::ActiveModel {
                id: NotSet,
                at: Set(self.now),
                tenant_id: Set(entry.tenant_id.map(|t| t.0)),
                actor_id: Set(self.author.user_id.map(|u| u.0)),
                actor_label: Set(self.author.label.clone()),
                action: Set(entry.action.to_owned()),
                entity: Set(entry.entity.to_owned()),
                entity_id: Set(entry.entity_id),
                before: Set(entry.before.map(|v| v.to_string())),
                after: Set(entry.after.map(|v| v.to_string())),
                ip: Set(self.author.ip.clone()),
            })
            .collect();
        for chunk in rows.chunks(500) {
            audit_log::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(&self.tx)
                .await?;
        }
        self.audited = true;
        Ok(())
    }

    /// Appends to the AAA change log for many customers of a tenant, in one statement.
    pub async fn aaa_changed_many(
        &mut self,
        tenant_id: TenantId,
        customers: &[i64],
        kind: &str,
    ) -> StoreResult<()> {
        self.aaa_changed = true;
        let rows: Vec<aaa_change::ActiveModel> = customers
            .iter()
            .map(|id| aaa_change::ActiveModel {
                seq: NotSet,
                at: Set(self.now),
                tenant_id: Set(Some(tenant_id.0)),
                customer_id: Set(Some(*id)),
                kind: Set(kind.to_owned()),
            })
            .collect();
        for chunk in rows.chunks(1000) {
            aaa_change::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(&self.tx)
                .await?;
        }
        Ok(())
    }

    /// Appends to the AAA change log: the decision for `customer_id` may have changed.
    pub async fn aaa_changed(
        &mut self,
        tenant_id: Option<TenantId>,
        customer_id: Option<i64>,
        kind: &'static str,
    ) -> StoreResult<()> {
        self.aaa_changed = true;
        let row = aaa_change::ActiveModel {
            seq: NotSet,
            at: Set(self.now),
            tenant_id: Set(tenant_id.map(|t| t.0)),
            customer_id: Set(customer_id),
            kind: Set(kind.to_owned()),
        };
        aaa_change::Entity::insert(row)
            .exec_without_returning(&self.tx)
            .await?;
        Ok(())
    }

    /// Queues a job that runs after commit; `None` when its dedupe key is already queued.
    pub async fn enqueue(&mut self, new: NewJob) -> StoreResult<Option<JobId>> {
        crate::job::insert(&self.tx, new, self.now).await
    }

    /// Commits the change with its audit entry, change log and jobs.
    pub async fn commit(self) -> StoreResult<()> {
        if !self.audited {
            self.tx.rollback().await?;
            return Err(StoreError::Unaudited);
        }
        self.tx.commit().await?;
        if self.aaa_changed {
            self.db.count_aaa_commit();
        }
        Ok(())
    }

    /// Gives the change up.
    pub async fn rollback(self) -> StoreResult<()> {
        self.tx.rollback().await?;
        Ok(())
    }
}
