//! The data directory: locked so a second server cannot share it, and the journal in it.

use std::fs::File;
use std::path::{Path, PathBuf};

use herald_core::journal::{Journal, MemoryJournal};

/// A data directory this process holds; the lock is released when it is dropped.
pub struct DataDir {
    pub path: PathBuf,
    _lock: File,
}

impl DataDir {
    /// Creates the directory if needed and takes its lock, or says who holds it.
    pub fn open(path: &Path) -> Result<DataDir, String> {
        std::fs::create_dir_all(path).map_err(|e| format!("cannot create the data directory {}: {e}", path.display()))?;
        let lock_path = path.join("herald.lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| format!("cannot open {}: {e}", lock_path.display()))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(format!(
                    "the data directory {} is in use by another herald server (it holds {})",
                    path.display(),
                    lock_path.display()
                ))
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(format!("cannot lock {}: {e}", lock_path.display())),
        }
        Ok(DataDir { path: path.to_owned(), _lock: lock })
    }

    /// The journal kept in this directory.
    pub fn journal(&self) -> Result<Box<dyn Journal>, String> {
        tracing::warn!(
            dir = %self.path.display(),
            "this build has no persistent journal yet: messages are kept in memory only"
        );
        Ok(Box::new(MemoryJournal))
    }
}
