#![allow(dead_code)]

use std::time::Duration;

use herald_core::client::{AckMode, ConnectOptions, Connection, Consumer, ConsumerOptions, Session};
use herald_core::{Broker, BrokerConfig, Destination, Message};

pub const WAIT: Duration = Duration::from_secs(5);
pub const SHORT: Duration = Duration::from_millis(100);

pub fn broker() -> Broker {
    Broker::in_memory()
}

pub fn broker_with(config: BrokerConfig) -> Broker {
    Broker::start(config).unwrap()
}

/// A started connection.
pub fn connect(broker: &Broker) -> Connection {
    let c = Connection::to_broker(broker, &ConnectOptions::default()).unwrap();
    c.start().unwrap();
    c
}

pub fn connect_as(broker: &Broker, client_id: &str) -> Connection {
    let options = ConnectOptions { client_id: Some(client_id.into()), ..ConnectOptions::default() };
    let c = Connection::to_broker(broker, &options).unwrap();
    c.start().unwrap();
    c
}

pub fn session(c: &Connection, mode: AckMode) -> Session {
    c.create_session(mode).unwrap()
}

pub fn send_texts(session: &Session, dest: &Destination, texts: &[&str]) {
    let p = session.create_producer(Some(dest.clone())).unwrap();
    for t in texts {
        p.send(Message::text(*t)).unwrap();
    }
}

pub fn consumer(session: &Session, dest: &Destination) -> Consumer {
    session.create_consumer(dest, &ConsumerOptions::default()).unwrap()
}

pub fn selecting(session: &Session, dest: &Destination, selector: &str) -> Consumer {
    let options = ConsumerOptions { selector: Some(selector.into()), ..ConsumerOptions::default() };
    session.create_consumer(dest, &options).unwrap()
}

/// Receives text bodies until `timeout` passes with nothing new.
pub fn drain(consumer: &Consumer, timeout: Duration) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(d) = consumer.receive_timeout(timeout).unwrap() {
        out.push(d.text_body().unwrap_or_default().to_owned());
    }
    out
}

pub fn text_of(consumer: &Consumer) -> String {
    consumer.receive_timeout(WAIT).unwrap().expect("a message").text_body().unwrap().to_owned()
}
