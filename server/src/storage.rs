//! The data directory and the journal in it.

use std::path::Path;

use herald_core::journal::{Journal, SqliteJournal, SqliteOptions};

/// Opens (creating if needed) the SQLite journal in `dir`. The journal locks the
/// directory, so a second server on the same directory is refused here with a clear
/// message.
pub fn open_journal(dir: &Path, options: &SqliteOptions) -> Result<Box<dyn Journal>, String> {
    let journal = SqliteJournal::open(dir, options).map_err(|e| e.to_string())?;
    Ok(Box::new(journal))
}
