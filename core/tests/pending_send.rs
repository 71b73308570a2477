//! A send started without waiting for the journal (`Session::send_started`, the server's
//! way in): awaited as a future, waited for, or abandoned, the message lands once, and
//! only once it is stored.

mod journal_support;

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use herald_core::client::AckMode;
use herald_core::{DeliveryMode, Destination, Message};
use journal_support::*;

/// Runs a future to completion on this thread, parking while it is pending: no
/// runtime, so the journal's own thread must commit for it.
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => return output,
            Poll::Pending => std::thread::park(),
        }
    }
}

fn persistent(text: &str) -> Message {
    let mut message = Message::text(text);
    message.delivery_mode = DeliveryMode::Persistent;
    message
}

#[test]
fn awaited_waited_for_or_abandoned_a_started_send_lands_once_and_survives_a_restart() {
    let dir = TempDir::new("pending-send");
    let queue = Destination::queue("started");
    {
        let broker = open_broker(dir.path());
        let c = connect(&broker);
        let s = session(&c, AckMode::Auto);
        block_on(s.send_started(queue.clone(), persistent("awaited")).unwrap()).unwrap();
        s.send_started(queue.clone(), persistent("waited")).unwrap().wait().unwrap();
        drop(s.send_started(queue.clone(), persistent("abandoned")).unwrap());
        // Many at once, awaited in turn: each lands once, in order.
        let started: Vec<_> = (0..50).map(|i| s.send_started(queue.clone(), persistent(&format!("m{i}"))).unwrap()).collect();
        for pending in started {
            block_on(pending).unwrap();
        }
        c.close();
        broker.shutdown();
    }
    let broker = open_broker(dir.path());
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let mut expected = vec!["awaited".to_owned(), "waited".to_owned(), "abandoned".to_owned()];
    expected.extend((0..50).map(|i| format!("m{i}")));
    assert_eq!(drain(&consumer(&s, &queue), SHORT), expected);
}

#[test]
fn a_started_send_in_a_transaction_waits_for_the_commit() {
    let dir = TempDir::new("pending-send-tx");
    let queue = Destination::queue("tx");
    let broker = open_broker(dir.path());
    let c = connect(&broker);
    let s = session(&c, AckMode::Transacted);
    block_on(s.send_started(queue.clone(), persistent("later")).unwrap()).unwrap();
    let reader = session(&c, AckMode::Auto);
    let r = consumer(&reader, &queue);
    assert!(drain(&r, SHORT).is_empty(), "visible before the commit");
    s.commit().unwrap();
    assert_eq!(drain(&r, SHORT), ["later"]);
}
