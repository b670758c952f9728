//! Streaming commands (`listen`, `print =follow=`): rows arrive until the command is
//! cancelled with `/cancel =tag=…`, after which the router sends `!trap` category 2 and
//! `!done`. Dropping an unfinished stream cancels it in the background.

use tokio::sync::mpsc;

use super::{Client, trap_error};
use crate::error::Error;
use crate::sentence::{Command, Reply, ReplyKind, Row, TrapCategory};

/// The replies of one streaming command.
#[derive(Debug)]
pub struct ReplyStream {
    client: Client,
    tag: u64,
    receiver: mpsc::Receiver<Reply>,
    command: Command,
    finished: bool,
    cancelled: bool,
    trap: Option<Error>,
}

impl ReplyStream {
    pub(super) fn new(
        client: Client,
        tag: u64,
        receiver: mpsc::Receiver<Reply>,
        path: String,
    ) -> Self {
        Self {
            client,
            tag,
            receiver,
            command: Command::new(&path),
            finished: false,
            cancelled: false,
            trap: None,
        }
    }

    /// The tag the command runs under.
    pub fn tag(&self) -> u64 {
        self.tag
    }

    /// The next row; `None` once the command finished (or was cancelled by us). A trap the
    /// router sends (other than our own cancellation) is returned once, then `None`.
    pub async fn next(&mut self) -> Option<Result<Row, Error>> {
        loop {
            if self.finished {
                return self.trap.take().map(Err);
            }
            let Some(reply) = self.receiver.recv().await else {
                self.finished = true;
                return Some(Err(self.client.lost()));
            };
            if let Some(row) = self.absorb(reply) {
                return Some(Ok(row));
            }
        }
    }

    /// Handles one reply; returns the row of an `!re`.
    fn absorb(&mut self, reply: Reply) -> Option<Row> {
        match reply.kind {
            ReplyKind::Re => return Some(reply.attributes),
            ReplyKind::Empty => {}
            ReplyKind::Trap => {
                let ours = self.cancelled && reply.category() == Some(TrapCategory::Interrupted);
                if !ours && self.trap.is_none() {
                    self.trap = Some(trap_error(&self.command, &reply));
                }
            }
            ReplyKind::Done => {
                self.finished = true;
                self.client.inner.conn.unregister(self.tag);
            }
            ReplyKind::Fatal => {
                self.finished = true;
                self.trap = Some(Error::Fatal {
                    reason: reply.message(),
                });
            }
        }
        None
    }

    /// Cancels the command on the router and waits until it has ended. Rows still in flight
    /// are discarded.
    pub async fn cancel(&mut self) -> Result<(), Error> {
        if self.finished {
            return Ok(());
        }
        self.cancelled = true;
        let cancel = Command::new("/cancel").attr("tag", self.tag.to_string());
        let client = self.client.clone();
        let timeout = client.inner.command_timeout;
        let request = client.run(&cancel);
        tokio::pin!(request);
        let mut answered = false;
        // Keep draining our replies while `/cancel` runs, so a full channel cannot stall the
        // reader that must deliver `/cancel`'s `!done`.
        let work = async {
            while !answered || !self.finished {
                tokio::select! {
                    result = &mut request, if !answered => {
                        result?;
                        answered = true;
                    }
                    reply = self.receiver.recv(), if !self.finished => match reply {
                        Some(reply) => { self.absorb(reply); }
                        None => {
                            self.finished = true;
                            return Err(self.client.lost());
                        }
                    },
                }
            }
            Ok(())
        };
        tokio::time::timeout(timeout, work)
            .await
            .unwrap_or_else(|_| {
                Err(Error::Timeout {
                    command: "/cancel".to_owned(),
                    after: timeout,
                })
            })
    }
}

impl Drop for ReplyStream {
    fn drop(&mut self) {
        if !self.finished {
            self.client.inner.conn.unregister(self.tag);
            if self.client.is_alive() {
                self.client.cancel_in_background(self.tag);
            }
        }
    }
}
