//! The accounting journal (aaa-design.md §4.2, PostgreSQL mode): an append-only log on
//! the node's own disk that makes a batch of accounting records durable with one
//! `fdatasync`, so that routers are acknowledged without waiting for the database, which
//! is then written behind (`accounting::Writer`) and may lag, or be down, for a while.
//!
//! The journal is a directory of segments (`NNNNNNNNNNNNNNNNNNNN.seg`, numbered up from
//! 1, each ending past [`SEGMENT_BYTES`]) and a checkpoint (`applied`: the position up to
//! which the database holds every record). Each batch is one entry: its payload's length
//! and CRC-32, then the payload (the records, in a fixed binary layout). A crash may leave
//! the last entry torn; it was never acknowledged (acknowledgement waits for the sync), so
//! reading stops there. The database is written from the files, by a [`Reader`] that
//! follows the appends from the checkpoint on: at start it first reads what was there
//! before; records never wait in memory, however far the database is behind. New entries
//! go to a new segment at each start. A directory is one node's: it is locked while open,
//! and a second process is refused.
//!
//! Replaying a record the database already holds changes nothing (`store::accounting`
//! writes counters that only grow and never reopens a stopped session), so the
//! checkpoint need not be synced at every step: it is synced before a segment it covers is
//! deleted.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chrono::DateTime;
use store::accounting::{AcctKind, AcctRecord};

/// A segment is closed and a new one begun once it holds this many bytes.
pub const SEGMENT_BYTES: u64 = 64 << 20;

/// An entry's header: the payload's length and its CRC-32, little-endian.
const HEADER: usize = 8;

/// The largest payload accepted when reading (a batch is far smaller; a bigger length is
/// a torn or foreign header).
const MAX_PAYLOAD: usize = 16 << 20;

/// A place in the journal: a segment and a byte offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Position {
    /// The segment's number.
    pub segment: u64,
    /// Bytes into the segment.
    pub offset: u64,
}

/// Why the journal could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// A file of the journal could not be read or written.
    #[error("accounting journal {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// Another process holds the directory.
    #[error(
        "accounting journal {0} is in use by another lastmile process (each node needs a directory of its own)"
    )]
    InUse(PathBuf),
    /// A record could not be laid out (a field longer than the layout allows).
    #[error("accounting record too large for the journal: {0}")]
    TooLarge(&'static str),
    /// An entry that was written whole does not read back.
    #[error("accounting journal {path}: the entry at byte {offset} is damaged")]
    Damaged {
        /// The segment.
        path: PathBuf,
        /// Where the entry begins.
        offset: u64,
    },
}

fn at(path: &Path) -> impl FnOnce(io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.to_owned(),
        source,
    }
}

/// An open journal: appends to its newest segment.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    /// Held (locked) while the journal is open.
    _lock: File,
    file: File,
    segment: u64,
    len: u64,
}

impl Journal {
    /// Opens (or creates) the journal in `dir` and locks it. Returns it with a reader at
    /// the checkpoint, which reads what the journal held before (up to [`Journal::end`])
    /// and then what is appended. Entries go to a new segment from here on.
    pub fn open(dir: &Path) -> Result<(Journal, Reader), JournalError> {
        fs::create_dir_all(dir).map_err(at(dir))?;
        let lock_path = dir.join("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(at(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(JournalError::InUse(dir.to_owned())),
            Err(fs::TryLockError::Error(e)) => return Err(at(&lock_path)(e)),
        }
        let applied = read_checkpoint(dir)?;
        let segments = segments(dir)?;
        // How far each segment from the checkpoint on reads whole.
        let mut ends = BTreeMap::new();
        for &segment in segments.iter().filter(|&&s| s >= applied.segment) {
            let path = segment_path(dir, segment);
            let bytes = fs::read(&path).map_err(at(&path))?;
            let valid = valid_length(&bytes);
            if valid < bytes.len() as u64 {
                tracing::warn!(
                    segment = %path.display(),
                    kept = valid,
                    dropped = bytes.len() as u64 - valid,
                    "accounting journal: a torn or damaged entry ends this segment; what follows it was never acknowledged"
                );
            }
            ends.insert(segment, valid);
        }
        let segment = segments.last().map_or(1, |last| last + 1);
        let (file, len) = create_segment(dir, segment)?;
        let journal = Journal {
            dir: dir.to_owned(),
            _lock: lock,
            file,
            segment,
            len,
        };
        let reader = Reader {
            dir: dir.to_owned(),
            at: applied,
            ends,
            file: None,
        };
        Ok((journal, reader))
    }

    /// Where the next entry goes.
    pub fn end(&self) -> Position {
        Position {
            segment: self.segment,
            offset: self.len,
        }
    }

    /// Appends one entry holding `records` and syncs it to disk; returns the position
    /// past it and the entry's size. Once this returns the records survive a crash.
    pub fn append(&mut self, records: &[AcctRecord]) -> Result<(Position, u64), JournalError> {
        let entry = encode_entry(records)?;
        if self.len >= SEGMENT_BYTES {
            let (file, len) = create_segment(&self.dir, self.segment + 1)?;
            self.file = file;
            self.segment += 1;
            self.len = len;
        }
        let path = segment_path(&self.dir, self.segment);
        self.file.write_all(&entry).map_err(at(&path))?;
        self.file.sync_data().map_err(at(&path))?;
        self.len += entry.len() as u64;
        Ok((
            Position {
                segment: self.segment,
                offset: self.len,
            },
            entry.len() as u64,
        ))
    }
}

/// Reads the journal's entries in order, from the checkpoint on.
#[derive(Debug)]
pub struct Reader {
    dir: PathBuf,
    /// The next entry's place.
    at: Position,
    /// The readable length of each segment that was there at open (a torn tail left
    /// out); a segment written since reads to its end.
    ends: BTreeMap<u64, u64>,
    /// The open segment, positioned at `at`.
    file: Option<BufReader<File>>,
}

impl Reader {
    /// The next entry's place: past every entry read.
    pub fn position(&self) -> Position {
        self.at
    }

    /// Reads the entries from the reader's place up to `upto` (where the writer's next
    /// entry goes), whole entries up to `max_records` records (at least one entry when
    /// there is one). Returns the records and the entries' size in bytes. Stops at an
    /// entry it cannot read, returning what it read before it; an error when that entry
    /// is the first.
    pub fn read(
        &mut self,
        upto: Position,
        max_records: usize,
    ) -> Result<(Vec<AcctRecord>, u64), JournalError> {
        let mut records = Vec::new();
        let mut bytes = 0;
        while self.at < upto && records.len() < max_records {
            let segment_end = if self.at.segment == upto.segment {
                upto.offset
            } else {
                self.ends.get(&self.at.segment).copied().unwrap_or(u64::MAX)
            };
            if self.at.offset >= segment_end {
                self.next_segment();
                continue;
            }
            match self.entry() {
                Ok(Some((entry, size))) => {
                    records.extend(entry);
                    bytes += size;
                    self.at.offset += size;
                }
                // The end of a segment the writer has left.
                Ok(None) => self.next_segment(),
                Err(err) if records.is_empty() => {
                    self.file = None;
                    return Err(err);
                }
                Err(_) => {
                    self.file = None;
                    break;
                }
            }
        }
        Ok((records, bytes))
    }

    fn next_segment(&mut self) {
        let next = self
            .ends
            .range(self.at.segment + 1..)
            .next()
            .map_or(self.at.segment + 1, |(s, _)| *s);
        self.at = Position {
            segment: next,
            offset: 0,
        };
        self.file = None;
    }

    /// The entry at `at` and its size; None at the end of the segment's file.
    fn entry(&mut self) -> Result<Option<(Vec<AcctRecord>, u64)>, JournalError> {
        let path = segment_path(&self.dir, self.at.segment);
        let file = match &mut self.file {
            Some(file) => file,
            None => {
                let mut file = match File::open(&path) {
                    Ok(file) => file,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(at(&path)(e)),
                };
                file.seek(SeekFrom::Start(self.at.offset))
                    .map_err(at(&path))?;
                self.file.insert(BufReader::with_capacity(1 << 20, file))
            }
        };
        let mut header = [0u8; HEADER];
        match file.read_exact(&mut header) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                self.file = None;
                return Ok(None);
            }
            Err(e) => return Err(at(&path)(e)),
        }
        let damaged = || JournalError::Damaged {
            path: path.clone(),
            offset: self.at.offset,
        };
        let (len, crc) = split_header(header);
        if len > MAX_PAYLOAD {
            return Err(damaged());
        }
        let mut payload = vec![0u8; len];
        file.read_exact(&mut payload).map_err(at(&path))?;
        if crc32fast::hash(&payload) != crc {
            return Err(damaged());
        }
        let records = decode_records(&payload).ok_or_else(damaged)?;
        Ok(Some((records, (HEADER + len) as u64)))
    }
}

/// Records that every entry up to `applied` is in the database, and deletes the segments
/// wholly before it (syncing the checkpoint first, so that no deleted record is ever
/// needed by a replay).
pub fn checkpoint(dir: &Path, applied: Position) -> Result<(), JournalError> {
    let old: Vec<u64> = segments(dir)?
        .into_iter()
        .filter(|&s| s < applied.segment)
        .collect();
    let tmp = dir.join("applied.tmp");
    let mut file = File::create(&tmp).map_err(at(&tmp))?;
    writeln!(file, "{} {}", applied.segment, applied.offset).map_err(at(&tmp))?;
    if !old.is_empty() {
        file.sync_data().map_err(at(&tmp))?;
    }
    drop(file);
    let path = dir.join("applied");
    fs::rename(&tmp, &path).map_err(at(&path))?;
    if !old.is_empty() {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(at(dir))?;
        for segment in old {
            let path = segment_path(dir, segment);
            fs::remove_file(&path).map_err(at(&path))?;
        }
    }
    Ok(())
}

fn segment_path(dir: &Path, segment: u64) -> PathBuf {
    dir.join(format!("{segment:020}.seg"))
}

/// The segments in `dir`, oldest first.
fn segments(dir: &Path) -> Result<Vec<u64>, JournalError> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).map_err(at(dir))? {
        let entry = entry.map_err(at(dir))?;
        let name = entry.file_name();
        if let Some(number) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".seg"))
            .and_then(|n| n.parse::<u64>().ok())
        {
            found.push(number);
        }
    }
    found.sort_unstable();
    Ok(found)
}

fn create_segment(dir: &Path, segment: u64) -> Result<(File, u64), JournalError> {
    let path = segment_path(dir, segment);
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(at(&path))?;
    let len = file.metadata().map_err(at(&path))?.len();
    // The new name must survive a crash along with the entries written to it.
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(at(dir))?;
    Ok((file, len))
}

/// The checkpoint; the journal's start when there is none (or it cannot be parsed:
/// replaying from the start is safe).
fn read_checkpoint(dir: &Path) -> Result<Position, JournalError> {
    let path = dir.join("applied");
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Position::default()),
        Err(e) => return Err(at(&path)(e)),
    };
    let mut parts = text.split_whitespace().map(str::parse::<u64>);
    match (parts.next(), parts.next()) {
        (Some(Ok(segment)), Some(Ok(offset))) => Ok(Position { segment, offset }),
        _ => {
            tracing::warn!(path = %path.display(), "accounting journal: checkpoint unreadable; replaying every segment");
            Ok(Position::default())
        }
    }
}

fn split_header(header: [u8; HEADER]) -> (usize, u32) {
    let [a, b, c, d, e, f, g, h] = header;
    (
        u32::from_le_bytes([a, b, c, d]) as usize,
        u32::from_le_bytes([e, f, g, h]),
    )
}

/// How much of a segment reads as whole entries (where a torn or damaged one begins).
fn valid_length(bytes: &[u8]) -> u64 {
    let mut offset = 0;
    while let Some(header) = bytes.get(offset..offset + HEADER) {
        let mut fixed = [0u8; HEADER];
        fixed.copy_from_slice(header);
        let (len, crc) = split_header(fixed);
        let whole = len <= MAX_PAYLOAD
            && bytes
                .get(offset + HEADER..offset + HEADER + len)
                .is_some_and(|payload| {
                    crc32fast::hash(payload) == crc && decode_records(payload).is_some()
                });
        if !whole {
            break;
        }
        offset += HEADER + len;
    }
    offset as u64
}

fn encode_entry(records: &[AcctRecord]) -> Result<Vec<u8>, JournalError> {
    let mut payload = Vec::with_capacity(records.len() * 256);
    let count = u32::try_from(records.len()).map_err(|_| JournalError::TooLarge("batch"))?;
    payload.extend_from_slice(&count.to_le_bytes());
    for r in records {
        encode_record(&mut payload, r)?;
    }
    let len = u32::try_from(payload.len()).map_err(|_| JournalError::TooLarge("batch"))?;
    let mut entry = Vec::with_capacity(HEADER + payload.len());
    entry.extend_from_slice(&len.to_le_bytes());
    entry.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    entry.extend_from_slice(&payload);
    Ok(entry)
}

fn kind_code(kind: AcctKind) -> u8 {
    match kind {
        AcctKind::Start => 1,
        AcctKind::Interim => 2,
        AcctKind::Stop => 3,
        AcctKind::On => 4,
        AcctKind::Off => 5,
    }
}

fn kind_of(code: u8) -> Option<AcctKind> {
    Some(match code {
        1 => AcctKind::Start,
        2 => AcctKind::Interim,
        3 => AcctKind::Stop,
        4 => AcctKind::On,
        5 => AcctKind::Off,
        _ => return None,
    })
}

fn encode_record(out: &mut Vec<u8>, r: &AcctRecord) -> Result<(), JournalError> {
    out.push(kind_code(r.kind));
    out.extend_from_slice(&r.at.timestamp_micros().to_le_bytes());
    for text in [
        &r.nas_ip,
        &r.session_id,
        &r.unique_id,
        &r.username,
        &r.nas_port_id,
        &r.nas_port_type,
        &r.called_station,
        &r.calling_station,
        &r.framed_ip,
        &r.terminate_cause,
    ] {
        let len = u16::try_from(text.len()).map_err(|_| JournalError::TooLarge("text field"))?;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(text.as_bytes());
    }
    for number in [r.session_time, r.tenant_id, r.customer_id] {
        match number {
            Some(n) => {
                out.push(1);
                out.extend_from_slice(&n.to_le_bytes());
            }
            None => out.push(0),
        }
    }
    out.extend_from_slice(&r.input_octets.to_le_bytes());
    out.extend_from_slice(&r.output_octets.to_le_bytes());
    Ok(())
}

/// Reads the layout `encode_entry` writes; `None` on anything else.
fn decode_records(payload: &[u8]) -> Option<Vec<AcctRecord>> {
    let mut input = Bytes(payload);
    let count = u32::from_le_bytes(input.array()?) as usize;
    // Each record takes at least 48 bytes: a count beyond that is not this layout.
    if count > payload.len() / 48 {
        return None;
    }
    let mut records = Vec::with_capacity(count);
    for _ in 0..count {
        let kind = kind_of(input.array::<1>()?[0])?;
        let at = DateTime::from_timestamp_micros(i64::from_le_bytes(input.array()?))?;
        let mut texts: [String; 10] = Default::default();
        for text in &mut texts {
            let len = u16::from_le_bytes(input.array()?) as usize;
            *text = String::from_utf8(input.take(len)?.to_vec()).ok()?;
        }
        let mut numbers = [None; 3];
        for number in &mut numbers {
            *number = match input.array::<1>()?[0] {
                0 => None,
                1 => Some(i64::from_le_bytes(input.array()?)),
                _ => return None,
            };
        }
        let input_octets = i64::from_le_bytes(input.array()?);
        let output_octets = i64::from_le_bytes(input.array()?);
        let [
            nas_ip,
            session_id,
            unique_id,
            username,
            nas_port_id,
            nas_port_type,
            called_station,
            calling_station,
            framed_ip,
            terminate_cause,
        ] = texts;
        let [session_time, tenant_id, customer_id] = numbers;
        records.push(AcctRecord {
            kind,
            at,
            nas_ip,
            session_id,
            unique_id,
            username,
            nas_port_id,
            nas_port_type,
            session_time,
            input_octets,
            output_octets,
            called_station,
            calling_station,
            framed_ip,
            terminate_cause,
            tenant_id,
            customer_id,
        });
    }
    input.0.is_empty().then_some(records)
}

struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: u32, kind: AcctKind) -> AcctRecord {
        AcctRecord {
            kind,
            at: DateTime::from_timestamp_micros(1_780_000_000_123_456 + i64::from(n)).unwrap(),
            nas_ip: "10.0.0.1".to_owned(),
            session_id: format!("8100{n:04x}"),
            unique_id: format!("{n:032x}"),
            username: format!("user-ü-{n}"),
            nas_port_id: "pppoe-1".to_owned(),
            nas_port_type: "Ethernet".to_owned(),
            session_time: n.is_multiple_of(2).then_some(i64::from(n) * 60),
            input_octets: i64::from(n) << 33,
            output_octets: i64::MAX - i64::from(n),
            called_station: "pppoe-srv".to_owned(),
            calling_station: "AA:BB:CC:DD:EE:FF".to_owned(),
            framed_ip: if n.is_multiple_of(3) {
                String::new()
            } else {
                "100.64.0.9".to_owned()
            },
            terminate_cause: String::new(),
            tenant_id: (!n.is_multiple_of(5)).then_some(7),
            customer_id: (!n.is_multiple_of(5)).then_some(i64::from(n) + 100),
        }
    }

    fn batch(from: u32, to: u32) -> Vec<AcctRecord> {
        let kinds = [
            AcctKind::Start,
            AcctKind::Interim,
            AcctKind::Stop,
            AcctKind::On,
            AcctKind::Off,
        ];
        (from..to)
            .map(|n| record(n, kinds[n as usize % 5]))
            .collect()
    }

    /// Opens the journal and reads everything it holds past its checkpoint.
    fn reopen(dir: &Path) -> (Journal, Reader, Vec<AcctRecord>) {
        let (journal, mut reader) = Journal::open(dir).unwrap();
        let (records, _) = reader.read(journal.end(), usize::MAX).unwrap();
        assert_eq!(reader.position(), journal.end());
        (journal, reader, records)
    }

    #[test]
    fn entries_read_back_as_written_until_the_checkpoint_moves() {
        let dir = tempfile::tempdir().unwrap();
        let (mut journal, _, read) = reopen(dir.path());
        assert!(read.is_empty());
        let (first, _) = journal.append(&batch(0, 40)).unwrap();
        let (second, _) = journal.append(&batch(40, 41)).unwrap();
        assert!(second > first);
        drop(journal);

        let (journal, _, read) = reopen(dir.path());
        assert_eq!(read, batch(0, 41));
        drop(journal);

        checkpoint(dir.path(), first).unwrap();
        let (_journal, _, read) = reopen(dir.path());
        assert_eq!(read, batch(40, 41));
    }

    #[test]
    fn the_reader_follows_the_appends_in_whole_entries() {
        let dir = tempfile::tempdir().unwrap();
        let (mut journal, mut reader) = Journal::open(dir.path()).unwrap();
        let (_, first_bytes) = journal.append(&batch(0, 3)).unwrap();
        let (upto, second_bytes) = journal.append(&batch(3, 9)).unwrap();
        // Whole entries until 3 records are read: the first entry, then the second whole.
        let (records, bytes) = reader.read(upto, 3).unwrap();
        assert_eq!((records, bytes), (batch(0, 3), first_bytes));
        let (records, bytes) = reader.read(upto, 3).unwrap();
        assert_eq!((records, bytes), (batch(3, 9), second_bytes));
        assert_eq!(reader.read(upto, 3).unwrap().0, []);
        let (upto, _) = journal.append(&batch(9, 10)).unwrap();
        assert_eq!(reader.read(upto, 100).unwrap().0, batch(9, 10));
        assert_eq!(reader.position(), upto);
    }

    #[test]
    fn the_reader_crosses_from_a_full_segment_to_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let (mut journal, mut reader) = Journal::open(dir.path()).unwrap();
        journal.append(&batch(0, 2)).unwrap();
        // As if the segment were full: the next entry begins the next one.
        journal.len = SEGMENT_BYTES;
        let (upto, _) = journal.append(&batch(2, 5)).unwrap();
        assert_eq!(upto.segment, 2);
        assert_eq!(reader.read(upto, 100).unwrap().0, batch(0, 5));
        checkpoint(dir.path(), upto).unwrap();
        assert_eq!(segments(dir.path()).unwrap(), vec![2]);
    }

    #[test]
    fn a_torn_last_entry_is_not_read_back_and_what_follows_it_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (mut journal, _) = Journal::open(dir.path()).unwrap();
        journal.append(&batch(0, 3)).unwrap();
        journal.append(&batch(3, 6)).unwrap();
        let segment = journal.segment;
        drop(journal);
        // A crash in the middle of the second entry's write.
        let path = segment_path(dir.path(), segment);
        let len = fs::metadata(&path).unwrap().len();
        let file = OpenOptions::new().write(true).open(&path).unwrap();
        file.set_len(len - 5).unwrap();
        drop(file);

        let (mut journal, _, read) = reopen(dir.path());
        assert_eq!(read, batch(0, 3));
        // New entries go to a segment of their own, past the torn one.
        journal.append(&batch(6, 8)).unwrap();
        drop(journal);
        let (_journal, _, read) = reopen(dir.path());
        assert_eq!(read, [batch(0, 3), batch(6, 8)].concat());
    }

    #[test]
    fn a_damaged_byte_ends_the_segment_there() {
        let dir = tempfile::tempdir().unwrap();
        let (mut journal, _) = Journal::open(dir.path()).unwrap();
        let (first, _) = journal.append(&batch(0, 2)).unwrap();
        journal.append(&batch(2, 4)).unwrap();
        let segment = journal.segment;
        drop(journal);
        let path = segment_path(dir.path(), segment);
        let mut bytes = fs::read(&path).unwrap();
        let inside = usize::try_from(first.offset).unwrap() + HEADER + 20;
        bytes[inside] ^= 0x40;
        fs::write(&path, bytes).unwrap();

        let (_journal, _, read) = reopen(dir.path());
        assert_eq!(read, batch(0, 2));
    }

    #[test]
    fn a_second_process_on_the_same_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (_journal, _) = Journal::open(dir.path()).unwrap();
        let refused = Journal::open(dir.path()).unwrap_err();
        assert!(matches!(refused, JournalError::InUse(_)), "{refused}");
    }

    #[test]
    fn a_checkpoint_past_a_segment_deletes_it() {
        let dir = tempfile::tempdir().unwrap();
        let (mut journal, _) = Journal::open(dir.path()).unwrap();
        journal.append(&batch(0, 2)).unwrap();
        drop(journal);
        let (mut journal, _) = Journal::open(dir.path()).unwrap();
        let (end, _) = journal.append(&batch(2, 3)).unwrap();
        assert_eq!(segments(dir.path()).unwrap().len(), 2);
        checkpoint(dir.path(), end).unwrap();
        assert_eq!(segments(dir.path()).unwrap(), vec![end.segment]);
        drop(journal);
        let (_journal, _, read) = reopen(dir.path());
        assert!(read.is_empty());
    }

    #[test]
    fn no_payload_decodes_into_a_panic() {
        // Every prefix and every single-byte change of a valid payload: decoded or refused.
        let entry = encode_entry(&batch(0, 6)).unwrap();
        let payload = &entry[HEADER..];
        for cut in 0..payload.len() {
            assert!(decode_records(&payload[..cut]).is_none());
        }
        for i in 0..payload.len() {
            let mut changed = payload.to_vec();
            changed[i] = changed[i].wrapping_add(0x81);
            let _ = decode_records(&changed);
        }
        assert_eq!(decode_records(payload).unwrap(), batch(0, 6));
    }
}
