//! `herald send`, `receive`, `browse`, `stat` and `passwd`.

use std::io::{BufRead, IsTerminal, Write};
use std::time::{Duration, Instant};

use herald_core::client::{AckMode, ConnectOptions, Connection, ConsumerOptions, SendOptions, SubscriptionOptions};
use herald_core::{Body, DeliveryMode, Delivery, Destination, Message, Value};

use super::{BrowseArgs, ClientArgs, ReceiveArgs, SendArgs, Target};

/// How a command ended, when it did not fail.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// `receive` ran out of time: exit status 3.
    TimedOut,
}

pub(super) fn connect(args: &ClientArgs, client_id: Option<String>) -> Result<Connection, String> {
    let options = ConnectOptions {
        user: args.user.clone(),
        password: args.password.clone(),
        client_id,
        ..ConnectOptions::default()
    };
    Connection::open(&args.url, &options).map_err(|e| format!("{}: {e}", args.url))
}

fn destination(target: &Target) -> Destination {
    match (&target.queue, &target.topic) {
        (Some(q), _) => Destination::queue(q),
        (None, Some(t)) => Destination::topic(t),
        (None, None) => unreachable!("clap requires --queue or --topic"),
    }
}

/// Parses `k=v` (type inferred) or `k:TYPE=v`.
pub fn parse_property(text: &str) -> Result<(String, Value), String> {
    let (key, value) = text.split_once('=').ok_or_else(|| format!("property \"{text}\" is not of the form k=v"))?;
    let bad = |ty: &str| format!("property {key}: \"{value}\" is not a {ty}");
    if let Some((name, ty)) = key.split_once(':') {
        let v = match ty {
            "string" => Value::String(value.to_owned()),
            "int" => Value::Int(value.parse().map_err(|_| bad("int"))?),
            "long" => Value::Long(value.parse().map_err(|_| bad("long"))?),
            "short" => Value::Short(value.parse().map_err(|_| bad("short"))?),
            "byte" => Value::Byte(value.parse().map_err(|_| bad("byte"))?),
            "double" => Value::Double(value.parse().map_err(|_| bad("double"))?),
            "float" => Value::Float(value.parse().map_err(|_| bad("float"))?),
            "boolean" | "bool" => Value::Bool(value.parse().map_err(|_| bad("boolean"))?),
            other => {
                return Err(format!(
                    "property {name}: unknown type \"{other}\" (string, int, long, short, byte, double, float, boolean)"
                ))
            }
        };
        return Ok((name.to_owned(), v));
    }
    let v = if let Ok(i) = value.parse::<i32>() {
        Value::Int(i)
    } else if let Ok(l) = value.parse::<i64>() {
        Value::Long(l)
    } else if value == "true" || value == "false" {
        Value::Bool(value == "true")
    } else if let Some(d) = value
        .bytes()
        .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
        .then(|| value.parse::<f64>().ok())
        .flatten()
    {
        Value::Double(d)
    } else {
        Value::String(value.to_owned())
    };
    Ok((key.to_owned(), v))
}

pub fn send(args: SendArgs) -> Result<(), String> {
    let dest = destination(&args.target);
    let properties = args.properties.iter().map(|p| parse_property(p)).collect::<Result<Vec<_>, _>>()?;
    let connection = connect(&args.client, None)?;
    let session = connection.create_session(AckMode::Auto).map_err(|e| e.to_string())?;
    let mut producer = session.create_producer(Some(dest.clone())).map_err(|e| e.to_string())?;
    let options = SendOptions {
        delivery_mode: if args.non_persistent { DeliveryMode::NonPersistent } else { DeliveryMode::Persistent },
        priority: args.priority.unwrap_or(herald_core::message::DEFAULT_PRIORITY),
        time_to_live: args.ttl.unwrap_or(0),
        ..SendOptions::default()
    };
    producer.set_options(options).map_err(|e| e.to_string())?;
    let make = |body: &str| -> Result<Message, String> {
        let mut m = Message::text(body);
        for (k, v) in &properties {
            m.set_property(k.clone(), v.clone()).map_err(|e| e.to_string())?;
        }
        Ok(m)
    };
    let mut sent = 0u64;
    let mut send_body = |body: &str| -> Result<(), String> {
        for _ in 0..args.count {
            producer.send(make(body)?).map_err(|e| format!("send to {dest} failed: {e}"))?;
            sent += 1;
        }
        Ok(())
    };
    match (&args.body, args.size) {
        (Some(body), _) => send_body(body)?,
        (None, Some(size)) => send_body(&"x".repeat(size))?,
        (None, None) => {
            for line in std::io::stdin().lock().lines() {
                let line = line.map_err(|e| format!("cannot read stdin: {e}"))?;
                send_body(&line)?;
            }
        }
    }
    // Sends that did not wait for the server (non-persistent) are confirmed by one
    // round trip before exiting.
    session.close();
    connection.close();
    if std::io::stderr().is_terminal() {
        eprintln!("sent {sent} message{} to {dest}", if sent == 1 { "" } else { "s" });
    }
    Ok(())
}

fn body_text(d: &Delivery) -> String {
    match &d.body {
        Body::Empty => String::new(),
        Body::Text(t) => t.clone().unwrap_or_default(),
        Body::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Body::Object(b) => format!("<object of {} bytes>", b.as_ref().map_or(0, Vec::len)),
        Body::Map(entries) => {
            let parts: Vec<String> = entries.iter().map(|(k, v)| format!("{k}={}", value_text(v))).collect();
            format!("{{{}}}", parts.join(", "))
        }
        Body::Stream(values) => {
            let parts: Vec<String> = values.iter().map(value_text).collect();
            format!("[{}]", parts.join(", "))
        }
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        Value::Byte(x) => x.to_string(),
        Value::Short(x) => x.to_string(),
        Value::Char(c) => c.to_string(),
        Value::Int(x) => x.to_string(),
        Value::Long(x) => x.to_string(),
        Value::Float(x) => x.to_string(),
        Value::Double(x) => x.to_string(),
        Value::String(s) => s.clone(),
        Value::Bytes(b) => format!("<{} bytes>", b.len()),
    }
}

fn print_delivery(out: &mut impl Write, d: &Delivery, verbose: bool) -> std::io::Result<()> {
    if verbose {
        let id = d.id.map(|i| i.to_string()).unwrap_or_default();
        writeln!(out, "# JMSMessageID: {id}")?;
        if let Some(dest) = &d.destination {
            writeln!(out, "# JMSDestination: {dest}")?;
        }
        writeln!(out, "# JMSTimestamp: {}", d.timestamp)?;
        writeln!(out, "# JMSDeliveryMode: {}", if d.delivery_mode == DeliveryMode::Persistent { "PERSISTENT" } else { "NON_PERSISTENT" })?;
        writeln!(out, "# JMSPriority: {}", d.priority)?;
        if d.expiration != 0 {
            writeln!(out, "# JMSExpiration: {}", d.expiration)?;
        }
        if let Some(c) = &d.correlation_id {
            writeln!(out, "# JMSCorrelationID: {c}")?;
        }
        if let Some(r) = &d.reply_to {
            writeln!(out, "# JMSReplyTo: {r}")?;
        }
        if let Some(t) = &d.jms_type {
            writeln!(out, "# JMSType: {t}")?;
        }
        writeln!(out, "# JMSRedelivered: {}", d.redelivered())?;
        writeln!(out, "# JMSXDeliveryCount: {}", d.delivery_count())?;
        for (k, v) in d.properties() {
            writeln!(out, "# {k} ({}): {}", v.type_name(), value_text(v))?;
        }
    }
    writeln!(out, "{}", body_text(d))
}

pub fn receive(args: ReceiveArgs) -> Result<Outcome, String> {
    let dest = destination(&args.target);
    let connection = connect(&args.client, args.client_id.clone())?;
    // CLIENT_ACKNOWLEDGE: a message counts as received once it has been printed.
    let session = connection.create_session(AckMode::Client).map_err(|e| e.to_string())?;
    let options = ConsumerOptions {
        selector: args.selector.clone(),
        subscription: args.durable.as_ref().map(|name| SubscriptionOptions { name: name.clone(), durable: true, shared: false }),
        // Take only what is asked for, so other consumers get the rest.
        prefetch: Some(args.count.min(1000) as u32),
        ..ConsumerOptions::default()
    };
    let consumer = session.create_consumer(&dest, &options).map_err(|e| format!("cannot consume from {dest}: {e}"))?;
    connection.start().map_err(|e| e.to_string())?;
    let deadline = args.timeout.map(|ms| Instant::now() + Duration::from_millis(ms));
    let stdout = std::io::stdout();
    let mut received = 0;
    while received < args.count {
        let got = match deadline {
            None => consumer.receive(),
            Some(d) => consumer.receive_timeout(d.saturating_duration_since(Instant::now())),
        }
        .map_err(|e| format!("receive from {dest} failed: {e}"))?;
        let Some(delivery) = got else {
            eprintln!(
                "herald: timed out after {} ms with {received} of {} message{} from {dest}",
                args.timeout.unwrap_or(0),
                args.count,
                if args.count == 1 { "" } else { "s" }
            );
            session.acknowledge().map_err(|e| e.to_string())?;
            return Ok(Outcome::TimedOut);
        };
        let mut out = stdout.lock();
        print_delivery(&mut out, &delivery, args.verbose).and_then(|()| out.flush()).map_err(|e| format!("cannot write: {e}"))?;
        session.acknowledge().map_err(|e| format!("acknowledge failed: {e}"))?;
        received += 1;
    }
    Ok(Outcome::Done)
}

pub fn browse(args: BrowseArgs) -> Result<(), String> {
    let dest = Destination::queue(&args.queue);
    let connection = connect(&args.client, None)?;
    let session = connection.create_session(AckMode::Auto).map_err(|e| e.to_string())?;
    let browser = session.create_browser(&dest, args.selector.as_deref()).map_err(|e| format!("cannot browse {dest}: {e}"))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for d in browser {
        print_delivery(&mut out, &d, args.verbose).map_err(|e| format!("cannot write: {e}"))?;
    }
    out.flush().map_err(|e| format!("cannot write: {e}"))
}

pub fn stat(args: ClientArgs) -> Result<(), String> {
    let connection = connect(&args, None)?;
    let stats = connection.stats().map_err(|e| format!("stat failed: {e}"))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let width = stats.iter().map(|s| s.store.len()).max().unwrap_or(0).max(11);
    let w = |out: &mut std::io::StdoutLock, line: String| writeln!(out, "{line}").map_err(|e| format!("cannot write: {e}"));
    w(&mut out, format!("{:<width$}  {:>10}  {:>9}  {:>12}  {:>12}", "DESTINATION", "DEPTH", "CONSUMERS", "ENQUEUED", "DEQUEUED"))?;
    for s in stats {
        let name = match s.store.strip_prefix("queue:") {
            Some(q) => format!("queue://{q}"),
            None => format!("{} [{}]", s.destination, s.store),
        };
        w(&mut out, format!("{name:<width$}  {:>10}  {:>9}  {:>12}  {:>12}", s.depth, s.consumers, s.enqueued, s.acknowledged))?;
    }
    Ok(())
}

pub fn passwd() -> Result<(), String> {
    if std::io::stdin().is_terminal() {
        eprint!("password: ");
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| format!("cannot read the password: {e}"))?;
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        return Err("an empty password is not allowed".into());
    }
    println!("{}", crate::auth::hash_password(password)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_infer_types() {
        assert_eq!(parse_property("a=1").unwrap(), ("a".into(), Value::Int(1)));
        assert_eq!(parse_property("a=5000000000").unwrap(), ("a".into(), Value::Long(5_000_000_000)));
        assert_eq!(parse_property("a=1.5").unwrap(), ("a".into(), Value::Double(1.5)));
        assert_eq!(parse_property("a=true").unwrap(), ("a".into(), Value::Bool(true)));
        assert_eq!(parse_property("a=hello").unwrap(), ("a".into(), Value::String("hello".into())));
        assert_eq!(parse_property("a=NaN").unwrap(), ("a".into(), Value::String("NaN".into())));
        assert_eq!(parse_property("a:string=1").unwrap(), ("a".into(), Value::String("1".into())));
        assert_eq!(parse_property("a:long=1").unwrap(), ("a".into(), Value::Long(1)));
        assert!(parse_property("a:int=x").is_err());
        assert!(parse_property("novalue").is_err());
    }
}
