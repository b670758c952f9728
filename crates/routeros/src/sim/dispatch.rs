//! Command execution for the simulated router: splitting a sentence into command word,
//! attributes, queries and tag, checking the user's group, and turning each menu verb
//! (`print`/`getall`, `add`, `set`, `remove`, `enable`, `disable`, `listen`) into replies or
//! into a job the session runs (batched prints, streams).
//!
//! Unknown commands and properties get the traps RouterOS gives. This module never touches
//! the socket.

use super::model::{Model, Trap};
use super::query::Filter;
use super::schema::{Kind, SCHEMAS};
use crate::codec::Sentence;
use crate::sentence::{ItemId, Reply, ReplyKind};
use crate::word::Word;

/// A user group and what it may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    /// Everything, including managing users.
    Full,
    /// Everything but managing users.
    Write,
    /// Printing and listening only.
    Read,
}

impl Group {
    /// Parses `full`, `write` or `read`; any other group gets read rights.
    pub fn parse(name: &str) -> Self {
        match name {
            "full" => Self::Full,
            "write" => Self::Write,
            _ => Self::Read,
        }
    }

    /// The group's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Write => "write",
            Self::Read => "read",
        }
    }
}

/// A received command, taken apart.
#[derive(Debug, Clone, Default)]
pub(crate) struct Request {
    pub command: Vec<u8>,
    pub attrs: Vec<(Vec<u8>, Vec<u8>)>,
    /// Query words without their `?`.
    pub queries: Vec<Vec<u8>>,
    /// The `.tag`, when present and not empty.
    pub tag: Option<Vec<u8>>,
}

impl Request {
    pub fn parse(sentence: Sentence) -> Self {
        let mut request = Self::default();
        let mut words = sentence.words.into_iter();
        request.command = words.next().unwrap_or_default();
        for word in words {
            match Word::parse(&word) {
                Word::Attribute(name, value) => request.attrs.push((name.to_vec(), value.to_vec())),
                Word::Api(b"tag", value) if !value.is_empty() => request.tag = Some(value.to_vec()),
                Word::Query(_) => request.queries.push(word[1..].to_vec()),
                _ => {}
            }
        }
        request
    }

    pub fn attr(&self, name: &[u8]) -> Option<&[u8]> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}

/// Which rows a `print` sends and what follows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Follow {
    /// Print, then `!done`.
    No,
    /// Print, then stream changes until cancelled.
    Yes,
    /// Only stream changes.
    Only,
}

/// A `print` for the session to run in batches.
#[derive(Debug, Clone)]
pub(crate) struct PrintJob {
    pub table: usize,
    pub filter: Filter,
    pub proplist: Option<Vec<Vec<u8>>>,
    pub count_only: bool,
    pub follow: Follow,
}

/// What the session must do for a command.
#[derive(Debug)]
pub(crate) enum Action {
    /// Send these replies (untagged; the session adds the tag), the last being `!done`.
    Reply(Vec<Reply>),
    /// Run a print.
    Print(PrintJob),
}

pub(crate) fn trap_replies(trap: Trap) -> Vec<Reply> {
    let mut reply = Reply::new(ReplyKind::Trap);
    if let Some(category) = trap.category {
        reply.attributes.push("category", category.to_string());
    }
    reply.attributes.push("message", trap.message);
    vec![reply, Reply::new(ReplyKind::Done)]
}

fn done() -> Vec<Reply> {
    vec![Reply::new(ReplyKind::Done)]
}

fn no_such_command(verb: &[u8]) -> Trap {
    Trap::new(
        Some(0),
        format!(
            "no such command or directory ({})",
            String::from_utf8_lossy(verb)
        ),
    )
}

/// Runs a menu command for a logged-in user of `group`.
pub(crate) fn execute(model: &mut Model, group: Group, request: &Request) -> Action {
    match run(model, group, request) {
        Ok(action) => action,
        Err(trap) => Action::Reply(trap_replies(trap)),
    }
}

fn run(model: &mut Model, group: Group, request: &Request) -> Result<Action, Trap> {
    let command = request.command.as_slice();
    let split = command.iter().rposition(|&b| b == b'/').unwrap_or(0);
    let (menu, verb) = (
        &command[..split],
        &command[(split + 1).min(command.len())..],
    );
    let Some(table) = super::schema::find(menu) else {
        return Err(Trap::new(Some(0), "no such command prefix"));
    };
    let schema = &SCHEMAS[table];
    let reads = matches!(verb, b"print" | b"getall" | b"listen");
    if !reads && (group == Group::Read || (schema.full_only && group != Group::Full)) {
        return Err(Trap::new(None, "not enough permissions (9)"));
    }
    match (verb, schema.kind) {
        (b"print" | b"getall", _) => print(table, request).map(Action::Print),
        (b"listen", _) => Ok(Action::Print(PrintJob {
            table,
            filter: Filter::default(),
            proplist: None,
            count_only: false,
            follow: Follow::Only,
        })),
        (b"set", Kind::Singleton) if schema.set => {
            model.set(table, 0, &request.attrs, true)?;
            Ok(Action::Reply(done()))
        }
        (b"add", Kind::List) if schema.add => {
            let id = model.add(table, &request.attrs, true)?;
            let mut reply = Reply::new(ReplyKind::Done);
            reply
                .attributes
                .push("ret", ItemId::from_number(id).as_str());
            Ok(Action::Reply(vec![reply]))
        }
        (b"set" | b"remove" | b"enable" | b"disable", Kind::List)
            if verb == b"remove" || schema.set =>
        {
            let (ids, attrs) = targets(model, table, request)?;
            for id in ids {
                match verb {
                    b"remove" => model.remove(table, id)?,
                    b"set" => model.set(table, id, &attrs, true)?,
                    b"enable" => {
                        model.set(table, id, &[(b"disabled".to_vec(), b"no".to_vec())], true)?
                    }
                    _ => model.set(table, id, &[(b"disabled".to_vec(), b"yes".to_vec())], true)?,
                }
            }
            Ok(Action::Reply(done()))
        }
        _ => Err(no_such_command(verb)),
    }
}

/// The items a `set`/`remove` addresses (`.id` or `numbers`) and the other attributes.
type Targets = (Vec<u64>, Vec<(Vec<u8>, Vec<u8>)>);

fn targets(model: &Model, table: usize, request: &Request) -> Result<Targets, Trap> {
    let spec = request.attr(b".id").or_else(|| request.attr(b"numbers"));
    let spec = spec.ok_or_else(|| Trap::new(Some(1), "missing value(s) of argument(s) .id"))?;
    let ids = model.resolve(table, spec)?;
    let attrs = request
        .attrs
        .iter()
        .filter(|(n, _)| n != b".id" && n != b"numbers")
        .cloned()
        .collect();
    Ok((ids, attrs))
}

fn print(table: usize, request: &Request) -> Result<PrintJob, Trap> {
    let schema = &SCHEMAS[table];
    let mut job = PrintJob {
        table,
        filter: Filter::default(),
        proplist: None,
        count_only: false,
        follow: Follow::No,
    };
    for (name, value) in &request.attrs {
        match name.as_slice() {
            b".proplist" => {
                job.proplist = Some(
                    value
                        .split(|&b| b == b',')
                        .filter(|p| !p.is_empty())
                        .map(<[u8]>::to_vec)
                        .collect(),
                );
            }
            b"count-only" => job.count_only = true,
            b"follow" => job.follow = Follow::Yes,
            b"follow-only" => job.follow = Follow::Only,
            b"detail" | b"without-paging" | b"terse" | b"brief" | b"stats" | b"as-value" => {}
            other => return Err(Trap::unknown_parameter(other)),
        }
    }
    let is_bool = |name: &[u8]| schema.prop(name).is_some_and(|i| schema.props[i].is_bool());
    job.filter = Filter::compile(&request.queries, is_bool)?;
    Ok(job)
}
