package io.herald.jms;

import java.lang.ref.WeakReference;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import javax.jms.ConnectionConsumer;
import javax.jms.ConnectionMetaData;
import javax.jms.Destination;
import javax.jms.ExceptionListener;
import javax.jms.IllegalStateException;
import javax.jms.JMSException;
import javax.jms.Queue;
import javax.jms.QueueSession;
import javax.jms.ServerSessionPool;
import javax.jms.Session;
import javax.jms.Topic;
import javax.jms.TopicSession;

/**
 * A connection: owns its sessions and temporary destinations and closes them with itself.
 * Also the classic QueueConnection and TopicConnection.
 */
public class HeraldConnection implements javax.jms.Connection, javax.jms.QueueConnection, javax.jms.TopicConnection {
    static final int GENERIC = 0, QUEUE = 1, TOPIC = 2;

    final int domain;
    /** Where every session, producer, consumer and browser of this connection takes its calls. */
    final Provider provider;
    private final NativeResource resource;
    private final List<HeraldSession> sessions = new CopyOnWriteArrayList<>();
    private volatile String clientId;
    private volatile boolean clientIdFixed;
    private volatile boolean started;
    private volatile boolean closed;
    private volatile ExceptionListener exceptionListener;
    private Thread watcher;

    HeraldConnection(Provider provider, String url, String user, String password, String clientId, int domain)
            throws JMSException {
        this.domain = domain;
        this.provider = provider;
        long h;
        try {
            h = provider.openConnection(url, user, password, clientId);
        } catch (HeraldNativeException e) {
            throw JmsExceptions.convert(e);
        }
        this.resource = new NativeResource(this, provider, h, "connection");
        this.clientId = clientId;
        this.clientIdFixed = clientId != null;
    }

    long handle() throws JMSException {
        return resource.handle();
    }

    void checkClosed() throws IllegalStateException {
        if (closed) throw new IllegalStateException("the connection is closed");
    }

    /** Any use but setClientID fixes the client ID. */
    private void used() throws JMSException {
        checkClosed();
        clientIdFixed = true;
    }

    boolean isStarted() {
        return started;
    }

    void removeSession(HeraldSession s) {
        sessions.remove(s);
    }

    private void checkNotOnDeliveryThread(String what) throws IllegalStateException {
        for (HeraldSession s : sessions) {
            if (s.isCallbackThread()) {
                throw new IllegalStateException(what + " may not be called from a MessageListener or CompletionListener of this connection");
            }
        }
    }

    // ---- sessions ----

    @Override public Session createSession(boolean transacted, int acknowledgeMode) throws JMSException {
        return createSession(transacted ? Session.SESSION_TRANSACTED : acknowledgeMode);
    }

    @Override public Session createSession(int sessionMode) throws JMSException {
        return newSession(sessionMode, GENERIC);
    }

    @Override public Session createSession() throws JMSException {
        return createSession(Session.AUTO_ACKNOWLEDGE);
    }

    HeraldSession newSession(int mode, int sessionDomain) throws JMSException {
        used();
        if (mode < 0 || mode > 3) {
            throw new JMSException("unknown session mode " + mode);
        }
        long h = resource.call((p, c) -> p.createSession(c, mode));
        HeraldSession s = new HeraldSession(this, h, mode, sessionDomain);
        sessions.add(s);
        return s;
    }

    @Override public QueueSession createQueueSession(boolean transacted, int acknowledgeMode) throws JMSException {
        return newSession(transacted ? Session.SESSION_TRANSACTED : acknowledgeMode, QUEUE);
    }

    @Override public TopicSession createTopicSession(boolean transacted, int acknowledgeMode) throws JMSException {
        return newSession(transacted ? Session.SESSION_TRANSACTED : acknowledgeMode, TOPIC);
    }

    // ---- client ID, metadata, listener ----

    @Override public String getClientID() throws JMSException {
        checkClosed();
        return clientId;
    }

    @Override public void setClientID(String id) throws JMSException {
        checkClosed();
        if (clientIdFixed) {
            throw new IllegalStateException(clientId != null ? "the client ID is already set to " + clientId
                    : "the client ID must be set before the connection is used");
        }
        if (id == null || id.isEmpty()) {
            throw new javax.jms.InvalidClientIDException("a client ID must not be null or empty");
        }
        resource.run((p, h) -> p.setClientId(h, id));
        clientId = id;
        clientIdFixed = true;
    }

    @Override public ConnectionMetaData getMetaData() throws JMSException {
        checkClosed();
        return HeraldConnectionMetaData.INSTANCE;
    }

    @Override public ExceptionListener getExceptionListener() throws JMSException {
        checkClosed();
        return exceptionListener;
    }

    @Override public void setExceptionListener(ExceptionListener listener) throws JMSException {
        used();
        exceptionListener = listener;
        if (listener != null) watchForFailure();
    }

    /**
     * With an ExceptionListener set, a daemon thread sits in a blocking native call that
     * returns as soon as the connection fails (a tcp:// server went away or stopped
     * answering) or is closed. On a failure it tells the listener, once, with the cause
     * linked. The thread holds the connection only weakly, so a forgotten connection is
     * still released by the Cleaner, and releasing the native connection ends the wait.
     */
    private synchronized void watchForFailure() {
        if (watcher != null || closed) return;
        WeakReference<HeraldConnection> ref = new WeakReference<>(this);
        Provider p = provider;
        long h = resource.rawHandle();
        watcher = new Thread(() -> watch(ref, p, h), "herald-connection-watch");
        watcher.setDaemon(true);
        watcher.start();
    }

    private static void watch(WeakReference<HeraldConnection> ref, Provider provider, long handle) {
        try {
            provider.awaitFailure(handle, -1);
        } catch (HeraldNativeException e) {
            HeraldConnection c = ref.get();
            // Closed meanwhile (a released handle is refused too): nothing to report.
            if (c == null || c.closed || c.resource.isReleased()) return;
            JMSException cause = JmsExceptions.convert(e);
            // The core words it (what broke, and that the application must create a new
            // connection since Herald does not reconnect); every binding shows that text.
            JMSException lost = new JMSException(e.getMessage(), "HERALD-CONNECTION-LOST");
            lost.setLinkedException(cause);
            lost.initCause(cause);
            c.onAsyncException(lost);
        }
    }

    /** Reports a failure no call could return (a listener's session died, the server went away). */
    void onAsyncException(JMSException e) {
        ExceptionListener l = exceptionListener;
        if (l != null) {
            l.onException(e);
        }
    }

    // ---- start, stop, close ----

    @Override public void start() throws JMSException {
        used();
        resource.run(Provider::start);
        started = true;
        for (HeraldSession s : sessions) {
            s.wakeDelivery();
        }
    }

    /** Pauses delivery; returns once no MessageListener of this connection is running. */
    @Override public void stop() throws JMSException {
        used();
        checkNotOnDeliveryThread("Connection.stop()");
        started = false;
        resource.run(Provider::stop);
        for (HeraldSession s : sessions) {
            s.awaitListenerIdle();
        }
    }

    /** Closes every session, producer, consumer and browser, and the temporary destinations. */
    @Override public void close() throws JMSException {
        if (closed) return;
        checkNotOnDeliveryThread("Connection.close()");
        closed = true;
        started = false;
        JMSException first = null;
        for (HeraldSession s : sessions) {
            try {
                s.close();
            } catch (JMSException e) {
                if (first == null) first = e;
            }
        }
        sessions.clear();
        // Releasing the handle closes the native connection, which ends the watcher's wait.
        resource.release();
        if (first != null) throw first;
    }

    boolean isClosed() {
        return closed;
    }

    // ---- temporary destinations ----

    HeraldTemporaryQueue createTemporaryQueue() throws JMSException {
        used();
        String uri = resource.call((p, h) -> p.createTemporary(h, false));
        return new HeraldTemporaryQueue(HeraldDestination.parse(uri).name, this);
    }

    HeraldTemporaryTopic createTemporaryTopic() throws JMSException {
        used();
        String uri = resource.call((p, h) -> p.createTemporary(h, true));
        return new HeraldTemporaryTopic(HeraldDestination.parse(uri).name, this);
    }

    void deleteTemporary(HeraldDestination d) throws JMSException {
        checkClosed();
        resource.run((p, h) -> p.deleteTemporary(h, d.uri()));
    }

    // ---- server session pools: application-server facilities Herald does not offer ----

    private static JMSException noConnectionConsumers() {
        return new JMSException("Herald does not offer connection consumers (ServerSessionPool); use a MessageListener");
    }

    @Override public ConnectionConsumer createConnectionConsumer(Destination d, String s, ServerSessionPool p, int m) throws JMSException { throw noConnectionConsumers(); }
    @Override public ConnectionConsumer createSharedConnectionConsumer(Topic t, String n, String s, ServerSessionPool p, int m) throws JMSException { throw noConnectionConsumers(); }
    @Override public ConnectionConsumer createDurableConnectionConsumer(Topic t, String n, String s, ServerSessionPool p, int m) throws JMSException { throw noConnectionConsumers(); }
    @Override public ConnectionConsumer createSharedDurableConnectionConsumer(Topic t, String n, String s, ServerSessionPool p, int m) throws JMSException { throw noConnectionConsumers(); }
    @Override public ConnectionConsumer createConnectionConsumer(Queue q, String s, ServerSessionPool p, int m) throws JMSException { throw noConnectionConsumers(); }
    @Override public ConnectionConsumer createConnectionConsumer(Topic t, String s, ServerSessionPool p, int m) throws JMSException { throw noConnectionConsumers(); }
}
