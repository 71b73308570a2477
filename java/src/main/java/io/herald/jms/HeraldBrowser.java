package io.herald.jms;

import java.util.Enumeration;
import java.util.NoSuchElementException;

import javax.jms.IllegalStateException;
import javax.jms.JMSException;
import javax.jms.Queue;

/**
 * Browses a queue without consuming. Each enumeration walks the queue afresh, in delivery order, showing the messages
 * waiting as it reaches them.
 */
public class HeraldBrowser implements javax.jms.QueueBrowser {
    private final HeraldSession session;
    private final Queue queue;
    private final String selector;
    private volatile boolean closed;
    private final java.util.List<NativeResource> open = new java.util.concurrent.CopyOnWriteArrayList<>();

    HeraldBrowser(HeraldSession session, Queue queue, String selector) throws JMSException {
        this.session = session;
        this.queue = queue;
        this.selector = selector;
        // Validate the queue and the selector now, as JMS requires.
        open.add(startWalk());
    }

    private NativeResource startWalk() throws JMSException {
        long s = session.handle();
        Provider provider = session.connection.provider;
        String uri = ((HeraldDestination) queue).uri();
        long h;
        try {
            h = provider.createBrowser(s, uri, selector);
        } catch (HeraldNativeException e) {
            throw JmsExceptions.convert(e);
        }
        return new NativeResource(this, provider, h, "browser");
    }

    private void checkClosed() throws IllegalStateException {
        if (closed || session.isClosed()) throw new IllegalStateException("the browser is closed");
    }

    @Override public Queue getQueue() throws JMSException { checkClosed(); return queue; }
    @Override public String getMessageSelector() throws JMSException { checkClosed(); return selector; }

    @Override public Enumeration<?> getEnumeration() throws JMSException {
        checkClosed();
        NativeResource r = open.isEmpty() ? null : open.remove(0);
        NativeResource walk = r != null ? r : startWalk();
        open.add(walk);
        return new Enumeration<Object>() {
            private HeraldMessage next;
            private boolean done;

            private void advance() {
                if (next != null || done) return;
                byte[] b;
                try {
                    b = walk.call(Provider::browseNext);
                } catch (JMSException e) {
                    b = null;
                }
                if (b == null) {
                    done = true;
                    walk.release();
                    open.remove(walk);
                } else {
                    next = MessageCodec.decodeDelivery(b, null);
                }
            }

            @Override public boolean hasMoreElements() {
                advance();
                return next != null;
            }

            @Override public Object nextElement() {
                advance();
                if (next == null) throw new NoSuchElementException();
                HeraldMessage m = next;
                next = null;
                return m;
            }
        };
    }

    void closeQuietly() {
        closed = true;
        for (NativeResource r : open) r.release();
        open.clear();
    }

    @Override public void close() throws JMSException {
        if (closed) return;
        closeQuietly();
        session.removeBrowser(this);
    }
}
