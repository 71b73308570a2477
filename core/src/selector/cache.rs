//! Parsed selectors by text, so consumers that open with the same selector (a pool of
//! workers, a reconnecting client) parse it once. Failures are kept too: a client
//! retrying a bad selector gets the same error without another parse.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{Error, Selector};

/// A bounded cache of [`Selector::parse`] results, evicting the least recently used
/// entry when full. Eviction scans the entries, which is fine for the few hundred
/// distinct selectors a broker sees and keeps this free of a linked list.
pub struct SelectorCache {
    capacity: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    entries: HashMap<Box<str>, Entry>,
    clock: u64,
}

struct Entry {
    result: Result<Selector, Error>,
    last_used: u64,
}

impl SelectorCache {
    /// A cache of at most `capacity` selectors; 0 caches nothing.
    pub fn new(capacity: usize) -> SelectorCache {
        SelectorCache { capacity, state: Mutex::new(State::default()) }
    }

    /// What [`Selector::parse`] returns for `text`, from the cache when it is there.
    pub fn parse(&self, text: &str) -> Result<Selector, Error> {
        if self.capacity == 0 {
            return Selector::parse(text);
        }
        {
            let mut state = self.lock();
            state.clock += 1;
            let now = state.clock;
            if let Some(entry) = state.entries.get_mut(text) {
                entry.last_used = now;
                return entry.result.clone();
            }
        }
        // Parse outside the lock; two threads racing on the same new text both parse,
        // and the second insert overwrites the first with an equal result.
        let result = Selector::parse(text);
        let mut state = self.lock();
        if state.entries.len() >= self.capacity && !state.entries.contains_key(text) {
            let oldest =
                state.entries.iter().min_by_key(|(_, e)| e.last_used).map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                state.entries.remove(&oldest);
            }
        }
        state.clock += 1;
        let last_used = state.clock;
        state.entries.insert(text.into(), Entry { result: result.clone(), last_used });
        result
    }

    /// How many selectors (and failures) are cached.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cache holds no invariant a panicking thread could break, so a poisoned lock is
    /// used as is.
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl std::fmt::Debug for SelectorCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SelectorCache")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}
