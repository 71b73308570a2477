use std::collections::VecDeque;

use super::remote::RemoteBrowser;
use crate::broker::Broker;
use crate::message::{Candidate, Delivery};
use crate::queue::{Entry, Snapshot, TailScan};

/// Rows read from the journal per step when a browser walks a queue's tail.
const TAIL_PAGE: usize = 256;

/// The messages waiting on a queue when the browser was created, in delivery order.
/// Browsing consumes nothing. Messages held in memory come first; then those of the
/// queue's tail (beyond the memory budget), which the browser reads from the journal a
/// page at a time as it goes, skipping any consumed meanwhile.
pub struct Browser {
    imp: Imp,
}

enum Imp {
    Local { broker: Broker, entries: VecDeque<Entry>, tail: Option<TailScan>, page: VecDeque<Delivery> },
    /// Fetched from the server a page at a time; a failure ends the iteration (and is
    /// logged).
    Remote(RemoteBrowser),
}

impl Browser {
    pub(crate) fn new(broker: Broker, snapshot: Snapshot) -> Browser {
        Browser {
            imp: Imp::Local {
                broker,
                entries: snapshot.entries.into(),
                tail: snapshot.tail,
                page: VecDeque::new(),
            },
        }
    }

    pub(crate) fn remote(browser: RemoteBrowser) -> Browser {
        Browser { imp: Imp::Remote(browser) }
    }
}

/// Reads the next page of `scan`'s tail into `page`; `false` once the tail is done.
fn next_page(broker: &Broker, scan: &mut TailScan, page: &mut VecDeque<Delivery>) -> bool {
    if scan.after >= scan.until {
        return false;
    }
    let rows = match broker.load_tail(&scan.store, scan.after, scan.until, TAIL_PAGE) {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(store = %scan.store, cause = %e, "a browser could not read the queue's tail");
            return false;
        }
    };
    let Some(last) = rows.last().map(|r| r.key) else { return false };
    scan.after = last;
    for row in rows {
        let deliveries = row.delivery_count + 1;
        if row.message.is_expired_at(scan.now)
            || scan.selector.as_ref().is_some_and(|s| !s.matches(&Candidate::new(&row.message, deliveries)))
        {
            continue;
        }
        page.push_back(Delivery::new(row.message, deliveries));
    }
    true
}

impl Iterator for Browser {
    type Item = Delivery;

    fn next(&mut self) -> Option<Delivery> {
        match &mut self.imp {
            Imp::Local { broker, entries, tail, page } => loop {
                if let Some(entry) = entries.pop_front() {
                    return Some(Delivery::new(entry.message, entry.deliveries + 1));
                }
                if let Some(delivery) = page.pop_front() {
                    return Some(delivery);
                }
                let scan = tail.as_mut()?;
                if !next_page(broker, scan, page) {
                    *tail = None;
                }
            },
            Imp::Remote(browser) => browser.next(),
        }
    }
}
