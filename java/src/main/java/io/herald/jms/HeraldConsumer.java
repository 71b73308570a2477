package io.herald.jms;

import javax.jms.IllegalStateException;
import javax.jms.JMSException;
import javax.jms.Message;
import javax.jms.MessageListener;
import javax.jms.Queue;
import javax.jms.Topic;

/**
 * A consumer, and the classic QueueReceiver and TopicSubscriber. {@code receive} is one
 * blocking native call on the caller's thread; a MessageListener is served by the
 * session's delivery thread through the same call.
 */
public class HeraldConsumer implements javax.jms.MessageConsumer, javax.jms.QueueReceiver, javax.jms.TopicSubscriber {
    private final HeraldSession session;
    private final NativeResource resource;
    private final HeraldDestination destination;
    private final String selector;
    private final boolean noLocal;
    private volatile MessageListener listener;
    private volatile boolean closed;

    HeraldConsumer(HeraldSession session, long handle, HeraldDestination destination, String selector, boolean noLocal) {
        this.session = session;
        this.resource = new NativeResource(this, session.connection.provider, handle, "consumer");
        this.destination = destination;
        this.selector = selector;
        this.noLocal = noLocal;
    }

    void checkClosed() throws IllegalStateException {
        if (closed || session.isClosed()) throw new IllegalStateException("the consumer is closed");
    }

    boolean isClosed() {
        return closed;
    }

    MessageListener listener() {
        return listener;
    }

    @Override public String getMessageSelector() throws JMSException { checkClosed(); return selector; }
    @Override public MessageListener getMessageListener() throws JMSException { checkClosed(); return listener; }
    @Override public Queue getQueue() throws JMSException { checkClosed(); return (Queue) destination; }
    @Override public Topic getTopic() throws JMSException { checkClosed(); return (Topic) destination; }
    @Override public boolean getNoLocal() throws JMSException { checkClosed(); return noLocal; }

    @Override public void setMessageListener(MessageListener l) throws JMSException {
        checkClosed();
        long s = session.handle();
        resource.run((p, h) -> p.setWakeup(h, l == null ? 0 : s));
        listener = l;
        if (l != null) session.listenersChanged();
    }

    /** Waits for the next message however long it takes (the native wait's -1). */
    @Override public Message receive() throws JMSException { return receiveWithin(-1); }

    /** A timeout of 0 never expires, as JMS says; a negative one waits the least it can. */
    @Override public Message receive(long timeout) throws JMSException {
        return receiveWithin(nativeTimeout(timeout));
    }

    /** The native wait's timeout for a JMS one. */
    static long nativeTimeout(long timeout) {
        return timeout == 0 ? -1 : Math.max(timeout, 1);
    }

    @Override public Message receiveNoWait() throws JMSException { return receiveWithin(0); }

    private Message receiveWithin(long timeout) throws JMSException {
        checkReceivable("receive()");
        return fetch(timeout, false);
    }

    /** An open consumer without a MessageListener may be read by {@code call}. */
    private void checkReceivable(String call) throws IllegalStateException {
        checkClosed();
        if (listener != null) {
            throw new IllegalStateException("this consumer has a MessageListener; it cannot also be read with " + call);
        }
    }

    /**
     * {@code JMSConsumer.receiveBody}, with the native wait's timeout (-1 forever, 0 none).
     * A body that cannot be read as {@code c} throws MessageFormatException, and then, in
     * AUTO_ACKNOWLEDGE and DUPS_OK_ACKNOWLEDGE, the message is not acknowledged but comes
     * again before any later one (JMS 2.0, JMSConsumer.receiveBody): it is received held,
     * and acknowledged only once its body has been read, else recovered.
     */
    <T> T receiveBody(Class<T> c, long timeout) throws JMSException {
        checkReceivable("receiveBody()");
        boolean automatic = session.acknowledgesAfterListener;
        HeraldMessage m = fetch(timeout, automatic);
        if (m == null) return null;
        T body;
        try {
            body = m.getBody(c);
        } catch (javax.jms.MessageFormatException e) {
            if (automatic) session.recoverHeld();
            throw e;
        }
        if (automatic) session.acknowledgeHeld();
        return body;
    }

    private HeraldMessage fetch(long timeout, boolean hold) throws JMSException {
        byte[] b;
        try {
            b = resource.call((p, h) -> p.receive(h, timeout, hold));
        } catch (IllegalStateException e) {
            if (closed || session.isClosed()) return null; // closed by another thread while waiting
            throw e;
        }
        if (b == null) return null;
        session.transaction.onWork();
        try {
            return MessageCodec.decodeDelivery(b, session);
        } catch (IllegalArgumentException e) {
            throw JmsExceptions.wrap(e);
        }
    }

    /**
     * Delivery thread: hands one waiting message to the listener; false when none waits.
     * In AUTO_ACKNOWLEDGE and DUPS_OK_ACKNOWLEDGE the message is acknowledged only once
     * onMessage returns; if it throws a RuntimeException the session recovers, so the
     * message comes again with JMSRedelivered set (JMS 2.0 section 8.7), until the broker's
     * delivery limit sends it to the dead letter queue. In CLIENT_ACKNOWLEDGE and
     * transacted sessions it stays unacknowledged and the failure goes to the
     * ExceptionListener.
     */
    boolean deliverOne() throws JMSException {
        MessageListener l = listener;
        if (l == null || closed) return false;
        HeraldMessage m = fetch(0, true);
        if (m == null) return false;
        boolean automatic = session.acknowledgesAfterListener;
        try {
            l.onMessage(m);
        } catch (RuntimeException e) {
            if (automatic) {
                session.listenerFailed();
                return true;
            }
            throw JmsExceptions.wrap(e);
        }
        if (automatic) session.acknowledgeHeld();
        return true;
    }

    void closeQuietly() {
        closed = true;
        resource.release();
    }

    @Override public void close() throws JMSException {
        if (closed) return;
        closed = true;
        if (!session.isCallbackThread()) {
            session.awaitListenerIdle();
        }
        resource.release();
        session.removeConsumer(this);
    }
}
