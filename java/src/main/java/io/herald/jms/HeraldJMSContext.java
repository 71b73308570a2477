package io.herald.jms;

import java.io.Serializable;

import javax.jms.BytesMessage;
import javax.jms.ConnectionMetaData;
import javax.jms.Destination;
import javax.jms.ExceptionListener;
import javax.jms.IllegalStateRuntimeException;
import javax.jms.JMSConsumer;
import javax.jms.JMSContext;
import javax.jms.JMSException;
import javax.jms.JMSProducer;
import javax.jms.JMSRuntimeException;
import javax.jms.MapMessage;
import javax.jms.Message;
import javax.jms.ObjectMessage;
import javax.jms.Queue;
import javax.jms.QueueBrowser;
import javax.jms.Session;
import javax.jms.StreamMessage;
import javax.jms.TemporaryQueue;
import javax.jms.TemporaryTopic;
import javax.jms.TextMessage;
import javax.jms.Topic;

/**
 * The JMS 2.0 simplified API over one connection and one session. Contexts made by
 * {@link #createContext(int)} share the connection; the connection closes with the last.
 */
public class HeraldJMSContext implements JMSContext {
    interface Action<T> { T run() throws JMSException; }

    static <T> T unchecked(Action<T> a) {
        try {
            return a.run();
        } catch (JMSException e) {
            throw JmsExceptions.toRuntime(e);
        }
    }

    private final HeraldConnection connection;
    private final int mode;
    private final java.util.concurrent.atomic.AtomicInteger shares;
    private HeraldSession session;
    private HeraldProducer producer;
    private boolean autoStart = true;
    private boolean closed;

    HeraldJMSContext(HeraldConnection connection, int mode) {
        this(connection, mode, new java.util.concurrent.atomic.AtomicInteger(1));
    }

    private HeraldJMSContext(HeraldConnection connection, int mode, java.util.concurrent.atomic.AtomicInteger shares) {
        if (mode < 0 || mode > 3) throw new JMSRuntimeException("unknown session mode " + mode);
        this.connection = connection;
        this.mode = mode;
        this.shares = shares;
    }

    private void checkClosed() {
        if (closed) throw new IllegalStateRuntimeException("the JMSContext is closed");
    }

    synchronized HeraldSession session() {
        checkClosed();
        if (session == null) {
            session = unchecked(() -> connection.newSession(mode, HeraldConnection.GENERIC));
        }
        return session;
    }

    synchronized HeraldProducer sharedProducer() {
        if (producer == null) {
            producer = (HeraldProducer) unchecked(() -> session().createProducer(null));
        }
        return producer;
    }

    private void maybeStart() {
        if (autoStart) unchecked(() -> { connection.start(); return null; });
    }

    @Override public JMSContext createContext(int sessionMode) {
        checkClosed();
        shares.incrementAndGet();
        return new HeraldJMSContext(connection, sessionMode, shares);
    }

    @Override public JMSProducer createProducer() {
        session();
        return new HeraldJMSProducer(this);
    }

    @Override public String getClientID() { return unchecked(connection::getClientID); }
    @Override public void setClientID(String id) { checkClosed(); unchecked(() -> { connection.setClientID(id); return null; }); }
    @Override public ConnectionMetaData getMetaData() { return unchecked(connection::getMetaData); }
    @Override public ExceptionListener getExceptionListener() { return unchecked(connection::getExceptionListener); }
    @Override public void setExceptionListener(ExceptionListener l) { unchecked(() -> { connection.setExceptionListener(l); return null; }); }
    @Override public void start() { checkClosed(); unchecked(() -> { connection.start(); return null; }); }
    @Override public void stop() { checkClosed(); unchecked(() -> { connection.stop(); return null; }); }
    @Override public void setAutoStart(boolean a) { checkClosed(); autoStart = a; }
    @Override public boolean getAutoStart() { checkClosed(); return autoStart; }

    @Override public synchronized void close() {
        if (closed) return;
        if (session != null && session.isCallbackThread()) {
            throw new IllegalStateRuntimeException("a JMSContext may not be closed from its own listener");
        }
        closed = true;
        unchecked(() -> {
            if (session != null) session.close();
            if (shares.decrementAndGet() == 0) connection.close();
            return null;
        });
    }

    @Override public BytesMessage createBytesMessage() { return unchecked(session()::createBytesMessage); }
    @Override public MapMessage createMapMessage() { return unchecked(session()::createMapMessage); }
    @Override public Message createMessage() { return unchecked(session()::createMessage); }
    @Override public ObjectMessage createObjectMessage() { return unchecked(session()::createObjectMessage); }
    @Override public ObjectMessage createObjectMessage(Serializable o) { return unchecked(() -> session().createObjectMessage(o)); }
    @Override public StreamMessage createStreamMessage() { return unchecked(session()::createStreamMessage); }
    @Override public TextMessage createTextMessage() { return unchecked(session()::createTextMessage); }
    @Override public TextMessage createTextMessage(String t) { return unchecked(() -> session().createTextMessage(t)); }

    @Override public boolean getTransacted() { return unchecked(session()::getTransacted); }
    @Override public int getSessionMode() { checkClosed(); return mode; }
    @Override public void commit() { unchecked(() -> { session().commit(); return null; }); }
    @Override public void rollback() { unchecked(() -> { session().rollback(); return null; }); }
    @Override public void recover() { unchecked(() -> { session().recover(); return null; }); }
    @Override public void acknowledge() {
        checkClosed();
        if (mode == Session.CLIENT_ACKNOWLEDGE) unchecked(() -> { session().acknowledgeFromMessage(); return null; });
    }

    private JMSConsumer consumer(Action<javax.jms.MessageConsumer> make) {
        HeraldConsumer c = (HeraldConsumer) unchecked(make);
        maybeStart();
        return new HeraldJMSConsumer(c);
    }

    @Override public JMSConsumer createConsumer(Destination d) { return consumer(() -> session().createConsumer(d)); }
    @Override public JMSConsumer createConsumer(Destination d, String s) { return consumer(() -> session().createConsumer(d, s)); }
    @Override public JMSConsumer createConsumer(Destination d, String s, boolean n) { return consumer(() -> session().createConsumer(d, s, n)); }
    @Override public JMSConsumer createSharedConsumer(Topic t, String name) { return consumer(() -> session().createSharedConsumer(t, name)); }
    @Override public JMSConsumer createSharedConsumer(Topic t, String name, String s) { return consumer(() -> session().createSharedConsumer(t, name, s)); }
    @Override public JMSConsumer createDurableConsumer(Topic t, String name) { return consumer(() -> session().createDurableConsumer(t, name)); }
    @Override public JMSConsumer createDurableConsumer(Topic t, String name, String s, boolean n) { return consumer(() -> session().createDurableConsumer(t, name, s, n)); }
    @Override public JMSConsumer createSharedDurableConsumer(Topic t, String name) { return consumer(() -> session().createSharedDurableConsumer(t, name)); }
    @Override public JMSConsumer createSharedDurableConsumer(Topic t, String name, String s) { return consumer(() -> session().createSharedDurableConsumer(t, name, s)); }
    @Override public QueueBrowser createBrowser(Queue q) { return unchecked(() -> session().createBrowser(q)); }
    @Override public QueueBrowser createBrowser(Queue q, String s) { return unchecked(() -> session().createBrowser(q, s)); }
    @Override public Queue createQueue(String name) { return unchecked(() -> session().createQueue(name)); }
    @Override public Topic createTopic(String name) { return unchecked(() -> session().createTopic(name)); }
    @Override public TemporaryQueue createTemporaryQueue() { return unchecked(session()::createTemporaryQueue); }
    @Override public TemporaryTopic createTemporaryTopic() { return unchecked(session()::createTemporaryTopic); }
    @Override public void unsubscribe(String name) { unchecked(() -> { session().unsubscribe(name); return null; }); }
}
