//! The `job` table: the outbox and the background work queue, and the statuses a job
//! passes through.

use sea_orm::entity::prelude::*;

use super::code::Stored;
use domain::code::Code;

/// A job. `payload`, `progress` and `result` are JSON text.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub status: Stored<JobStatus>,
    pub run_at: DateTimeUtc,
    pub attempts: i32,
    pub max_attempts: i32,
    pub locked_by: Option<String>,
    pub locked_until: Option<DateTimeUtc>,
    pub dedupe_key: Option<String>,
    pub progress: Option<String>,
    pub result: Option<String>,
    pub last_error: Option<String>,
    pub tenant_id: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

/// A job's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Waiting for its time or a worker.
    Queued,
    /// Claimed by a worker.
    Running,
    /// Finished.
    Done,
    /// Gave up after its last attempt.
    Failed,
}

impl JobStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Queued, Self::Running, Self::Done, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == text.trim())
    }

    /// True once the job will not run again.
    pub fn finished(self) -> bool {
        matches!(self, Self::Done | Self::Failed)
    }
}

impl Code for JobStatus {
    const SET: &'static str = "job status";

    fn code(self) -> &'static str {
        self.as_str()
    }

    fn from_code(text: &str) -> Option<Self> {
        Self::parse(text)
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
