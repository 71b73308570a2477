//! Remote consumers: pushing deliveries within the client's credit.

use std::sync::Arc;

use herald_core::client::{Consumer, ConsumerOptions, Session, SubscriptionOptions};
use herald_core::wire::{DeliverRef, FrameType, WireSubscription};
use herald_core::{Destination, Result};
use tokio::io::{AsyncRead, AsyncWrite};

use super::Signal;
use crate::connection::Connection;

/// The broker-side consumer serving one remote consumer.
pub struct RemoteConsumer {
    pub consumer: Consumer,
    pub session: u64,
    /// Deliveries the client can still take: its prefetch, less what it holds.
    pub credit: u32,
    pub prefetch: u32,
    id: u64,
}

impl RemoteConsumer {
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        session: &Session,
        session_id: u64,
        id: u64,
        destination: &Destination,
        selector: Option<String>,
        no_local: bool,
        subscription: Option<WireSubscription>,
        prefetch: u32,
        signal: &Arc<Signal>,
    ) -> Result<RemoteConsumer> {
        let options = ConsumerOptions {
            selector,
            no_local,
            subscription: subscription.map(|s| SubscriptionOptions { name: s.name, durable: s.durable, shared: s.shared }),
            prefetch: Some(prefetch),
        };
        let consumer = session.create_consumer(destination, &options)?;
        let hook_signal = Arc::downgrade(signal);
        consumer.set_wakeup(Some(Arc::new(move || {
            if let Some(signal) = hook_signal.upgrade() {
                signal.mark(id);
            }
        })))?;
        Ok(RemoteConsumer {
            consumer,
            session: session_id,
            credit: prefetch,
            prefetch,
            id,
        })
    }

    /// Pushes what is ready, within the credit, into `conn`'s output batch. Returns true
    /// when it stopped only because the batch is full, so there may be more.
    pub fn push<S: AsyncRead + AsyncWrite + Unpin>(&mut self, conn: &mut Connection<S>) -> bool {
        while self.credit > 0 {
            match self.consumer.take_for_remote() {
                Ok(Some((tag, delivery))) => {
                    conn.queue(
                        FrameType::Deliver,
                        &DeliverRef {
                            consumer: self.id,
                            tag,
                            delivery_count: delivery.delivery_count(),
                            message: delivery.message(),
                        },
                    );
                    self.credit -= 1;
                    // Keep batches bounded so a large backlog interleaves with reading.
                    if conn.pending_output() > 256 * 1024 {
                        return self.credit > 0;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    // A session or consumer closing meanwhile. (A tail that cannot be
                    // read back from the journal is logged by its queue.)
                    tracing::debug!(consumer = self.id, cause = %e, "cannot push");
                    break;
                }
            }
        }
        false
    }
}
