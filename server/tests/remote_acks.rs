//! AUTO_ACKNOWLEDGE over tcp:// across a server crash. The client hands messages out
//! without waiting for the server (its receipts travel lazily), and the server journals
//! the acknowledgements without holding up the connection; the journal applies units in
//! order, so once the server has answered any later request of the connection, every
//! earlier receipt is durable.

mod common;

use std::time::Duration;

use common::{ServerProcess, TempDir};
use herald_core::client::{AckMode, ConnectOptions, Connection, ConsumerOptions};
use herald_core::{DeliveryMode, Destination, Message};

const TOTAL: usize = 300;
const TAKEN: usize = 120;

#[test]
fn receipts_before_an_answered_request_survive_kill_9() {
    let mut server = ServerProcess::start("");
    let q = Destination::queue("remote-acks");
    let conn = Connection::open(&server.url(), &ConnectOptions::default()).unwrap();
    conn.start().unwrap();
    let s = conn.create_session(AckMode::Auto).unwrap();
    let p = s.create_producer(Some(q.clone())).unwrap();
    for k in 0..TOTAL {
        p.send(Message::text(k.to_string())).unwrap();
    }
    let c = s.create_consumer(&q, &ConsumerOptions::default()).unwrap();
    for k in 0..TAKEN {
        let d = c.receive_timeout(Duration::from_secs(5)).unwrap().expect("a message");
        assert_eq!(d.text_body(), Some(k.to_string().as_str()));
    }
    // A request the server answers after the receipts: a persistent send waits for its
    // commit, which the journal makes after the acknowledgements before it.
    let mut marker = Message::text("marker");
    marker.delivery_mode = DeliveryMode::Persistent;
    s.create_producer(Some(Destination::queue("remote-acks.marker"))).unwrap().send(marker).unwrap();

    server.kill();
    let data = std::mem::replace(&mut server.data, TempDir::new("unused"));
    drop(server);
    drop((c, p, s, conn));

    let second = ServerProcess::start_in("", data);
    let conn = Connection::open(&second.url(), &ConnectOptions::default()).unwrap();
    conn.start().unwrap();
    let s = conn.create_session(AckMode::Client).unwrap();
    let c = s.create_consumer(&q, &ConsumerOptions::default()).unwrap();
    let mut left = Vec::new();
    while let Some(d) = c.receive_timeout(Duration::from_millis(500)).unwrap() {
        left.push(d.text_body().unwrap().parse::<usize>().unwrap());
    }
    // Nothing received before the answered request comes back; nothing else is lost. The
    // messages the client had buffered but not taken come back too.
    assert_eq!(left, (TAKEN..TOTAL).collect::<Vec<_>>());
    let m = s.create_consumer(&Destination::queue("remote-acks.marker"), &ConsumerOptions::default()).unwrap();
    assert_eq!(m.receive_timeout(Duration::from_secs(5)).unwrap().unwrap().text_body(), Some("marker"));
}
