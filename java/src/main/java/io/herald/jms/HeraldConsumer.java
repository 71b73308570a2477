package io.herald.jms;

import javax.jms.IllegalStateException;
import javax.jms.JMSException;
import javax.jms.Message;
import javax.jms.MessageListener;
import javax.jms.Queue;
import javax.jms.Session;
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
        this.resource = new NativeResource(this, handle, "consumer");
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
        resource.run(h -> Native.consumerSetWakeup(h, l == null ? 0 : s));
        listener = l;
        if (l != null) session.listenersChanged();
    }

    @Override public Message receive() throws JMSException { return receive(-1); }

    @Override public Message receive(long timeout) throws JMSException {
        return receiveWithin(timeout == 0 ? -1 : Math.max(timeout, 1));
    }

    @Override public Message receiveNoWait() throws JMSException { return receiveWithin(0); }

    private Message receiveWithin(long timeout) throws JMSException {
        checkClosed();
        if (listener != null) {
            throw new IllegalStateException("this consumer has a MessageListener; it cannot also be read with receive()");
        }
        return fetch(timeout);
    }

    private HeraldMessage fetch(long timeout) throws JMSException {
        byte[] b;
        try {
            b = resource.call(h -> Native.consumerReceive(h, timeout));
        } catch (IllegalStateException e) {
            if (closed || session.isClosed()) return null; // closed by another thread while waiting
            throw e;
        }
        if (b == null) return null;
        try {
            return MessageCodec.decodeDelivery(b, session);
        } catch (IllegalArgumentException e) {
            throw JmsExceptions.wrap(e);
        }
    }

    /** Delivery thread: hands one waiting message to the listener; false when none waits. */
    boolean deliverOne() throws JMSException {
        MessageListener l = listener;
        if (l == null || closed) return false;
        HeraldMessage m = fetch(0);
        if (m == null) return false;
        try {
            l.onMessage(m);
        } catch (RuntimeException e) {
            // A listener should not throw (JMS 2.0 section 8.7). In the automatic modes Herald
            // acknowledged the message on receipt, so it is not redelivered; in the others it
            // stays unacknowledged and the failure goes to the ExceptionListener.
            if (session.mode == Session.CLIENT_ACKNOWLEDGE || session.mode == Session.SESSION_TRANSACTED) {
                throw JmsExceptions.wrap(e);
            }
        }
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
