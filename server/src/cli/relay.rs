//! The floor under a request/reply round trip: the same path through a plain TCP relay
//! on loopback, with no broker and no protocol.
//!
//! A requester writes to the relay, which passes the bytes to a responder, which writes
//! them back through the relay: four one-way trips over loopback and a thread woken at
//! each, as through a server, with nothing else done. A broker's round trip cannot be
//! shorter, so `herald bench --request-reply --baseline` prints both, measured side by
//! side on the same machine.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

fn io(what: &str, e: std::io::Error) -> String {
    format!("raw TCP relay: cannot {what}: {e}")
}

/// Copies one `buf`-sized message from `from` to `to`; false once `from` has ended.
fn pass(from: &mut TcpStream, to: &mut TcpStream, buf: &mut [u8]) -> std::io::Result<bool> {
    match from.read_exact(buf) {
        Ok(()) => to.write_all(buf).map(|()| true),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

/// `count` round trips of `size` bytes through a relay thread and a responder thread;
/// returns each round trip's time in nanoseconds.
pub fn round_trips(size: usize, count: u64) -> Result<Vec<u64>, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| io("listen", e))?;
    let address = listener.local_addr().map_err(|e| io("listen", e))?;
    let connect = || -> Result<TcpStream, String> {
        let stream = TcpStream::connect(address).map_err(|e| io("connect", e))?;
        stream.set_nodelay(true).map_err(|e| io("set TCP_NODELAY", e))?;
        Ok(stream)
    };
    // Connected one after the other, so accepted in that order.
    let mut requester = connect()?;
    let mut responder = connect()?;
    let accept = || -> Result<TcpStream, String> {
        let (stream, _) = listener.accept().map_err(|e| io("accept", e))?;
        stream.set_nodelay(true).map_err(|e| io("set TCP_NODELAY", e))?;
        Ok(stream)
    };
    let mut to_requester = accept()?;
    let mut to_responder = accept()?;
    let relay = std::thread::spawn(move || -> std::io::Result<()> {
        let mut buf = vec![0; size];
        while pass(&mut to_requester, &mut to_responder, &mut buf)? {
            if !pass(&mut to_responder, &mut to_requester, &mut buf)? {
                break;
            }
        }
        Ok(())
    });
    let echo = {
        let mut back = responder.try_clone().map_err(|e| io("clone a socket", e))?;
        std::thread::spawn(move || -> std::io::Result<()> {
            let mut buf = vec![0; size];
            while pass(&mut responder, &mut back, &mut buf)? {}
            Ok(())
        })
    };
    let body = vec![b'x'; size];
    let mut reply = vec![0; size];
    let mut rtts = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let start = Instant::now();
        requester.write_all(&body).map_err(|e| io("write", e))?;
        requester.read_exact(&mut reply).map_err(|e| io("read", e))?;
        rtts.push(start.elapsed().as_nanos() as u64);
    }
    // The relay and the responder stop at the end of their input.
    drop(requester);
    relay.join().map_err(|_| "raw TCP relay: the relay panicked".to_string())?.map_err(|e| io("relay", e))?;
    echo.join().map_err(|_| "raw TCP relay: the responder panicked".to_string())?.map_err(|e| io("echo", e))?;
    Ok(rtts)
}
