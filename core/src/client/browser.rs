use std::collections::VecDeque;
use std::sync::Arc;

use super::remote::RemoteBrowser;
use crate::broker::{now_millis, Broker};
use crate::message::{Candidate, Delivery};
use crate::queue::{MessageQueue, TailScan, Walk};
use crate::selector::Selector;

/// Rows read from the journal per step when a browser walks a queue's tail.
const TAIL_PAGE: usize = 256;

/// Resident messages taken per step.
const LEVEL_PAGE: usize = 64;

/// The messages waiting on a queue, in delivery order, as the browser goes. Browsing
/// consumes nothing. Messages held in memory come first, a few at a time, skipping any
/// consumed meanwhile; then those of the queue's tail (beyond the memory budget), which
/// the browser reads from the journal a page at a time.
pub struct Browser {
    imp: Imp,
}

enum Imp {
    Local { broker: Broker, queue: Arc<MessageQueue>, selector: Option<Selector>, walk: Walk, page: VecDeque<Delivery> },
    /// Fetched from the server a page at a time; a failure ends the iteration (and is
    /// logged).
    Remote(RemoteBrowser),
}

impl Browser {
    pub(crate) fn new(broker: Broker, queue: Arc<MessageQueue>, selector: Option<Selector>) -> Browser {
        Browser { imp: Imp::Local { broker, queue, selector, walk: Walk::new(), page: VecDeque::new() } }
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
            Imp::Local { broker, queue, selector, walk, page } => loop {
                if let Some(delivery) = page.pop_front() {
                    return Some(delivery);
                }
                match walk {
                    Walk::Levels { .. } => queue.browse(walk, selector.as_ref(), LEVEL_PAGE, now_millis(), page),
                    Walk::Tail(scan) => {
                        if !next_page(broker, scan, page) {
                            *walk = Walk::Done;
                        }
                    }
                    Walk::Done => return None,
                }
            },
            Imp::Remote(browser) => browser.next(),
        }
    }
}
