package io.herald.jms;

import java.io.Serializable;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import javax.jms.BytesMessage;
import javax.jms.Destination;
import javax.jms.IllegalStateException;
import javax.jms.InvalidDestinationException;
import javax.jms.JMSException;
import javax.jms.MapMessage;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageListener;
import javax.jms.MessageProducer;
import javax.jms.ObjectMessage;
import javax.jms.Queue;
import javax.jms.QueueBrowser;
import javax.jms.QueueReceiver;
import javax.jms.QueueSender;
import javax.jms.Session;
import javax.jms.StreamMessage;
import javax.jms.TemporaryQueue;
import javax.jms.TemporaryTopic;
import javax.jms.TextMessage;
import javax.jms.Topic;
import javax.jms.TopicPublisher;
import javax.jms.TopicSubscriber;

/**
 * A session, and the classic QueueSession and TopicSession. MessageListeners run on the
 * session's own delivery thread (a daemon thread started with the first listener), which
 * loops over the listening consumers calling the same native receive as
 * {@code receive()}; it sleeps in a native wait that the consumers' wake-up hooks end.
 * The transaction rules (commit, rollback, recover, what close does) belong to its
 * {@link TransactionContext}, picked from the session mode when the session is created.
 */
public class HeraldSession implements javax.jms.Session, javax.jms.QueueSession, javax.jms.TopicSession {
    final HeraldConnection connection;
    final int mode;
    /**
     * Whether a listener's message is acknowledged once onMessage returns (and the
     * session recovers when it throws): the core decides which modes do, asked once here.
     */
    final boolean acknowledgesAfterListener;
    private final int domain;
    private final NativeResource resource;
    /** The transaction rules of the session's mode; producers and consumers report their work to it. */
    final TransactionContext transaction;
    private final List<HeraldConsumer> consumers = new CopyOnWriteArrayList<>();
    private final List<HeraldProducer> producers = new CopyOnWriteArrayList<>();
    private final List<HeraldBrowser> browsers = new CopyOnWriteArrayList<>();
    /** Held while a MessageListener runs; stop() and close() take it to wait for the listener. */
    private final ReentrantLock deliveryLock = new ReentrantLock();
    private volatile Thread deliveryThread;
    private volatile ExecutorService completionExecutor;
    private volatile Thread completionThread;
    private volatile boolean closed;

    HeraldSession(HeraldConnection connection, long handle, int mode, int domain) {
        this.connection = connection;
        this.mode = mode;
        this.domain = domain;
        this.resource = new NativeResource(this, connection.provider, handle, "session");
        this.transaction = TransactionContext.forMode(mode, resource);
        this.acknowledgesAfterListener = connection.provider.acknowledgesAutomatically(handle);
    }

    long handle() throws JMSException {
        return resource.handle();
    }

    void checkClosed() throws IllegalStateException {
        if (closed || connection.isClosed()) throw new IllegalStateException("the session is closed");
    }

    private void checkDomain(int needed, String what) throws IllegalStateException {
        if (domain != HeraldConnection.GENERIC && domain != needed) {
            throw new IllegalStateException(what + " is not allowed on a " + (domain == HeraldConnection.QUEUE ? "QueueSession" : "TopicSession"));
        }
    }

    /** True on this session's delivery thread or completion thread. */
    boolean isCallbackThread() {
        Thread t = Thread.currentThread();
        return t == deliveryThread || t == completionThread;
    }

    private boolean onCompletionThread() {
        return Thread.currentThread() == completionThread;
    }

    // ---- message factories ----

    @Override public BytesMessage createBytesMessage() throws JMSException { checkClosed(); return new HeraldBytesMessage(); }
    @Override public MapMessage createMapMessage() throws JMSException { checkClosed(); return new HeraldMapMessage(); }
    @Override public Message createMessage() throws JMSException { checkClosed(); return new HeraldMessage(); }
    @Override public ObjectMessage createObjectMessage() throws JMSException { checkClosed(); return new HeraldObjectMessage(); }
    @Override public ObjectMessage createObjectMessage(Serializable o) throws JMSException {
        HeraldObjectMessage m = (HeraldObjectMessage) createObjectMessage();
        m.setObject(o);
        return m;
    }
    @Override public StreamMessage createStreamMessage() throws JMSException { checkClosed(); return new HeraldStreamMessage(); }
    @Override public TextMessage createTextMessage() throws JMSException { checkClosed(); return new HeraldTextMessage(); }
    @Override public TextMessage createTextMessage(String text) throws JMSException { checkClosed(); return new HeraldTextMessage(text); }

    // ---- transactions and acknowledgement ----

    @Override public boolean getTransacted() throws JMSException {
        checkClosed();
        return transaction.isTransacted();
    }

    @Override public int getAcknowledgeMode() throws JMSException {
        checkClosed();
        return mode;
    }

    @Override public void commit() throws JMSException {
        checkClosed();
        if (onCompletionThread()) throw new IllegalStateException("commit() may not be called from a CompletionListener");
        transaction.commit();
    }

    @Override public void rollback() throws JMSException {
        checkClosed();
        if (onCompletionThread()) throw new IllegalStateException("rollback() may not be called from a CompletionListener");
        transaction.rollback();
        wakeDelivery();
    }

    @Override public void recover() throws JMSException {
        checkClosed();
        transaction.recover();
        wakeDelivery();
    }

    /** Message.acknowledge(): acknowledges everything this session received (CLIENT_ACKNOWLEDGE only). */
    void acknowledgeFromMessage() throws JMSException {
        checkClosed();
        if (mode != Session.CLIENT_ACKNOWLEDGE) return;
        resource.run(Provider::acknowledge);
    }

    /**
     * AUTO/DUPS_OK: the held message is acknowledged (a listener returned, or receiveBody
     * read its body). close() waits for a running listener before releasing the native
     * session, so this still acknowledges when close() was called meanwhile.
     */
    void acknowledgeHeld() throws JMSException {
        completeHeld(Provider::acknowledgeHeld);
    }

    /** Listener delivery (AUTO/DUPS_OK): the listener threw, so its message is redelivered. */
    void listenerFailed() throws JMSException {
        recoverHeld();
        wakeDelivery();
    }

    /**
     * AUTO/DUPS_OK: the held message is not acknowledged but delivered again (a listener
     * threw, or receiveBody found a body of another type).
     */
    void recoverHeld() throws JMSException {
        completeHeld(Provider::recover);
    }

    private void completeHeld(NativeResource.VoidCall what) throws JMSException {
        try {
            resource.run(what);
        } catch (IllegalStateException e) {
            // The session closed meanwhile (a listener may close its own connection): its
            // unacknowledged messages were returned for redelivery when it closed.
            if (!isClosed()) throw e;
        }
    }

    // ---- producers ----

    @Override public MessageProducer createProducer(Destination destination) throws JMSException {
        checkClosed();
        HeraldDestination d = HeraldDestination.of(destination);
        long h = resource.call((p, s) -> p.createProducer(s, d == null ? null : d.uri()));
        HeraldProducer p = new HeraldProducer(this, h, d);
        producers.add(p);
        return p;
    }

    @Override public QueueSender createSender(Queue queue) throws JMSException {
        checkDomain(HeraldConnection.QUEUE, "createSender");
        return (QueueSender) createProducer(queue);
    }

    @Override public TopicPublisher createPublisher(Topic topic) throws JMSException {
        checkDomain(HeraldConnection.TOPIC, "createPublisher");
        return (TopicPublisher) createProducer(topic);
    }

    void removeProducer(HeraldProducer p) {
        producers.remove(p);
    }

    // ---- consumers ----

    HeraldConsumer consumer(Destination destination, String selector, boolean noLocal, String subscription,
            boolean durable, boolean shared) throws JMSException {
        checkClosed();
        if (destination == null) throw new InvalidDestinationException("the destination must not be null");
        HeraldDestination d = HeraldDestination.of(destination);
        if (d instanceof HeraldTemporaryQueue && ((HeraldTemporaryQueue) d).owner != null && ((HeraldTemporaryQueue) d).owner != connection) {
            throw new IllegalStateException("only the connection that created " + d + " may consume from it");
        }
        if (d instanceof HeraldTemporaryTopic && ((HeraldTemporaryTopic) d).owner != null && ((HeraldTemporaryTopic) d).owner != connection) {
            throw new IllegalStateException("only the connection that created " + d + " may consume from it");
        }
        String sel = selector == null || selector.trim().isEmpty() ? null : selector;
        long h = resource.call((p, s) -> p.createConsumer(s, d.uri(), sel, noLocal, subscription, durable, shared));
        HeraldConsumer c = new HeraldConsumer(this, h, d, sel, noLocal);
        consumers.add(c);
        return c;
    }

    @Override public MessageConsumer createConsumer(Destination d) throws JMSException { return consumer(d, null, false, null, false, false); }
    @Override public MessageConsumer createConsumer(Destination d, String selector) throws JMSException { return consumer(d, selector, false, null, false, false); }
    @Override public MessageConsumer createConsumer(Destination d, String selector, boolean noLocal) throws JMSException { return consumer(d, selector, noLocal, null, false, false); }

    private static void checkName(String name) throws JMSException {
        if (name == null || name.isEmpty()) throw new JMSException("a subscription name must not be null or empty");
    }

    private static void checkTopic(Topic topic) throws JMSException {
        if (topic == null) throw new InvalidDestinationException("the topic must not be null");
    }

    @Override public MessageConsumer createSharedConsumer(Topic topic, String name) throws JMSException { return createSharedConsumer(topic, name, null); }
    @Override public MessageConsumer createSharedConsumer(Topic topic, String name, String selector) throws JMSException {
        checkDomain(HeraldConnection.TOPIC, "createSharedConsumer");
        checkTopic(topic);
        checkName(name);
        return consumer(topic, selector, false, name, false, true);
    }

    @Override public TopicSubscriber createDurableSubscriber(Topic topic, String name) throws JMSException { return createDurableSubscriber(topic, name, null, false); }
    @Override public TopicSubscriber createDurableSubscriber(Topic topic, String name, String selector, boolean noLocal) throws JMSException {
        checkDomain(HeraldConnection.TOPIC, "createDurableSubscriber");
        checkTopic(topic);
        checkName(name);
        return consumer(topic, selector, noLocal, name, true, false);
    }
    @Override public MessageConsumer createDurableConsumer(Topic topic, String name) throws JMSException { return createDurableSubscriber(topic, name, null, false); }
    @Override public MessageConsumer createDurableConsumer(Topic topic, String name, String selector, boolean noLocal) throws JMSException { return createDurableSubscriber(topic, name, selector, noLocal); }
    @Override public MessageConsumer createSharedDurableConsumer(Topic topic, String name) throws JMSException { return createSharedDurableConsumer(topic, name, null); }
    @Override public MessageConsumer createSharedDurableConsumer(Topic topic, String name, String selector) throws JMSException {
        checkDomain(HeraldConnection.TOPIC, "createSharedDurableConsumer");
        checkTopic(topic);
        checkName(name);
        return consumer(topic, selector, false, name, true, true);
    }

    @Override public QueueReceiver createReceiver(Queue queue) throws JMSException { return createReceiver(queue, null); }
    @Override public QueueReceiver createReceiver(Queue queue, String selector) throws JMSException {
        checkDomain(HeraldConnection.QUEUE, "createReceiver");
        return consumer(queue, selector, false, null, false, false);
    }

    @Override public TopicSubscriber createSubscriber(Topic topic) throws JMSException { return createSubscriber(topic, null, false); }
    @Override public TopicSubscriber createSubscriber(Topic topic, String selector, boolean noLocal) throws JMSException {
        checkDomain(HeraldConnection.TOPIC, "createSubscriber");
        return consumer(topic, selector, noLocal, null, false, false);
    }

    void removeConsumer(HeraldConsumer c) {
        consumers.remove(c);
    }

    @Override public void unsubscribe(String name) throws JMSException {
        checkClosed();
        checkDomain(HeraldConnection.TOPIC, "unsubscribe");
        checkName(name);
        resource.run((p, h) -> p.unsubscribe(h, name));
    }

    // ---- browsers and destinations ----

    @Override public QueueBrowser createBrowser(Queue queue) throws JMSException { return createBrowser(queue, null); }
    @Override public QueueBrowser createBrowser(Queue queue, String selector) throws JMSException {
        checkClosed();
        checkDomain(HeraldConnection.QUEUE, "createBrowser");
        if (queue == null) throw new InvalidDestinationException("the queue must not be null");
        HeraldDestination d = HeraldDestination.of(queue);
        String sel = selector == null || selector.trim().isEmpty() ? null : selector;
        HeraldBrowser b = new HeraldBrowser(this, (Queue) d, sel);
        browsers.add(b);
        return b;
    }

    void removeBrowser(HeraldBrowser b) {
        browsers.remove(b);
    }

    @Override public Queue createQueue(String name) throws JMSException {
        checkClosed();
        checkDomain(HeraldConnection.QUEUE, "createQueue");
        if (name == null || name.isEmpty()) throw new InvalidDestinationException("a queue name must not be null or empty");
        return new HeraldQueue(name);
    }

    @Override public Topic createTopic(String name) throws JMSException {
        checkClosed();
        checkDomain(HeraldConnection.TOPIC, "createTopic");
        if (name == null || name.isEmpty()) throw new InvalidDestinationException("a topic name must not be null or empty");
        return new HeraldTopic(name);
    }

    @Override public TemporaryQueue createTemporaryQueue() throws JMSException {
        checkClosed();
        checkDomain(HeraldConnection.QUEUE, "createTemporaryQueue");
        return connection.createTemporaryQueue();
    }

    @Override public TemporaryTopic createTemporaryTopic() throws JMSException {
        checkClosed();
        checkDomain(HeraldConnection.TOPIC, "createTemporaryTopic");
        return connection.createTemporaryTopic();
    }

    // ---- MessageListener delivery ----

    /** Session-level listeners are an application-server facility (ServerSession). */
    @Override public MessageListener getMessageListener() throws JMSException {
        checkClosed();
        return null;
    }

    @Override public void setMessageListener(MessageListener listener) throws JMSException {
        checkClosed();
        throw new JMSException("Herald does not offer session-level MessageListeners; set the listener on a MessageConsumer");
    }

    @Override public void run() {
        throw new UnsupportedOperationException("Session.run() is for application servers; Herald does not offer it");
    }

    /** A consumer got or lost a listener. */
    void listenersChanged() throws JMSException {
        synchronized (this) {
            if (deliveryThread == null && !closed) {
                Thread t = new Thread(this::deliveryLoop, "herald-session-delivery");
                t.setDaemon(true);
                deliveryThread = t;
                t.start();
            }
        }
        wakeDelivery();
    }

    void wakeDelivery() {
        if (!resource.isReleased()) {
            try {
                resource.provider().wakeDelivery(resource.rawHandle());
            } catch (HeraldNativeException ignored) {
                // released meanwhile: the delivery loop sees the session closed
            }
        }
    }

    private void deliveryLoop() {
        while (!closed) {
            boolean delivered = false;
            if (connection.isStarted()) {
                for (HeraldConsumer c : consumers) {
                    if (c.listener() == null) continue;
                    deliveryLock.lock();
                    try {
                        if (closed || !connection.isStarted()) break;
                        delivered |= c.deliverOne();
                    } catch (JMSException e) {
                        if (!closed && !c.isClosed()) connection.onAsyncException(e);
                    } finally {
                        deliveryLock.unlock();
                    }
                }
            }
            if (!delivered && !closed) {
                try {
                    resource.provider().awaitDelivery(resource.handle(), 200);
                } catch (JMSException | HeraldNativeException e) {
                    return;
                }
            }
        }
    }

    /** Waits until no MessageListener of this session is running (for stop and close). */
    void awaitListenerIdle() {
        if (Thread.currentThread() == deliveryThread) return;
        deliveryLock.lock();
        deliveryLock.unlock();
    }

    // ---- asynchronous send ----

    void runCompletion(Runnable r) {
        ExecutorService e;
        synchronized (this) {
            e = completionExecutor;
            if (e == null) {
                e = Executors.newSingleThreadExecutor(task -> {
                    Thread t = new Thread(task, "herald-session-completion");
                    t.setDaemon(true);
                    completionThread = t;
                    return t;
                });
                completionExecutor = e;
            }
        }
        e.execute(r);
    }

    // ---- close ----

    @Override public void close() throws JMSException {
        if (closed) return;
        if (isCallbackThread()) {
            throw new IllegalStateException("a session may not be closed from its own MessageListener or CompletionListener");
        }
        closed = true;
        wakeDelivery();
        awaitListenerIdle();
        for (HeraldConsumer c : consumers) c.closeQuietly();
        for (HeraldProducer p : producers) p.markClosed();
        for (HeraldBrowser b : browsers) b.closeQuietly();
        consumers.clear();
        producers.clear();
        browsers.clear();
        ExecutorService e = completionExecutor;
        if (e != null) {
            e.shutdown();
            try {
                e.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
        }
        transaction.close();
        resource.release();
        connection.removeSession(this);
    }

    boolean isClosed() {
        return closed || connection.isClosed();
    }
}
