//! The delivery log, `herald.deliveries`: delivery counts and acknowledgements appended
//! to a plain file.
//!
//! A message handed to an application and not yet acknowledged must come back with
//! JMSRedelivered set if the broker dies; a message acknowledged in an automatic mode
//! (AUTO_ACKNOWLEDGE, DUPS_OK_ACKNOWLEDGE) must not come back at all. Recording either in
//! SQLite before going on would cost a transaction per message; instead the consumer's
//! thread appends a small record to this file with one `write` call and no fsync. Once
//! `write` returns the operating system holds the record, so it survives the process
//! being killed (not a power loss, where a delivery count may be lost, so the message
//! comes back as a first delivery, and an acknowledgement that no later commit synced
//! may be lost, so the message comes back as a duplicate). Acknowledgements also go to
//! the database as ordinary units; the record only covers the time until they commit.
//!
//! Records are `u16 store length, store (UTF-8), u64 key, u32 count`, little-endian; an
//! acknowledgement is a record with the count [`ACKNOWLEDGED`]. A torn record at the end
//! is ignored. Counts only grow, and an acknowledgement is the highest, so records
//! apply as `max(recorded, stored)`; a record for a message already acknowledged is
//! harmless. Message keys are never reused while a log holds records for them: the log
//! is emptied (and synced) at start, before the broker hands out keys.
//!
//! The file does not grow forever: past [`ROTATE_AT`] bytes it is renamed
//! `herald.deliveries.old`, a fresh one is started, and the next commit folds the old
//! one into the database and deletes it. At start, both files are folded into the
//! database before anything is read.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::super::{Error, StoreKey};

pub const DELIVERY_LOG: &str = "herald.deliveries";
pub const DELIVERY_LOG_OLD: &str = "herald.deliveries.old";
/// The log is rotated (and folded into the database) past this size.
pub const ROTATE_AT: u64 = 4 << 20;

/// Delivery counts by (store, key), the highest recorded; [`ACKNOWLEDGED`] for a message
/// acknowledged.
pub type Counts = HashMap<(String, u64), u32>;

/// The count that records an acknowledgement: the message is gone from its store.
pub const ACKNOWLEDGED: u32 = u32::MAX;

pub struct DeliveryLog {
    dir: PathBuf,
    state: Mutex<State>,
}

struct State {
    file: File,
    len: u64,
    /// An old log waits to be folded; no second rotation until it is.
    folding: bool,
    /// `len` when a fold was last asked for, while one waits: should that fold fail,
    /// it is asked for again once the log has grown by [`ROTATE_AT`] more.
    asked_at: u64,
}

/// What `append` asks of the caller: nothing, or to have the old log folded (it was
/// just rotated, or its fold is overdue).
#[must_use]
pub enum Appended {
    Done,
    FoldOld,
}

fn open_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

impl DeliveryLog {
    pub fn open(dir: &Path) -> std::io::Result<DeliveryLog> {
        let file = open_append(&dir.join(DELIVERY_LOG))?;
        let len = file.metadata()?.len();
        let folding = dir.join(DELIVERY_LOG_OLD).exists();
        Ok(DeliveryLog { dir: dir.to_path_buf(), state: Mutex::new(State { file, len, folding, asked_at: 0 }) })
    }

    /// Appends records with one `write` call.
    pub fn append(&self, records: &[(StoreKey, u64, u32)]) -> Result<Appended, Error> {
        let mut buf = Vec::with_capacity(records.len() * 40);
        for (store, key, count) in records {
            let name = store.as_bytes();
            let len = u16::try_from(name.len())
                .map_err(|_| Error::Storage(format!("store name too long for the delivery log: {store}")))?;
            buf.extend_from_slice(&len.to_le_bytes());
            buf.extend_from_slice(name);
            buf.extend_from_slice(&key.to_le_bytes());
            buf.extend_from_slice(&count.to_le_bytes());
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state
            .file
            .write_all(&buf)
            .map_err(|e| Error::Storage(format!("cannot append to the delivery log: {e}")))?;
        state.len += buf.len() as u64;
        if state.folding {
            if state.len >= state.asked_at + ROTATE_AT {
                state.asked_at = state.len;
                return Ok(Appended::FoldOld);
            }
            return Ok(Appended::Done);
        }
        if state.len < ROTATE_AT {
            return Ok(Appended::Done);
        }
        // Rotate: the old file is folded into the database with the next commit.
        let current = self.dir.join(DELIVERY_LOG);
        let old = self.dir.join(DELIVERY_LOG_OLD);
        if let Err(e) = std::fs::rename(&current, &old) {
            tracing::warn!(cause = %e, "cannot rotate the delivery log");
            return Ok(Appended::Done);
        }
        match open_append(&current) {
            Ok(file) => {
                state.file = file;
                state.len = 0;
                state.folding = true;
                state.asked_at = 0;
                Ok(Appended::FoldOld)
            }
            Err(e) => {
                // Keep appending to the renamed file through the open handle.
                tracing::warn!(cause = %e, "cannot start a new delivery log");
                let _ = std::fs::rename(&old, &current);
                Ok(Appended::Done)
            }
        }
    }

    /// Reads the old log, if any, for folding.
    pub fn read_old(&self) -> std::io::Result<Counts> {
        let mut counts = Counts::new();
        read_into(&self.dir.join(DELIVERY_LOG_OLD), &mut counts)?;
        Ok(counts)
    }

    /// The old log has been folded into the database: delete it.
    pub fn old_folded(&self) {
        let _ = std::fs::remove_file(self.dir.join(DELIVERY_LOG_OLD));
        self.state.lock().unwrap_or_else(|p| p.into_inner()).folding = false;
    }

    /// At start: everything both files hold.
    pub fn read_all(&self) -> std::io::Result<Counts> {
        let mut counts = Counts::new();
        read_into(&self.dir.join(DELIVERY_LOG_OLD), &mut counts)?;
        read_into(&self.dir.join(DELIVERY_LOG), &mut counts)?;
        Ok(counts)
    }

    /// At start, once [`DeliveryLog::read_all`] is in the database: empty both files,
    /// durably. The broker then hands out keys again from above the highest one the
    /// database holds, which may be keys these records name: after a power loss, a
    /// stale acknowledgement must not come back and remove a new message.
    pub fn clear(&self) -> std::io::Result<()> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.file.set_len(0)?;
        state.file.sync_all()?;
        state.len = 0;
        match std::fs::remove_file(self.dir.join(DELIVERY_LOG_OLD)) {
            Ok(()) => File::open(&self.dir)?.sync_all()?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        state.folding = false;
        state.asked_at = 0;
        Ok(())
    }
}

fn read_into(path: &Path, counts: &mut Counts) -> std::io::Result<()> {
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut at = 0;
    while at + 2 <= data.len() {
        let len = u16::from_le_bytes([data[at], data[at + 1]]) as usize;
        let end = at + 2 + len + 12;
        if end > data.len() {
            break; // torn at the end
        }
        let Ok(store) = std::str::from_utf8(&data[at + 2..at + 2 + len]) else { break };
        let key = u64::from_le_bytes(data[at + 2 + len..at + 10 + len].try_into().expect("8 bytes"));
        let count = u32::from_le_bytes(data[at + 10 + len..end].try_into().expect("4 bytes"));
        let slot = counts.entry((store.to_owned(), key)).or_insert(0);
        *slot = (*slot).max(count);
        at = end;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(label: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("herald-deliveries-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn records_read_back_as_the_highest_count_and_a_torn_tail_is_ignored() {
        let dir = scratch("torn");
        let log = DeliveryLog::open(&dir).unwrap();
        let q: StoreKey = "queue:a".into();
        let _ = log.append(&[(q.clone(), 7, 1), (q.clone(), 8, 1)]).unwrap();
        let _ = log.append(&[(q.clone(), 7, 3), (q.clone(), 7, 2)]).unwrap();
        drop(log);
        // A record cut short, as a power loss mid-write could leave it.
        let mut f = OpenOptions::new().append(true).open(dir.join(DELIVERY_LOG)).unwrap();
        f.write_all(&[7, 0, b'q', b'u']).unwrap();
        let log = DeliveryLog::open(&dir).unwrap();
        let counts = log.read_all().unwrap();
        assert_eq!(counts.len(), 2);
        assert_eq!(counts[&("queue:a".to_owned(), 7)], 3);
        assert_eq!(counts[&("queue:a".to_owned(), 8)], 1);
        log.clear().unwrap();
        assert!(log.read_all().unwrap().is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_full_log_rotates_once_until_folded() {
        let dir = scratch("rotate");
        let log = DeliveryLog::open(&dir).unwrap();
        let store: StoreKey = "queue:rotating".into();
        let batch: Vec<(StoreKey, u64, u32)> = (0..1000).map(|k| (store.clone(), k, 1)).collect();
        let mut fold_requests = 0;
        for _ in 0..400 {
            if let Appended::FoldOld = log.append(&batch).unwrap() {
                fold_requests += 1;
            }
        }
        // ~10 MB written, but the old log was never folded: one rotation only, and the
        // fold asked for again once the new log grew by another ROTATE_AT (a fold that
        // failed is retried).
        assert_eq!(fold_requests, 2);
        assert!(std::fs::metadata(dir.join(DELIVERY_LOG_OLD)).unwrap().len() < ROTATE_AT + 64 * 1024);
        assert_eq!(log.read_old().unwrap().len(), 1000);
        log.old_folded();
        assert!(!dir.join(DELIVERY_LOG_OLD).exists());
        assert!(matches!(log.append(&batch).unwrap(), Appended::FoldOld));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
