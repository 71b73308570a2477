package io.herald.jms;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * An in-memory {@link Provider} with no native code, for testing the JMS layer's rules: queues,
 * topics fanning out to their subscriptions, temporary destinations, browsing, and the
 * acknowledge, commit, rollback and recover bookkeeping of each session mode. It keeps
 * messages in the same MessagePack form the native side uses, so {@link MessageCodec} is
 * exercised as in production. It does not evaluate selectors, expiry or delivery delay.
 *
 * <p>Tests steer it with {@link #failNext} (the next call of an operation throws a
 * {@link HeraldNativeException} of a given kind, as the native side would) and
 * {@link #loseConnections}, and check it through {@link #calls} and {@link #liveCount}.
 * One monitor guards all state; blocking calls wait on it.
 */
final class MockProvider implements Provider {
    private static final int TRANSACTED = 0, AUTO = 1, CLIENT = 2, DUPS_OK = 3;

    private static final class Entry {
        final byte[] message;
        final Conn origin;
        final int deliveryCount;

        Entry(byte[] message, Conn origin, int deliveryCount) {
            this.message = message;
            this.origin = origin;
            this.deliveryCount = deliveryCount;
        }

        Entry redelivered() {
            return new Entry(message, origin, deliveryCount + 1);
        }

        /** A {@code Delivery}: {@code [message, count]}. */
        byte[] delivery() {
            byte[] d = new byte[message.length + 2];
            d[0] = (byte) 0x92;
            System.arraycopy(message, 0, d, 1, message.length);
            d[d.length - 1] = (byte) deliveryCount; // a positive fixint while below 128
            return d;
        }
    }

    /** A place messages wait: a queue, or one subscription of a topic. */
    private static final class Box {
        final Deque<Entry> entries = new ArrayDeque<>();
        /** Subscriptions only: skip messages of this connection (noLocal). */
        Conn noLocalOf;
        final String name;
        int consumers;

        Box(String name) {
            this.name = name;
        }
    }

    private static final class Taken {
        final Box from;
        final Entry entry;

        Taken(Box from, Entry entry) {
            this.from = from;
            this.entry = entry;
        }
    }

    private static final class Conn {
        String clientId;
        boolean started;
        boolean released;
        HeraldNativeException failure;
        final List<String> temporaries = new ArrayList<>();
    }

    private static final class Sess {
        final Conn conn;
        final int mode;
        final List<Taken> unacknowledged = new ArrayList<>();
        final List<Taken> held = new ArrayList<>();
        final List<Object[]> pendingSends = new ArrayList<>();
        boolean rung;
        boolean released;

        Sess(Conn conn, int mode) {
            this.conn = conn;
            this.mode = mode;
        }
    }

    private static final class Prod {
        final Sess session;
        final String destination;

        Prod(Sess session, String destination) {
            this.session = session;
            this.destination = destination;
        }
    }

    private static final class Cons {
        final Sess session;
        final Box box;
        final String topic;
        final boolean ownBox;
        boolean released;

        Cons(Sess session, Box box, String topic, boolean ownBox) {
            this.session = session;
            this.box = box;
            this.topic = topic;
            this.ownBox = ownBox;
        }
    }

    private static final class Brow {
        final Iterator<Entry> snapshot;

        Brow(Iterator<Entry> snapshot) {
            this.snapshot = snapshot;
        }
    }

    private long nextHandle = 1;
    private int nextTemporary = 1;
    private final Map<Long, Object> handles = new HashMap<>();
    /** Queues and temporary queues by URI. */
    private final Map<String, Box> queues = new HashMap<>();
    /** The subscriptions of each topic URI. */
    private final Map<String, List<Box>> subscriptions = new HashMap<>();
    /** Durable and shared subscriptions by name. */
    private final Map<String, Box> named = new HashMap<>();
    private final List<String> calls = Collections.synchronizedList(new ArrayList<>());
    private String failOperation;
    private int failKind;
    private String failMessage;

    // ---- steering and inspection ----

    /** The next call of {@code operation} (a Provider method name) throws this failure. */
    synchronized void failNext(String operation, int kind, String message) {
        failOperation = operation;
        failKind = kind;
        failMessage = message;
    }

    /** Every open connection fails as a lost tcp:// connection does: awaitFailure throws. */
    synchronized void loseConnections(String message) {
        for (Object o : handles.values()) {
            if (o instanceof Conn) ((Conn) o).failure = new HeraldNativeException(HeraldNativeException.IO, message);
        }
        notifyAll();
    }

    /** The operations called so far, in order. */
    List<String> calls() {
        synchronized (calls) {
            return new ArrayList<>(calls);
        }
    }

    /** Handles given out and not yet released. */
    synchronized int liveCount() {
        return handles.size();
    }

    /** How many messages wait in a queue (by URI, e.g. {@code queue://q}). */
    synchronized int depth(String queueUri) {
        Box b = queues.get(queueUri);
        return b == null ? 0 : b.entries.size();
    }

    private void enter(String operation) {
        calls.add(operation);
        if (operation.equals(failOperation)) {
            failOperation = null;
            throw new HeraldNativeException(failKind, failMessage);
        }
    }

    private <T> T get(long handle, Class<T> type) {
        Object o = handles.get(handle);
        if (!type.isInstance(o)) {
            throw new HeraldNativeException(HeraldNativeException.ILLEGAL_STATE, "no open " + type.getSimpleName() + " " + handle);
        }
        return type.cast(o);
    }

    private long register(Object o) {
        long h = nextHandle++;
        handles.put(h, o);
        return h;
    }

    private Box queue(String uri) {
        if (uri.startsWith("queue://")) return queues.computeIfAbsent(uri, Box::new);
        Box b = queues.get(uri);
        if (b == null) throw new HeraldNativeException(HeraldNativeException.INVALID_DESTINATION, uri + " does not exist");
        return b;
    }

    private static boolean isTopic(String uri) {
        return uri.startsWith("topic://") || uri.startsWith("temp-topic://");
    }

    // ---- connections ----

    @Override public synchronized long openConnection(String url, String user, String password, String clientId) {
        enter("openConnection");
        Conn c = new Conn();
        if (clientId != null) checkClientId(clientId);
        c.clientId = clientId;
        return register(c);
    }

    private void checkClientId(String id) {
        for (Object o : handles.values()) {
            if (o instanceof Conn && id.equals(((Conn) o).clientId)) {
                throw new HeraldNativeException(HeraldNativeException.INVALID_CLIENT_ID, "client ID " + id + " is in use");
            }
        }
    }

    @Override public synchronized void setClientId(long connection, String clientId) {
        enter("setClientId");
        Conn c = get(connection, Conn.class);
        checkClientId(clientId);
        c.clientId = clientId;
    }

    @Override public synchronized void start(long connection) {
        enter("start");
        get(connection, Conn.class).started = true;
        ringAll();
    }

    @Override public synchronized void stop(long connection) {
        enter("stop");
        get(connection, Conn.class).started = false;
    }

    @Override public synchronized void awaitFailure(long connection, long timeoutMillis) {
        Conn c = get(connection, Conn.class);
        long deadline = timeoutMillis < 0 ? Long.MAX_VALUE : System.currentTimeMillis() + timeoutMillis;
        while (!c.released && c.failure == null) {
            if (!waitUntil(deadline)) return;
        }
        if (!c.released && c.failure != null) throw c.failure;
    }

    @Override public synchronized long createSession(long connection, int sessionMode) {
        enter("createSession");
        Conn c = get(connection, Conn.class);
        if (sessionMode < TRANSACTED || sessionMode > DUPS_OK) {
            throw new HeraldNativeException(HeraldNativeException.INVALID_ARGUMENT, "session mode " + sessionMode);
        }
        return register(new Sess(c, sessionMode));
    }

    @Override public synchronized String createTemporary(long connection, boolean topic) {
        enter("createTemporary");
        Conn c = get(connection, Conn.class);
        String uri = (topic ? "temp-topic://" : "temp-queue://") + "mock-temporary-" + nextTemporary++;
        if (!topic) queues.put(uri, new Box(uri));
        c.temporaries.add(uri);
        return uri;
    }

    @Override public synchronized void deleteTemporary(long connection, String uri) {
        enter("deleteTemporary");
        Conn c = get(connection, Conn.class);
        if (!c.temporaries.contains(uri)) {
            throw new HeraldNativeException(HeraldNativeException.INVALID_DESTINATION, uri + " is not a temporary destination of this connection");
        }
        for (Object o : handles.values()) {
            if (o instanceof Cons && (((Cons) o).box.name.equals(uri) || uri.equals(((Cons) o).topic))) {
                throw new HeraldNativeException(HeraldNativeException.ILLEGAL_STATE, uri + " still has consumers");
            }
        }
        c.temporaries.remove(uri);
        queues.remove(uri);
        subscriptions.remove(uri);
    }

    // ---- sessions ----

    @Override public synchronized long createProducer(long session, String destinationUri) {
        enter("createProducer");
        return register(new Prod(get(session, Sess.class), destinationUri));
    }

    @Override public synchronized long createConsumer(long session, String uri, String selector, boolean noLocal,
            String subscription, boolean durable, boolean shared) {
        enter("createConsumer");
        Sess s = get(session, Sess.class);
        if (!isTopic(uri)) {
            Box b = queue(uri);
            b.consumers++;
            return register(new Cons(s, b, null, false));
        }
        if (uri.startsWith("temp-topic://") && !s.conn.temporaries.contains(uri) && !isLiveTemporary(uri)) {
            throw new HeraldNativeException(HeraldNativeException.INVALID_DESTINATION, uri + " does not exist");
        }
        Box b;
        boolean own = subscription == null;
        if (own) {
            b = new Box(uri);
            subscriptions.computeIfAbsent(uri, k -> new ArrayList<>()).add(b);
        } else {
            String key = (durable && !shared ? s.conn.clientId + ":" : "") + subscription;
            b = named.get(key);
            if (b == null) {
                b = new Box(subscription);
                named.put(key, b);
                subscriptions.computeIfAbsent(uri, k -> new ArrayList<>()).add(b);
            } else if (b.consumers > 0 && !shared) {
                throw new HeraldNativeException(HeraldNativeException.ILLEGAL_STATE, "subscription " + subscription + " already has a consumer");
            }
        }
        if (noLocal) b.noLocalOf = s.conn;
        b.consumers++;
        return register(new Cons(s, b, uri, own));
    }

    private boolean isLiveTemporary(String uri) {
        for (Object o : handles.values()) {
            if (o instanceof Conn && ((Conn) o).temporaries.contains(uri)) return true;
        }
        return false;
    }

    @Override public synchronized long createBrowser(long session, String queueUri, String selector) {
        enter("createBrowser");
        get(session, Sess.class);
        return register(new Brow(new ArrayList<>(queue(queueUri).entries).iterator()));
    }

    @Override public synchronized void unsubscribe(long session, String subscription) {
        enter("unsubscribe");
        Sess s = get(session, Sess.class);
        String key = s.conn.clientId + ":" + subscription;
        Box b = named.get(key);
        if (b == null) throw new HeraldNativeException(HeraldNativeException.INVALID_DESTINATION, "no durable subscription " + subscription);
        if (b.consumers > 0) throw new HeraldNativeException(HeraldNativeException.ILLEGAL_STATE, "subscription " + subscription + " has a consumer");
        named.remove(key);
        for (List<Box> l : subscriptions.values()) l.remove(b);
    }

    @Override public synchronized void acknowledge(long session) {
        enter("acknowledge");
        get(session, Sess.class).unacknowledged.clear();
    }

    @Override public synchronized void acknowledgeHeld(long session) {
        enter("acknowledgeHeld");
        get(session, Sess.class).held.clear();
    }

    @Override public synchronized void commit(long session) {
        enter("commit");
        Sess s = get(session, Sess.class);
        if (s.mode != TRANSACTED) throw new HeraldNativeException(HeraldNativeException.ILLEGAL_STATE, "not transacted");
        for (Object[] p : s.pendingSends) route((String) p[0], (byte[]) p[1], s.conn);
        s.pendingSends.clear();
        s.unacknowledged.clear();
    }

    @Override public synchronized void rollback(long session) {
        enter("rollback");
        Sess s = get(session, Sess.class);
        if (s.mode != TRANSACTED) throw new HeraldNativeException(HeraldNativeException.ILLEGAL_STATE, "not transacted");
        s.pendingSends.clear();
        giveBack(s.unacknowledged);
    }

    @Override public synchronized void recover(long session) {
        enter("recover");
        Sess s = get(session, Sess.class);
        giveBack(s.held);
        giveBack(s.unacknowledged);
    }

    /** Puts taken messages back at the front of their boxes, in their order, counted once more. */
    private void giveBack(List<Taken> taken) {
        for (int i = taken.size() - 1; i >= 0; i--) {
            Taken t = taken.get(i);
            t.from.entries.addFirst(t.entry.redelivered());
        }
        taken.clear();
        ringAll();
    }

    @Override public synchronized boolean acknowledgesAutomatically(long session) {
        int mode = get(session, Sess.class).mode;
        return mode == AUTO || mode == DUPS_OK;
    }

    @Override public synchronized boolean awaitDelivery(long session, long timeoutMillis) {
        Sess s = get(session, Sess.class);
        long deadline = System.currentTimeMillis() + Math.max(timeoutMillis, 0);
        while (!s.rung && !s.released) {
            if (!waitUntil(deadline)) return false;
        }
        boolean rung = s.rung;
        s.rung = false;
        return rung;
    }

    @Override public synchronized void wakeDelivery(long session) {
        Object o = handles.get(session);
        if (o instanceof Sess) {
            ((Sess) o).rung = true;
            notifyAll();
        }
    }

    private void ringAll() {
        for (Object o : handles.values()) {
            if (o instanceof Sess) ((Sess) o).rung = true;
        }
        notifyAll();
    }

    // ---- producers, consumers, browsers ----

    @Override public synchronized void send(long producer, String destinationUri, byte[] message, int length,
            int deliveryMode, int priority, long timeToLive, long deliveryDelay, boolean disableMessageId,
            boolean disableTimestamp, long[] sent) {
        enter("send");
        Prod p = get(producer, Prod.class);
        String to = destinationUri != null ? destinationUri : p.destination;
        if (to == null) throw new HeraldNativeException(HeraldNativeException.INVALID_DESTINATION, "no destination");
        if (!isTopic(to)) queue(to);
        if (length < 0 || length > message.length) throw new HeraldNativeException(HeraldNativeException.INVALID_ARGUMENT, "length");
        long now = System.currentTimeMillis();
        UUID id = UUID.randomUUID();
        sent[0] = disableTimestamp ? 0 : now;
        sent[1] = timeToLive > 0 ? now + timeToLive : 0;
        sent[2] = now + deliveryDelay;
        sent[3] = disableMessageId ? 0 : 1;
        sent[4] = id.getMostSignificantBits();
        sent[5] = id.getLeastSignificantBits();
        // Stamp the headers the broker sets, as the native side does.
        byte[] wrapped = new byte[length + 2];
        wrapped[0] = (byte) 0x92;
        System.arraycopy(message, 0, wrapped, 1, length);
        wrapped[length + 1] = 1;
        HeraldMessage m = MessageCodec.decodeDelivery(wrapped, null);
        m.messageId = disableMessageId ? null : "ID:" + id;
        m.timestamp = sent[0];
        m.expiration = sent[1];
        m.deliveryTime = sent[2];
        m.deliveryMode = deliveryMode;
        m.priority = priority;
        byte[] stored;
        try {
            stored = MessageCodec.encode(m);
        } catch (javax.jms.JMSException e) {
            throw new HeraldNativeException(HeraldNativeException.MESSAGE_FORMAT, e.getMessage());
        }
        if (p.session.mode == TRANSACTED) {
            p.session.pendingSends.add(new Object[] {to, stored});
        } else {
            route(to, stored, p.session.conn);
        }
    }

    private void route(String to, byte[] message, Conn origin) {
        if (isTopic(to)) {
            for (Box b : subscriptions.getOrDefault(to, Collections.emptyList())) {
                if (b.noLocalOf != origin) b.entries.add(new Entry(message, origin, 1));
            }
        } else {
            queue(to).entries.add(new Entry(message, origin, 1));
        }
        ringAll();
    }

    @Override public synchronized byte[] receive(long consumer, long timeoutMillis, boolean hold) {
        enter("receive");
        Cons c = get(consumer, Cons.class);
        long deadline = timeoutMillis < 0 ? Long.MAX_VALUE : System.currentTimeMillis() + timeoutMillis;
        while (true) {
            if (c.released) throw new HeraldNativeException(HeraldNativeException.ILLEGAL_STATE, "consumer closed");
            if (c.session.conn.started && !c.box.entries.isEmpty()) {
                Entry e = c.box.entries.pollFirst();
                Sess s = c.session;
                if (s.mode == TRANSACTED || s.mode == CLIENT) {
                    s.unacknowledged.add(new Taken(c.box, e));
                } else if (hold) {
                    s.held.add(new Taken(c.box, e));
                }
                return e.delivery();
            }
            if (timeoutMillis == 0 || !waitUntil(deadline)) return null;
        }
    }

    @Override public synchronized void setWakeup(long consumer, long session) {
        enter("setWakeup");
        get(consumer, Cons.class);
    }

    @Override public synchronized byte[] browseNext(long browser) {
        Brow b = get(browser, Brow.class);
        return b.snapshot.hasNext() ? b.snapshot.next().delivery() : null;
    }

    // ---- every handle ----

    @Override public synchronized void release(long handle) {
        Object o = handles.remove(handle);
        if (o instanceof Conn) {
            Conn c = (Conn) o;
            c.released = true;
            for (String t : c.temporaries) {
                queues.remove(t);
                subscriptions.remove(t);
            }
        } else if (o instanceof Sess) {
            Sess s = (Sess) o;
            s.released = true;
            s.pendingSends.clear();
            giveBack(s.held);
            giveBack(s.unacknowledged);
        } else if (o instanceof Cons) {
            Cons c = (Cons) o;
            c.released = true;
            c.box.consumers--;
            if (c.ownBox) {
                List<Box> subs = subscriptions.get(c.topic);
                if (subs != null) subs.remove(c.box);
            }
        }
        notifyAll();
    }

    /** Waits on the monitor until notified or the deadline; false once the deadline has passed. */
    private boolean waitUntil(long deadline) {
        long left = deadline - System.currentTimeMillis();
        if (left <= 0) return false;
        try {
            wait(Math.min(left, 1000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HeraldNativeException(HeraldNativeException.INTERNAL, "interrupted");
        }
        return true;
    }
}
